import type { Decision } from '@dmasim/core';
import type { LoadedBoard } from '../board/load';
import { Machine } from '../machine/machine';
import type { PluginRegistry } from '../machine/plugins';
import { outcomeSignature, stateSignature } from './signature';

/** A node of the order tree met beyond the task's prefix: the choice taken and the alternatives. */
export interface PathStep {
  readonly key: string;
  readonly point: string;
  readonly choice: string;
  readonly remaining: readonly string[];
}

export type PathEnd =
  | { readonly kind: 'outcome'; readonly signature: string; readonly outcome: string; readonly decisions: readonly Decision[] }
  | { readonly kind: 'pruned'; readonly key: string };

export interface PathResult {
  readonly steps: readonly PathStep[];
  readonly end: PathEnd;
}

class Pruned extends Error {
  constructor(readonly key: string) {
    super('pruned');
  }
}

/**
 * Runs one order: the first picks follow `prefix` (choices at every decision with more than one item
 * ready), later ones take the natural choice and are reported as steps. Reaching a state already in
 * `seen` stops the run early: its future is already being explored.
 */
export function runPath(loaded: LoadedBoard, registry: PluginRegistry, prefix: readonly string[], seen: ReadonlySet<string>): PathResult {
  const steps: PathStep[] = [];
  let picks = 0;
  let machine: Machine | null = null;
  // Set when the run reaches a known state; kept apart from the exception in case a notifier chain
  // (which isolates throwing callbacks, as the kernel's does) swallows it.
  let prunedAt: string | null = null;
  const chooser = (point: string, remaining: readonly string[]): string | undefined => {
    if (remaining.length < 2 || prunedAt !== null) return undefined;
    const i = picks++;
    if (i < prefix.length) {
      const want = prefix[i]!;
      if (!remaining.includes(want)) throw new Error(`explore: order prefix diverged at pick ${i}: ${want} is not among ${remaining.join(', ')}`);
      return want;
    }
    const key = `${point}|${[...remaining].sort().join(',')}|${machine === null ? '' : stateSignature(machine)}`;
    if (seen.has(key)) {
      prunedAt = key;
      throw new Pruned(key);
    }
    const choice = remaining[0]!;
    steps.push({ key, point, choice, remaining: [...remaining] });
    return choice;
  };
  try {
    machine = new Machine(loaded, { registry, chooser });
    const report = machine.run();
    if (prunedAt !== null) return { steps, end: { kind: 'pruned', key: prunedAt } };
    return { steps, end: { kind: 'outcome', signature: outcomeSignature(report), outcome: report.outcome, decisions: machine.core.sched.decisions } };
  } catch (e) {
    if (e instanceof Pruned) return { steps, end: { kind: 'pruned', key: e.key } };
    throw e;
  }
}

/**
 * Runs the board with the order to take at each decision given (`point#n` → items); decisions not
 * given, and items not named, follow the natural order. Used to test explanations.
 */
export function runWithOrders(loaded: LoadedBoard, registry: PluginRegistry, orders: ReadonlyMap<string, readonly string[]>): { signature: string; decisions: readonly Decision[] } {
  const occurrence = new Map<string, number>();
  const inProgress = new Map<string, boolean>();
  const current = new Map<string, string>();
  const chooser = (point: string, remaining: readonly string[]): string | undefined => {
    if (inProgress.get(point) !== true) {
      const n = occurrence.get(point) ?? 0;
      occurrence.set(point, n + 1);
      current.set(point, `${point}#${n}`);
    }
    inProgress.set(point, remaining.length > 1);
    const want = orders.get(current.get(point)!);
    return want?.find((k) => remaining.includes(k));
  };
  const machine = new Machine(loaded, { registry, chooser });
  const report = machine.run();
  return { signature: outcomeSignature(report), decisions: machine.core.sched.decisions };
}
