import { closest, distance } from 'fastest-levenshtein';

/**
 * The candidate closest to `word`, when it is close enough to be a slip of the keyboard rather than
 * another word: at most a third of the longer string's length apart, and at least one edit fewer than
 * rewriting the word whole. Case is ignored for the comparison.
 */
export function didYouMean(word: string, candidates: Iterable<string>): string | undefined {
  const list = [...candidates].filter((c) => c !== word);
  if (list.length === 0 || word === '') return undefined;
  const lower = list.map((c) => c.toLowerCase());
  // two neighbouring letters swapped ("sco" for "soc") count as one slip, not two edits
  const swapped = lower.findIndex((c) => isOneSwap(word.toLowerCase(), c));
  if (swapped >= 0) return list[swapped];
  const best = closest(word.toLowerCase(), lower);
  const d = distance(word.toLowerCase(), best);
  const limit = Math.max(1, Math.floor(Math.max(word.length, best.length) / 3));
  if (d > limit || d >= word.length) return undefined;
  return list[lower.indexOf(best)];
}

/** `; did you mean "x"?` or nothing, to append to a message. */
export function suggestion(word: string, candidates: Iterable<string>): string {
  const s = didYouMean(word, candidates);
  return s === undefined ? '' : `; did you mean "${s}"?`;
}

function isOneSwap(a: string, b: string): boolean {
  if (a.length !== b.length) return false;
  const diff: number[] = [];
  for (let i = 0; i < a.length && diff.length <= 2; i++) if (a[i] !== b[i]) diff.push(i);
  return diff.length === 2 && diff[1] === diff[0]! + 1 && a[diff[0]!] === b[diff[1]] && a[diff[1]] === b[diff[0]!];
}
