import type { Decision } from '@dmasim/core';
import type { LoadedBoard } from '../board/load';
import { runLoaded } from '../machine/run';
import type { PluginRegistry } from '../machine/plugins';
import { describeConstraints, explain, ordersOf, type Evidence, type OrderTest, type Precedence } from './explain';
import { runPath, runWithOrders, type PathResult } from './run-path';
import { outcomeSignature } from './signature';
import { OrderGraph } from './tree';

/** One unit of exploration work: an order prefix to follow (exhaustive), or a seeded shuffle (sample). */
export type ExploreTask = { readonly kind: 'path'; readonly prefix: readonly string[]; readonly seen: readonly string[] } | { readonly kind: 'sample'; readonly seed: number };

export type ExploreTaskResult = { readonly kind: 'path'; readonly result: PathResult } | { readonly kind: 'sample'; readonly seed: number; readonly signature: string; readonly outcome: string; readonly decisions: readonly Decision[] };

/** Runs tasks: in this thread, or on a pool of workers. Results come back in task order. */
export type TaskRunner = (tasks: readonly ExploreTask[]) => Promise<ExploreTaskResult[]>;

export interface ExploreOptions {
  /** Tests explanations by running counter-orders (in this thread); absent: explanations from the runs seen only. */
  readonly test?: OrderTest;
  /** 'all': every order, states merged; a number: that many seeded shuffles. */
  readonly orders: number | 'all';
  readonly seed?: number;
  /** Stop an exhaustive exploration after this many runs (it then reports `complete: false`). */
  readonly maxRuns?: number;
  readonly onProgress?: (done: number, queued: number) => void;
}

export interface OutcomeSummary {
  readonly signature: string;
  /** Orders that lead here (exhaustive: counted over the merged graph; sample: runs). */
  readonly count: number;
  /** The run outcome: ok, degraded or oops. */
  readonly outcome: string;
  readonly example: { readonly seed: number; readonly order: readonly string[]; readonly decisions: readonly Decision[] };
  /** The smallest set of "A before B" constraints seen to produce this outcome. */
  readonly explanation: readonly Precedence[];
  readonly explanationText: string;
}

export interface ExploreResult {
  readonly board: string;
  readonly mode: 'exhaustive' | 'sample';
  /** Orders covered: every interleaving (exhaustive) or the sample size. */
  readonly orders: number;
  /** Machines booted (fully or until they reached a known state). */
  readonly runs: number;
  /** Runs stopped early because their state had been explored already. */
  readonly pruned: number;
  readonly complete: boolean;
  readonly outcomes: readonly OutcomeSummary[];
}

export const DEFAULT_MAX_RUNS = 50_000;

/** Tests an explanation by running the board in this thread with the orders given. */
export function orderTester(loaded: LoadedBoard, registry: PluginRegistry): OrderTest {
  return (orders) => runWithOrders(loaded, registry, orders).signature;
}

/** Runs tasks in this thread. */
export function inlineRunner(loaded: LoadedBoard, registry: PluginRegistry): TaskRunner {
  return (tasks) => Promise.resolve(tasks.map((t) => runTask(loaded, registry, t)));
}

export function runTask(loaded: LoadedBoard, registry: PluginRegistry, t: ExploreTask): ExploreTaskResult {
  if (t.kind === 'path') return { kind: 'path', result: runPath(loaded, registry, t.prefix, new Set(t.seen)) };
  const { machine, report } = runLoaded(loaded, registry, { seed: t.seed, policy: { kind: 'shuffle', seed: t.seed } });
  return { kind: 'sample', seed: t.seed, signature: outcomeSignature(report), outcome: report.outcome, decisions: machine.core.sched.decisions };
}

function picksOf(decisions: readonly Decision[]): string[] {
  return decisions.filter((d) => d.candidates.length > 1).flatMap((d) => d.chosen);
}

interface Found {
  signature: string;
  outcome: string;
  seed: number;
  decisions: readonly Decision[];
}

function summarise(found: readonly Found[], counts: Map<string, number>, test?: OrderTest): OutcomeSummary[] {
  const evidence: Evidence[] = found.map((f) => ({ signature: f.signature, orders: ordersOf(f.decisions) }));
  const firsts = new Map<string, Found>();
  for (const f of found) if (!firsts.has(f.signature)) firsts.set(f.signature, f);
  return [...firsts.values()]
    .map((f) => {
      const explanation = explain({ signature: f.signature, orders: ordersOf(f.decisions) }, evidence, test);
      return {
        signature: f.signature,
        count: counts.get(f.signature) ?? 0,
        outcome: f.outcome,
        example: { seed: f.seed, order: picksOf(f.decisions), decisions: f.decisions },
        explanation,
        explanationText: describeConstraints(explanation),
      };
    })
    .sort((a, b) => b.count - a.count || a.signature.localeCompare(b.signature));
}

/**
 * Explores the orders a board's boot could take. Exhaustive mode walks the tree of choices in rounds
 * (all tasks of a round see the same set of explored states, so the result does not depend on how
 * many workers run them), merging orders that reach the same state; sample mode runs seeded shuffles.
 */
export async function explore(loaded: LoadedBoard, runner: TaskRunner, options: ExploreOptions): Promise<ExploreResult> {
  const seed = options.seed ?? loaded.board.kernel.probe.seed;
  if (options.orders !== 'all') {
    const tasks: ExploreTask[] = Array.from({ length: options.orders }, (_, i) => ({ kind: 'sample', seed: seed + i }));
    const found: Found[] = [];
    const counts = new Map<string, number>();
    const results = await runner(tasks);
    for (const r of results) {
      if (r.kind !== 'sample') continue;
      found.push({ signature: r.signature, outcome: r.outcome, seed: r.seed, decisions: r.decisions });
      counts.set(r.signature, (counts.get(r.signature) ?? 0) + 1);
    }
    options.onProgress?.(results.length, 0);
    return { board: loaded.board.name, mode: 'sample', orders: options.orders, runs: results.length, pruned: 0, complete: true, outcomes: summarise(found, counts, options.test) };
  }

  const maxRuns = options.maxRuns ?? DEFAULT_MAX_RUNS;
  const graph = new OrderGraph();
  const seen = new Set<string>();
  const found: Found[] = [];
  let frontier: { prefix: string[]; parent: { node: string; choice: string } | null }[] = [{ prefix: [], parent: null }];
  let runs = 0;
  let pruned = 0;
  let complete = true;
  while (frontier.length > 0) {
    if (runs + frontier.length > maxRuns) {
      frontier = frontier.slice(0, Math.max(0, maxRuns - runs));
      complete = false;
      if (frontier.length === 0) break;
    }
    const snapshot = [...seen];
    const round = frontier;
    frontier = [];
    const results = await runner(round.map((t) => ({ kind: 'path', prefix: t.prefix, seen: snapshot })));
    runs += results.length;
    options.onProgress?.(runs, frontier.length);
    round.forEach((task, i) => {
      const r = results[i];
      if (r?.kind !== 'path') return;
      let from = task.parent;
      const choices = [...task.prefix];
      for (const step of r.result.steps) {
        if (seen.has(step.key)) {
          // another task of this round reached the same state first
          graph.link(from, { node: step.key });
          pruned++;
          return;
        }
        seen.add(step.key);
        graph.addNode(step.key);
        graph.link(from, { node: step.key });
        for (const alt of step.remaining) {
          if (alt !== step.choice) frontier.push({ prefix: [...choices, alt], parent: { node: step.key, choice: alt } });
        }
        choices.push(step.choice);
        from = { node: step.key, choice: step.choice };
      }
      const end = r.result.end;
      if (end.kind === 'pruned') {
        graph.link(from, { node: end.key });
        pruned++;
      } else {
        graph.link(from, { outcome: end.signature });
        found.push({ signature: end.signature, outcome: end.outcome, seed, decisions: end.decisions });
      }
    });
  }
  const counts = graph.countOrders();
  const orders = [...counts.values()].reduce((a, b) => a + b, 0);
  return { board: loaded.board.name, mode: 'exhaustive', orders, runs, pruned, complete, outcomes: summarise(found, counts, options.test) };
}
