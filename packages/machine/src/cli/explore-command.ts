import { mkdirSync, writeFileSync } from 'node:fs';
import { join, relative, dirname } from 'node:path';
import { renderExploreHtml } from '../html';
import { explore, inlineRunner, type ExploreProgress, type ExploreResult, type OutcomeSummary } from '../explore/explore';
import { defaultWorkers, workerPool } from '../explore/pool';
import type { ExampleDevice } from '../explore/run-path';
import { loadBoardWithPlugins } from '../machine/run';
import { renderProblems } from '../report/human';
import { fsReason, makeTrace, TraceError, writeTrace } from '../trace/trace';
import type { CliIo } from './program';

export interface ExploreCommandOptions {
  readonly orders: number | 'all';
  readonly workers?: number;
  readonly seed?: number;
  readonly json: boolean;
  /** No progress on stderr. */
  readonly quiet?: boolean;
  /** Write one reproducing trace per outcome into this folder. */
  readonly traces?: string;
  /** Write the HTML page of the outcomes to this file. */
  readonly html?: string;
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
      problems: o.problems,
      example: { seed: o.example.seed, order: o.example.order, decisions: o.example.decisions, devices: o.example.devices },
      explanation: o.explanation,
    })),
  };
}

/** A device's columns as outcomes are compared (no ids), and as they are shown (with this run's ids). */
interface Column {
  readonly title: string;
  readonly same: (d: ExampleDevice, all: readonly ExampleDevice[]) => string;
  readonly show: (d: ExampleDevice, all: readonly ExampleDevice[]) => string;
}

const peers = (d: ExampleDevice, all: readonly ExampleDevice[]): string =>
  d.domain === null
    ? '-'
    : all
        .filter((o) => o !== d && o.iommu === d.iommu && o.domain === d.domain)
        .map((o) => o.name)
        .join(',') || '-';

const COLUMNS: readonly Column[] = [
  { title: 'state', same: (d) => d.state, show: (d) => d.state },
  { title: 'dma ops', same: (d) => d.dmaOps, show: (d) => d.dmaOps },
  { title: 'domain', same: (d) => d.domainType ?? '-', show: (d) => (d.domain === null ? '-' : `${d.domain} ${d.domainType ?? ''}`.trim()) },
  { title: 'context bank', same: (d) => (d.domain === null ? '-' : d.contextBank === null ? 'none' : 'yes'), show: (d) => (d.domain === null ? '-' : d.contextBank === null ? 'none' : String(d.contextBank)) },
  { title: 'shares domain with', same: peers, show: peers },
];

/** The columns and devices that differ between outcomes (everything else is the same in all). */
function differing(outcomes: readonly OutcomeSummary[]): { columns: Column[]; devices: string[] } {
  const names = outcomes[0]?.example.devices.map((d) => d.name) ?? [];
  const varies = (c: Column, name: string): boolean =>
    new Set(
      outcomes.map((o) => {
        const d = o.example.devices.find((x) => x.name === name);
        return d === undefined ? '' : c.same(d, o.example.devices);
      }),
    ).size > 1;
  const columns = COLUMNS.filter((c) => names.some((n) => varies(c, n)));
  const devices = names.filter((n) => columns.some((c) => varies(c, n)));
  return { columns, devices };
}

function table(rows: readonly (readonly string[])[]): string[] {
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => r[i]!.length)));
  return rows.map((r) => r.map((c, i) => c.padEnd(widths[i]!)).join('  ').trimEnd());
}

export function renderExplore(r: ExploreResult): string {
  const out: string[] = [];
  out.push(`board ${r.board}: ${r.mode} exploration, ${r.orders} orders, ${r.runs} runs (${r.pruned} stopped at a state already explored)${r.complete ? '' : ', INCOMPLETE (run cap reached)'}`);
  out.push(`${r.outcomes.length} outcome${r.outcomes.length === 1 ? '' : 's'}:`);
  const { columns, devices } = differing(r.outcomes);
  r.outcomes.forEach((o, i) => {
    out.push('');
    out.push(`#${i + 1}  ${o.count} of ${r.orders} order${r.orders === 1 ? '' : 's'}  ${o.outcome.toUpperCase()}`);
    if (o.problems.length > 0) out.push(...renderProblems(o.problems).map((l) => `    ${l}`));
    if (columns.length > 0 && devices.length > 0) {
      const rows = [['device', ...columns.map((c) => c.title)]];
      for (const name of devices) {
        const d = o.example.devices.find((x) => x.name === name);
        rows.push([name, ...columns.map((c) => (d === undefined ? '?' : c.show(d, o.example.devices)))]);
      }
      out.push(...table(rows).map((l) => `    ${l}`));
    }
    out.push(`    ${o.explanation.text}`);
    out.push(`    example order${r.mode === 'sample' ? ` (seed ${o.example.seed})` : ''}:${o.example.decisions.length === 0 ? ' (no choices)' : ''}`);
    for (const d of o.example.decisions) out.push(`      ${d.decision}: ${d.order.join(', ')}`);
  });
  return `${out.join('\n')}\n`;
}

/** Progress on stderr: runs done of those known, elapsed time, rate; one line per second off a terminal. */
function progressReporter(io: CliIo): { update(p: ExploreProgress): void; end(): void } {
  const t0 = performance.now();
  let lastLine = -Infinity;
  let last: ExploreProgress | null = null;
  const text = (p: ExploreProgress): string => {
    const s = (performance.now() - t0) / 1000;
    return `explore: ${p.done}/${p.total} runs, ${s.toFixed(1)} s, ${Math.round(p.done / Math.max(s, 1e-3))} runs/s`;
  };
  return {
    update(p) {
      last = p;
      if (io.isTTY === true) io.err(`\r${text(p)}   `);
      else if (performance.now() - lastLine >= 1000) {
        lastLine = performance.now();
        io.err(`${text(p)}\n`);
      }
    },
    end() {
      if (last === null) return;
      io.err(io.isTTY === true ? `\r${text(last)}   \n` : `${text(last)}\n`);
    },
  };
}

/** `dmasim explore`: runs the orders on worker threads and groups the outcomes. */
export async function runExploreCommand(io: CliIo, ref: string, opts: ExploreCommandOptions): Promise<void> {
  const { loaded, registry } = await loadBoardWithPlugins(ref, { overrides: opts.overrides ?? [] });
  const workers = opts.workers ?? defaultWorkers();
  const pool = workers > 1 ? workerPool(loaded.file, workers, loaded.overrides) : null;
  const runner = pool?.runner ?? inlineRunner(loaded, registry);
  const progress = opts.quiet === true ? null : progressReporter(io);
  try {
    const result = await explore(loaded, runner, {
      orders: opts.orders,
      ...(opts.seed !== undefined ? { seed: opts.seed } : {}),
      ...(progress !== null ? { onProgress: (p: ExploreProgress) => progress.update(p) } : {}),
    });
    progress?.end();
    const traceFiles: string[] = [];
    if (opts.traces !== undefined) {
      const dir = opts.traces;
      try {
        mkdirSync(dir, { recursive: true });
      } catch (e) {
        throw new TraceError(`${dir}: cannot create the traces folder: ${fsReason(e)}`);
      }
      result.outcomes.forEach((o, i) => {
        const policy = result.mode === 'sample' ? ({ kind: 'shuffle', seed: o.example.seed } as const) : ({ kind: 'natural' } as const);
        const file = join(dir, `outcome-${i + 1}.trace.json`);
        writeTrace(file, makeTrace(loaded, o.example.seed, policy, o.example.trace));
        traceFiles.push(file);
      });
    }
    if (opts.html !== undefined) {
      const from = dirname(opts.html);
      writeFileSync(opts.html, renderExploreHtml(result, traceFiles.length > 0 ? traceFiles.map((f) => relative(from, f)) : null));
    }
    io.out(opts.json ? `${JSON.stringify(exploreJson(result), null, 2)}\n` : renderExplore(result));
  } finally {
    await pool?.close();
  }
}
