import type { Decision } from '@dmasim/core';

/** "a before b" at one decision (point and its occurrence number in the run). */
export interface Precedence {
  readonly decision: string;
  readonly before: string;
  readonly after: string;
}

/** A finished run as evidence: its outcome and, per decision, the order taken. */
export interface Evidence {
  readonly signature: string;
  readonly orders: ReadonlyMap<string, readonly string[]>;
}

/** Decisions keyed `point#n` (n-th decision at that point), for decisions with a real choice. */
export function ordersOf(decisions: readonly Decision[]): Map<string, readonly string[]> {
  const seen = new Map<string, number>();
  const out = new Map<string, readonly string[]>();
  for (const d of decisions) {
    const n = seen.get(d.point) ?? 0;
    seen.set(d.point, n + 1);
    if (d.candidates.length > 1) out.set(`${d.point}#${n}`, d.chosen);
  }
  return out;
}

function holds(e: Evidence, c: Precedence): boolean {
  const order = e.orders.get(c.decision);
  if (order === undefined) return false;
  const a = order.indexOf(c.before);
  const b = order.indexOf(c.after);
  return a >= 0 && b >= 0 && a < b;
}

/**
 * The smallest set of "A before B" constraints, taken from the example's order and shrunk one by one,
 * such that every run seen that satisfies them all ended with this outcome. Constraints between items
 * far apart in the example are dropped first, so what remains is what really decides.
 */
export function explain(example: Evidence, evidence: readonly Evidence[]): Precedence[] {
  const all: (Precedence & { distance: number })[] = [];
  for (const [decision, order] of example.orders) {
    for (let i = 0; i < order.length; i++) {
      for (let j = i + 1; j < order.length; j++) all.push({ decision, before: order[i]!, after: order[j]!, distance: j - i });
    }
  }
  const sufficient = (cs: readonly Precedence[]): boolean => evidence.every((e) => e.signature === example.signature || !cs.every((c) => holds(e, c)));
  let kept = [...all].sort((a, b) => b.distance - a.distance || a.decision.localeCompare(b.decision) || a.before.localeCompare(b.before) || a.after.localeCompare(b.after));
  if (!sufficient(kept)) return kept.map(({ decision, before, after }) => ({ decision, before, after }));
  for (const c of [...kept]) {
    const without = kept.filter((k) => k !== c);
    if (sufficient(without)) kept = without;
  }
  return kept.map(({ decision, before, after }) => ({ decision, before, after }));
}

/** `sata before smmu0 (device-add)`, or `any order` for an empty set. */
export function describeConstraints(cs: readonly Precedence[]): string {
  if (cs.length === 0) return 'any order';
  return cs.map((c) => `${c.before} before ${c.after} (${c.decision.replace(/#0$/, '')})`).join(' and ');
}
