import type { Decision } from '@dmasim/core';
import { Bitset } from './bitset';

/** "before comes before after" at one decision (its point, and `#n` from its second occurrence on). */
export interface Precedence {
  readonly decision: string;
  readonly before: string;
  readonly after: string;
}

/** The order taken at each decision with a real choice, by decision label. */
export type OrderChoices = ReadonlyMap<string, readonly string[]>;

/** An outcome's condition: a disjunction of conjunctions of precedences. */
export interface Explanation {
  /** True when the condition was checked against every order (exhaustive and complete). */
  readonly exact: boolean;
  readonly text: string;
  readonly terms: readonly (readonly Precedence[])[];
}

/** `device-add` for a point's first decision with a choice, `device-add#1` for its second, ... */
export function decisionLabel(point: string, n: number): string {
  return n === 0 ? point : `${point}#${n}`;
}

/** The choices of a recorded run, labelled as the exploration graph labels them. */
export function ordersOf(decisions: readonly Decision[]): Map<string, readonly string[]> {
  const seen = new Map<string, number>();
  const out = new Map<string, readonly string[]>();
  for (const d of decisions) {
    if (d.candidates.length < 2) continue;
    const n = seen.get(d.point) ?? 0;
    seen.set(d.point, n + 1);
    out.set(decisionLabel(d.point, n), d.chosen);
  }
  return out;
}

/** Whether an order satisfies one precedence (both items at that decision, in that order). */
export function holds(orders: OrderChoices, c: Precedence): boolean {
  const order = orders.get(c.decision);
  if (order === undefined) return false;
  const a = order.indexOf(c.before);
  const b = order.indexOf(c.after);
  return a >= 0 && b >= 0 && a < b;
}

/** Whether an order satisfies a disjunction of conjunctions. */
export function satisfies(orders: OrderChoices, terms: readonly (readonly Precedence[])[]): boolean {
  return terms.some((t) => t.every((c) => holds(orders, c)));
}

/**
 * Counts orders for the condition search, over whatever holds the orders (a list of sampled orders,
 * or the merged graph of every order).
 */
export interface OrderCounter {
  /** Every precedence that is true in some order: what a condition may use. */
  literals(): readonly Precedence[];
  /**
   * `pos`: orders with `outcome` that satisfy every precedence of `conj` and no conjunction of
   * `covered`; `neg`: orders with another outcome that satisfy `conj`.
   */
  count(outcome: string, conj: readonly Precedence[], covered: readonly (readonly Precedence[])[]): { readonly pos: number; readonly neg: number };
}

/** Most conjunctions one explanation may have before the search gives up. */
export const MAX_TERMS = 24;

/**
 * A condition over precedences that holds for exactly the orders with `outcome`: one conjunction
 * when one exists, otherwise a disjunction of few, built greedily (each literal excludes as many
 * other-outcome orders as it can while keeping this outcome's orders), every literal and
 * conjunction that is not needed removed, and the result checked against every order. Null when
 * the search finds none (orders of one deterministic machine always have one: two orders that agree
 * on every decision are the same run).
 */
export function separate(c: OrderCounter, outcome: string): Precedence[][] | null {
  const total = c.count(outcome, [], []);
  if (total.pos === 0) return null;
  if (total.neg === 0) return [[]];
  const useful = c
    .literals()
    .map((l) => ({ l, n: c.count(outcome, [l], []) }))
    .filter((x) => x.n.pos > 0 && x.n.neg < total.neg);
  const minimise = (conj: Precedence[]): Precedence[] => {
    let kept = conj;
    for (const l of [...conj].reverse()) {
      const without = kept.filter((k) => k !== l);
      if (c.count(outcome, without, []).neg === 0) kept = without;
    }
    return kept;
  };
  const build = (cands: readonly Precedence[], covered: readonly Precedence[][]): Precedence[] | null => {
    const conj: Precedence[] = [];
    let cur = c.count(outcome, conj, covered);
    while (cur.neg > 0) {
      let best: { l: Precedence; n: { pos: number; neg: number }; score: number } | null = null;
      for (const l of cands) {
        if (conj.includes(l)) continue;
        const n = c.count(outcome, [...conj, l], covered);
        const excluded = cur.neg - n.neg;
        if (excluded === 0 || n.pos === 0) continue;
        const score = excluded / (cur.pos - n.pos + 1);
        if (best === null || score > best.score) best = { l, n, score };
      }
      if (best === null) return null;
      conj.push(best.l);
      cur = best.n;
    }
    return minimise(conj);
  };

  const single = build(
    useful.filter((x) => x.n.pos === total.pos).map((x) => x.l),
    [],
  );
  let terms: Precedence[][] = [];
  if (single !== null) terms = [single];
  else {
    const cands = useful.map((x) => x.l);
    while (c.count(outcome, [], terms).pos > 0) {
      if (terms.length >= MAX_TERMS) return null;
      const conj = build(cands, terms);
      if (conj === null) return null;
      terms.push(conj);
    }
    // drop conjunctions the others already cover, the smallest first
    const coverage = (t: readonly Precedence[]): number => c.count(outcome, t, []).pos;
    for (const t of [...terms].sort((a, b) => coverage(a) - coverage(b))) {
      const others = terms.filter((o) => o !== t);
      if (c.count(outcome, [], others).pos === 0) terms = others;
    }
  }
  // the check: no other outcome satisfies any conjunction, and together they cover every order
  if (c.count(outcome, [], terms).pos !== 0 || terms.some((t) => c.count(outcome, t, []).neg !== 0)) return null;
  const coverage = new Map(terms.map((t) => [t, c.count(outcome, t, []).pos]));
  return terms.sort((a, b) => coverage.get(b)! - coverage.get(a)!);
}

/** Sorts each conjunction's precedences by decision, then as the example order has them. */
export function orderTerms(terms: readonly (readonly Precedence[])[], decisions: readonly string[], example: OrderChoices): Precedence[][] {
  const rank = (l: Precedence): number => {
    const i = decisions.indexOf(l.decision);
    return i < 0 ? decisions.length : i;
  };
  const at = (l: Precedence, item: string): number => example.get(l.decision)?.indexOf(item) ?? -1;
  return terms.map((t) => [...t].sort((a, b) => rank(a) - rank(b) || at(a, a.before) - at(b, b.before) || at(a, a.after) - at(b, b.after)));
}

/** Pairs of items that meet at more than one decision: their precedences name the decision. */
export function ambiguousPairs(literals: readonly Precedence[]): Set<string> {
  const where = new Map<string, Set<string>>();
  for (const l of literals) {
    const key = pairKey(l);
    const s = where.get(key) ?? new Set<string>();
    s.add(l.decision);
    where.set(key, s);
  }
  return new Set([...where].filter(([, s]) => s.size > 1).map(([k]) => k));
}

/** Code-unit string order: the same in every locale (never localeCompare in ordering or hashing). */
export const compare = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0);
const pairKey = (l: Precedence): string => [l.before, l.after].sort(compare).join('\u0000');

interface Literal extends Precedence {
  readonly bits: Bitset;
}

/**
 * A list of orders with their outcomes (the sampled orders), each "A before B at D" literal held as
 * the set of orders it is true in, so a candidate condition is counted with a few word operations.
 */
export class OrderSet implements OrderCounter {
  private readonly byKey = new Map<string, Literal>();
  private readonly outcomeIds = new Map<string, number>();
  private readonly outcomeOf: Int32Array;
  private n = 0;

  constructor(readonly capacity: number) {
    this.outcomeOf = new Int32Array(capacity);
  }

  get size(): number {
    return this.n;
  }

  /** Adds one order and the outcome it gave. */
  add(orders: OrderChoices, outcome: string): void {
    if (this.n >= this.capacity) throw new RangeError(`OrderSet: more than ${this.capacity} orders`);
    const i = this.n++;
    let id = this.outcomeIds.get(outcome);
    if (id === undefined) {
      id = this.outcomeIds.size;
      this.outcomeIds.set(outcome, id);
    }
    this.outcomeOf[i] = id;
    for (const [decision, order] of orders) {
      for (let a = 0; a < order.length; a++) {
        for (let b = a + 1; b < order.length; b++) this.literal(decision, order[a]!, order[b]!).bits.set(i);
      }
    }
  }

  /** Orders that gave each outcome. */
  counts(): Map<string, number> {
    const byId = new Array<number>(this.outcomeIds.size).fill(0);
    for (let i = 0; i < this.n; i++) byId[this.outcomeOf[i]!]!++;
    return new Map([...this.outcomeIds].map(([o, id]) => [o, byId[id]!]));
  }

  literals(): readonly Precedence[] {
    return [...this.byKey.values()].map(({ decision, before, after }) => ({ decision, before, after }));
  }

  count(outcome: string, conj: readonly Precedence[], covered: readonly (readonly Precedence[])[]): { pos: number; neg: number } {
    const all = Bitset.prefix(this.capacity, this.n);
    const pos = new Bitset(this.capacity);
    const id = this.outcomeIds.get(outcome);
    for (let i = 0; i < this.n; i++) if (this.outcomeOf[i] === id) pos.set(i);
    const cover = (t: readonly Precedence[]): Bitset => t.reduce((acc, l) => acc.and(this.byKey.get(keyOf(l))?.bits ?? new Bitset(this.capacity)), all);
    const mine = cover(conj);
    const others = covered.reduce((acc, t) => acc.or(cover(t)), new Bitset(this.capacity));
    return { pos: mine.and(pos).andNotCount(others), neg: mine.andNotCount(pos) };
  }

  private literal(decision: string, before: string, after: string): Literal {
    const key = keyOf({ decision, before, after });
    let l = this.byKey.get(key);
    if (l === undefined) {
      l = { decision, before, after, bits: new Bitset(this.capacity) };
      this.byKey.set(key, l);
    }
    return l;
  }
}

const keyOf = (l: Precedence): string => `${l.decision}\u0000${l.before}\u0000${l.after}`;

/** `smmu_usb before ohci and ohci before ehci`, `(a before b) or (c before d and ...)`, `any order`. */
export function describeTerms(terms: readonly (readonly Precedence[])[], ambiguous: ReadonlySet<string> = new Set()): string {
  const lit = (c: Precedence): string => {
    const named = ambiguous.has(pairKey(c));
    return `${c.before} before ${c.after}${named ? ` (${c.decision})` : ''}`;
  };
  if (terms.length === 0) return 'never';
  if (terms.some((t) => t.length === 0)) return 'any order';
  const parts = terms.map((t) => t.map(lit).join(' and '));
  return parts.length === 1 ? parts[0]! : parts.map((p, i) => (terms[i]!.length > 1 ? `(${p})` : p)).join(' or ');
}
