import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { explore, inlineRunner, orderTester, type ExploreResult } from '../explore/explore';
import { defaultWorkers, workerPool } from '../explore/pool';
import { loadBoardWithPlugins } from '../machine/run';
import { makeTrace, writeTrace } from '../trace/trace';
import type { CliIo } from './program';

export interface ExploreCommandOptions {
  readonly orders: number | 'all';
  readonly workers?: number;
  readonly seed?: number;
  readonly json: boolean;
  /** Write one reproducing trace per outcome into this folder. */
  readonly traces?: string;
  /** `--set path=value` overrides. */
  readonly overrides?: readonly string[];
}

/** The DESIGN contract's JSON form (with the extra fields explore knows). */
export function exploreJson(r: ExploreResult): unknown {
  return {
    board: r.board,
    mode: r.mode,
    orders: r.orders,
    runs: r.runs,
    pruned: r.pruned,
    complete: r.complete,
    outcomes: r.outcomes.map((o) => ({
      signature: o.signature,
      count: o.count,
      outcome: o.outcome,
      example: { seed: o.example.seed, order: o.example.order },
      explanation: o.explanationText,
      constraints: o.explanation,
    })),
  };
}

export function renderExplore(r: ExploreResult): string {
  const out: string[] = [];
  out.push(`board ${r.board}: ${r.mode} exploration, ${r.orders} orders, ${r.runs} runs (${r.pruned} stopped at a state already explored)${r.complete ? '' : ', INCOMPLETE (run cap reached)'}`);
  out.push(`${r.outcomes.length} outcome${r.outcomes.length === 1 ? '' : 's'}:`);
  r.outcomes.forEach((o, i) => {
    out.push('');
    out.push(`#${i + 1}  ${o.count} order${o.count === 1 ? '' : 's'}  ${o.outcome}`);
    out.push(`    ${o.signature}`);
    out.push(`    happens when: ${o.explanationText}`);
    out.push(`    example order: ${o.example.order.join(' ') || '(no choices)'}`);
  });
  return `${out.join('\n')}\n`;
}

/** `dmasim explore`: runs the orders on worker threads and groups the outcomes. */
export async function runExploreCommand(io: CliIo, ref: string, opts: ExploreCommandOptions): Promise<void> {
  const { loaded, registry } = await loadBoardWithPlugins(ref, { overrides: opts.overrides ?? [] });
  const workers = opts.workers ?? defaultWorkers();
  const pool = workers > 1 ? workerPool(loaded.file, workers, loaded.overrides) : null;
  const runner = pool?.runner ?? inlineRunner(loaded, registry);
  const progress = io.isTTY === true && !opts.json;
  try {
    const result = await explore(loaded, runner, {
      orders: opts.orders,
      test: orderTester(loaded, registry),
      ...(opts.seed !== undefined ? { seed: opts.seed } : {}),
      ...(progress ? { onProgress: (done: number, queued: number) => io.err(`\r  explored ${done} runs, ${queued} queued   `) } : {}),
    });
    if (progress) io.err('\n');
    if (opts.traces !== undefined) {
      mkdirSync(opts.traces, { recursive: true });
      result.outcomes.forEach((o, i) => {
        const policy = { kind: 'natural' } as const;
        writeTrace(join(opts.traces!, `outcome-${i + 1}.trace.json`), makeTrace(loaded, o.example.seed, policy, o.example.decisions));
      });
    }
    io.out(opts.json ? `${JSON.stringify(exploreJson(result), null, 2)}\n` : renderExplore(result));
  } finally {
    await pool?.close();
  }
}
