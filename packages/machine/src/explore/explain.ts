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

/** Runs the board with these orders per decision and returns the outcome signature. */
export type OrderTest = (orders: ReadonlyMap<string, readonly string[]>) => string;

/** Most tests one explanation may run. */
export const MAX_EXPLAIN_TESTS = 300;

/**
 * An order for each of the example's decisions that keeps the constraints and otherwise reverses the
 * example as far as it can: the harshest test that the constraints alone decide the outcome.
 */
export function counterOrders(example: ReadonlyMap<string, readonly string[]>, cs: readonly Precedence[]): Map<string, string[]> {
  const out = new Map<string, string[]>();
  for (const [decision, order] of example) {
    const mine = cs.filter((c) => c.decision === decision);
    const pending = new Set(order);
    const result: string[] = [];
    while (pending.size > 0) {
      // the ready item (no unmet "before" constraint) that comes latest in the example
      const ready = [...pending].filter((item) => !mine.some((c) => c.after === item && pending.has(c.before)));
      const pick = ready.sort((a, b) => order.indexOf(b) - order.indexOf(a))[0] ?? [...pending][0]!;
      result.push(pick);
      pending.delete(pick);
    }
    out.set(decision, result);
  }
  return out;
}

/**
 * The smallest set of "A before B" constraints, taken from the example's order and shrunk one by one,
 * such that every run seen that satisfies them ended with this outcome and so does a run that keeps
 * them while reversing everything else (when `test` is given). Constraints between neighbours in the
 * example are tried first: they are usually implied by longer ones, and what remains reads as the
 * direct cause ("sata before smmu0", not a chain through the items in between).
 */
export function explain(example: Evidence, evidence: readonly Evidence[], test?: OrderTest): Precedence[] {
  const all: (Precedence & { distance: number })[] = [];
  for (const [decision, order] of example.orders) {
    for (let i = 0; i < order.length; i++) {
      for (let j = i + 1; j < order.length; j++) all.push({ decision, before: order[i]!, after: order[j]!, distance: j - i });
    }
  }
  let tests = 0;
  const sufficient = (cs: readonly Precedence[]): boolean => {
    if (!evidence.every((e) => e.signature === example.signature || !cs.every((c) => holds(e, c)))) return false;
    if (test === undefined || tests >= MAX_EXPLAIN_TESTS) return true;
    tests++;
    return test(counterOrders(example.orders, cs)) === example.signature;
  };
  let kept = [...all].sort((a, b) => a.distance - b.distance || a.decision.localeCompare(b.decision) || a.before.localeCompare(b.before) || a.after.localeCompare(b.after));
  if (!evidence.every((e) => e.signature === example.signature || !kept.every((c) => holds(e, c)))) return kept.map(({ decision, before, after }) => ({ decision, before, after }));
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
