import type { LoadedBoard } from '../board/load';
import { runLoaded } from '../machine/run';
import type { PluginRegistry } from '../machine/plugins';
import type { Problem } from '../report/types';
import { ambiguousPairs, compare, describeTerms, orderTerms, ordersOf, OrderSet, separate, type Explanation, type OrderCounter } from './explain';
import { runPath, summariseRun, type ExampleDevice, type PathResult, type RunSummary } from './run-path';
import { OrderGraph } from './tree';

/** One unit of exploration work: an order prefix to follow (exhaustive), or a seeded shuffle (sample). */
export type ExploreTask = { readonly kind: 'path'; readonly prefix: readonly string[]; readonly seen: readonly string[] } | { readonly kind: 'sample'; readonly seed: number };

export type ExploreTaskResult = { readonly kind: 'path'; readonly result: PathResult } | ({ readonly kind: 'sample'; readonly seed: number } & RunSummary);

/** Runs tasks: in this thread, or on a pool of workers. Results come back in task order. */
export type TaskRunner = (tasks: readonly ExploreTask[]) => Promise<ExploreTaskResult[]>;

export interface ExploreProgress {
  /** Runs finished. */
  readonly done: number;
  /** Runs known so far (finished and queued); the final total for a sample. */
  readonly total: number;
}

export interface ExploreOptions {
  /** 'all': every order, states merged; a number: that many seeded shuffles. */
  readonly orders: number | 'all';
  readonly seed?: number;
  /** Stop an exhaustive exploration after this many runs (it then reports `complete: false`). */
  readonly maxRuns?: number;
  readonly onProgress?: (p: ExploreProgress) => void;
}

/** A decision of the example order: its label and the items in the order taken. */
export interface ExampleDecision {
  readonly decision: string;
  readonly order: readonly string[];
}

export interface OutcomeSummary {
  readonly signature: string;
  /** Orders that lead here (exhaustive: counted over the merged graph; sample: runs). */
  readonly count: number;
  /** The run outcome: ok, degraded or oops. */
  readonly outcome: string;
  /** The example run's problems (with its concrete numbers). */
  readonly problems: readonly Problem[];
  readonly example: {
    readonly seed: number;
    /** Every pick of the example, in order. */
    readonly order: readonly string[];
    /** The same picks by decision. */
    readonly decisions: readonly ExampleDecision[];
    /** The devices with the concrete context banks, domains and groups of this run. */
    readonly devices: readonly ExampleDevice[];
    /** The scheduler's record, for writing a reproducing trace. */
    readonly trace: RunSummary['decisions'];
  };
  readonly explanation: Explanation;
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
/** Sample runs per batch handed to the runner (progress is reported between batches). */
const SAMPLE_BATCH = 256;

/** Runs tasks in this thread. */
export function inlineRunner(loaded: LoadedBoard, registry: PluginRegistry): TaskRunner {
  return (tasks) => Promise.resolve(tasks.map((t) => runTask(loaded, registry, t)));
}

export function runTask(loaded: LoadedBoard, registry: PluginRegistry, t: ExploreTask): ExploreTaskResult {
  if (t.kind === 'path') return { kind: 'path', result: runPath(loaded, registry, t.prefix, new Set(t.seen)) };
  const { machine, report } = runLoaded(loaded, registry, { seed: t.seed, policy: { kind: 'shuffle', seed: t.seed } });
  return { kind: 'sample', seed: t.seed, ...summariseRun(report, machine.core.sched.decisions) };
}

interface Found extends RunSummary {
  readonly seed: number;
}

function exampleOf(f: Found): OutcomeSummary['example'] {
  const choices = f.decisions.filter((d) => d.candidates.length > 1);
  return {
    seed: f.seed,
    order: choices.flatMap((d) => d.chosen),
    decisions: [...ordersOf(f.decisions)].map(([decision, order]) => ({ decision, order })),
    devices: f.devices,
    trace: f.decisions,
  };
}

/**
 * One summary per outcome, most frequent first. `counter` counts the orders the explanations are
 * checked against: every order (exhaustive, complete: exact), or the orders run (sample).
 */
function summarise(found: readonly Found[], counter: OrderCounter, counts: ReadonlyMap<string, number>, exact: boolean, lead: string): OutcomeSummary[] {
  const firsts = new Map<string, Found>();
  for (const f of found) if (!firsts.has(f.signature)) firsts.set(f.signature, f);
  const literals = counter.literals();
  const ambiguous = ambiguousPairs(literals);
  const decisions = [...new Set(literals.map((l) => l.decision))];
  return [...firsts.values()]
    .map((f) => {
      const found = separate(counter, f.signature);
      const explanation: Explanation =
        found === null
          ? { exact: false, text: `${lead}: no condition on the order alone was found`, terms: [] }
          : (() => {
              const terms = orderTerms(found, decisions, ordersOf(f.decisions));
              return { exact, text: `${lead}: ${describeTerms(terms, ambiguous)}`, terms };
            })();
      return { signature: f.signature, count: counts.get(f.signature) ?? 0, outcome: f.outcome, problems: f.problems, example: exampleOf(f), explanation };
    })
    .sort((a, b) => b.count - a.count || compare(a.signature, b.signature));
}

async function sample(loaded: LoadedBoard, runner: TaskRunner, orders: number, seed: number, onProgress?: (p: ExploreProgress) => void): Promise<ExploreResult> {
  const found: Found[] = [];
  const set = new OrderSet(orders);
  for (let start = 0; start < orders; start += SAMPLE_BATCH) {
    const tasks: ExploreTask[] = Array.from({ length: Math.min(SAMPLE_BATCH, orders - start) }, (_, i) => ({ kind: 'sample', seed: seed + start + i }));
    for (const r of await runner(tasks)) {
      if (r.kind !== 'sample') continue;
      const { kind: _kind, ...run } = r;
      found.push(run);
      set.add(ordersOf(r.decisions), r.signature);
    }
    onProgress?.({ done: found.length, total: orders });
  }
  const lead = `in the ${orders} sampled order${orders === 1 ? '' : 's'}, happens when`;
  return { board: loaded.board.name, mode: 'sample', orders, runs: found.length, pruned: 0, complete: true, outcomes: summarise(found, set, set.counts(), false, lead) };
}

/**
 * Explores the orders a board's boot could take. Exhaustive mode walks the tree of choices in rounds
 * (all tasks of a round see the same set of explored states, so the result does not depend on how
 * many workers run them), merging orders that reach the same state; sample mode runs seeded shuffles.
 */
export async function explore(loaded: LoadedBoard, runner: TaskRunner, options: ExploreOptions): Promise<ExploreResult> {
  const seed = options.seed ?? loaded.board.kernel.probe.seed;
  if (options.orders !== 'all') return sample(loaded, runner, options.orders, seed, options.onProgress);

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
        graph.addNode(step.key, step.decision, step.remaining);
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
        const { kind: _kind, ...run } = end;
        found.push({ ...run, seed });
      }
    });
    options.onProgress?.({ done: runs, total: runs + frontier.length });
  }
  const counts = graph.countOrders();
  const orders = [...counts.values()].reduce((a, b) => a + b, 0);
  // the merged graph counts every order's outcome: explanations are checked against all of them
  const lead = complete ? 'happens exactly when' : `in the ${orders} orders explored before the run cap, happens when`;
  return { board: loaded.board.name, mode: 'exhaustive', orders, runs, pruned, complete, outcomes: summarise(found, graph.counter(), counts, complete, lead) };
}
