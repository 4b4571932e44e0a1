import { existsSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { Command, CommanderError, InvalidArgumentError } from 'commander';
import { ReplayDivergenceError } from '@dmasim/core';
import { BoardError, exampleBoards, formatIssue, loadBoard, parseBoard, type LoadedBoard } from '../board';
import { loadBoardWithPlugins, runLoaded } from '../machine/run';
import { PluginRegistry } from '../machine/plugins';
import { renderHuman } from '../report/human';
import type { RunReport } from '../report/types';
import { boardChanges, makeTrace, readTrace, TraceError, writeTrace } from '../trace/trace';
import { renderSideBySide, replayOnOtherBoard } from '../trace/replay-other';
import { runExploreCommand } from './explore-command';
import { Machine } from '../machine/machine';
import { buildInfo, renderInfo } from '../info';
import { parseCategoryFilter, TraceRecorder, type ChromeTrace } from '../events';
import { renderRunHtml } from '../html';
import { writeFileSync } from 'node:fs';
import { runExportDtsCommand } from './export-dts-command';
import { HELP_FOOTER } from './help';
import { dmasimVersion } from './version';

export interface CliIo {
  out(text: string): void;
  err(text: string): void;
  /** Whether stderr is a terminal (progress bars). */
  readonly isTTY?: boolean;
}

export interface Cli {
  /** Runs the CLI with argv (without node and script); resolves to the exit status. */
  run(argv: readonly string[]): Promise<number>;
}

/** Host-level problem with the arguments (exit status 1). */
export class UsageError extends Error {}

/** An integer option within [min, max]; anything else is refused with the range it must be in. */
function intOption(name: string, min: number, max: number): (v: string) => number {
  return (v) => {
    const n = /^-?\d+$/.test(v) ? Number(v) : NaN;
    if (!Number.isSafeInteger(n) || n < min || n > max) throw new InvalidArgumentError(`${name} must be an integer from ${min} to ${max}`);
    return n;
  };
}

/** `--set path=value`, repeatable: collects every occurrence in order. */
function collectSet(value: string, previous: string[] = []): string[] {
  if (!value.includes('=')) throw new InvalidArgumentError('expected path=value, e.g. --set kernel.profile=linux-4.2');
  return [...previous, value];
}

/** Adds the shared `--set` option (run, explore, validate, info) to a command. */
export function withSetOption(cmd: Command): Command {
  return cmd.option('--set <path=value>', 'override a board value (dotted path, e.g. kernel.profile=linux-4.2, devices.sata.coherent=true); repeatable', collectSet);
}

/** A command decided the exit status itself (it has printed why). */
class ExitStatus extends Error {
  constructor(readonly code: number) {
    super(`exit ${code}`);
  }
}

/** Seeds are safe integers: every one of them gives its own run. */
const seedOption = intOption('--seed', 0, Number.MAX_SAFE_INTEGER);

/** `--orders`: a positive number of seeded samples, or `all`. */
function ordersOption(v: string): number | 'all' {
  if (v === 'all') return 'all';
  const n = /^-?\d+$/.test(v) ? Number(v) : NaN;
  if (!Number.isSafeInteger(n) || n < 1) throw new InvalidArgumentError(`--orders must be a number of orders from 1 up, or "all" (found ${JSON.stringify(v)})`);
  return n;
}

/** The report as the user asked for it: JSON, or the human tables and the log's warnings. */
export function renderReport(report: RunReport, json: boolean, fullLog: boolean): string {
  if (json) return `${JSON.stringify(report, null, 2)}\n`;
  const warningLines = report.log.filter((l) => /WARNING|cut here|end trace|\b(error|fail|failed|fault|full|Oops|panic|Unhandled|Blocked|Unexpected)\b/i.test(l));
  return renderHuman(report, { fullLog, warningLines });
}

/**
 * The `dmasim` command line. Exit status: 0 when the run completed (even if the simulated kernel
 * reported failures), 1 when the board or the arguments are invalid, with the reason on stderr.
 */
export function buildProgram(io: CliIo): Cli {
  const line = (s = ''): void => io.out(`${s}\n`);
  const program = new Command();
  program
    .name('dmasim')
    .description('A machine model of the Linux DMA stack: buses, SMMUs, IOVA, dma-iommu, swiotlb and devices.')
    .version(dmasimVersion(), '-V, --version', 'print the version')
    .addHelpText('after', HELP_FOOTER)
    .exitOverride()
    .configureOutput({ writeOut: (s) => io.out(s), writeErr: (s) => io.err(s) });

  withSetOption(program.command('run'))
    .argument('<board>', 'a .yaml, .json, .ts, .dtb or .dts board file, or the name of an example board')
    .option('--strict', 'refuse to run a board with warnings (what `dmasim validate` warns about)')
    .option('--seed <n>', 'seed of the run, 0 to 2^53-1 (default: the board kernel.probe.seed)', seedOption)
    .option('--json', 'print the JSON report')
    .option('--log', 'print the whole kernel log (human output)')
    .option('--trace <file>', 'record every scheduler decision and the board to FILE, for `dmasim replay`')
    .option('--events <file>', 'write Chrome trace-event JSON (Perfetto, chrome://tracing) of probe, defer, bind, attach, map/unmap, bounce, TLB invalidation and fault events on the simulated clock')
    .option('--html <file>', 'write a self-contained HTML report: probe timeline, topology, swiotlb occupancy, IOVA space per domain, problems')
    .option('--events-filter <globs>', "categories to keep in --events, QEMU -trace style: 'iommu.*,swiotlb.*', a leading - removes ('-iommu.map')")
    .description('boot a board, run its workloads, shut it down and report what happened')
    .action(async (ref: string, opts: { seed?: number; json?: boolean; log?: boolean; trace?: string; events?: string; eventsFilter?: string; html?: string; set?: string[]; strict?: boolean }) => {
      const filter = parseCategoryFilter(opts.eventsFilter);
      if (typeof filter !== 'function') throw new UsageError(filter.error);
      if (opts.eventsFilter !== undefined && opts.events === undefined) throw new UsageError('--events-filter needs --events FILE');
      const { loaded, registry } = await loadBoardWithPlugins(ref, { overrides: opts.set ?? [] });
      if (opts.strict === true && loaded.warnings.length > 0) {
        for (const w of loaded.warnings) io.err(`${formatIssue(w)}\n`);
        io.err(`dmasim: --strict: ${loaded.warnings.length} warning${loaded.warnings.length === 1 ? '' : 's'}; not running the board\n`);
        throw new ExitStatus(1);
      }
      // the HTML report needs every category; the events file then keeps the filtered ones
      const observed = opts.events !== undefined || opts.html !== undefined;
      let recorder: TraceRecorder | null = null;
      const { machine, report } = runLoaded(loaded, registry, opts.seed !== undefined ? { seed: opts.seed } : {}, observed ? (m) => (recorder = new TraceRecorder(m, opts.html !== undefined ? () => true : filter)) : undefined);
      const trace: ChromeTrace | null = recorder === null ? null : (recorder as TraceRecorder).trace();
      if (opts.events !== undefined && trace !== null) writeFileSync(opts.events, `${JSON.stringify({ ...trace, traceEvents: trace.traceEvents.filter((e) => e.ph === 'M' || filter(e.cat)) })}\n`);
      if (opts.html !== undefined && trace !== null) writeFileSync(opts.html, renderRunHtml(report, trace));
      if (opts.trace !== undefined) writeTrace(opts.trace, makeTrace(loaded, machine.seed, machine.core.sched.policy, machine.core.sched.decisions));
      io.out(renderReport(report, opts.json === true, opts.log === true));
    });

  program
    .command('replay')
    .argument('<trace>', 'a trace written by `dmasim run --trace`')
    .option('--json', 'print the JSON report')
    .option('--log', 'print the whole kernel log (human output)')
    .option('--board <other>', 're-run the recorded order on another board (a fixed profile, another defaultDomain) and show both outcomes side by side')
    .description('re-run a recorded run decision by decision; refuses a trace whose board changed')
    .action(async (path: string, opts: { json?: boolean; log?: boolean; board?: string }) => {
      const trace = readTrace(path);
      const fromTrace = (): { loaded: LoadedBoard; registry: PluginRegistry } => ({ loaded: parseBoard(JSON.parse(trace.board.source) as unknown, trace.board.file), registry: new PluginRegistry() });
      let recorded = fromTrace();
      if (existsSync(trace.board.file)) {
        const current = await loadBoardWithPlugins(trace.board.file, { overrides: trace.board.overrides ?? [] });
        if (current.loaded.hash === trace.board.hash) recorded = current;
        else if (opts.board === undefined) {
          const changes = boardChanges(trace.board.source, current.loaded.source);
          throw new TraceError(`${path}: the board ${trace.board.file} changed since the trace was recorded:\n  ${changes.join('\n  ')}`);
        }
      }
      const run = runLoaded(recorded.loaded, recorded.registry, { seed: trace.seed, policy: trace.policy, replay: trace.decisions });
      if (opts.board === undefined) {
        io.out(renderReport(run.report, opts.json === true, opts.log === true));
        return;
      }
      const other = await loadBoardWithPlugins(opts.board);
      const changes = boardChanges(trace.board.source, other.loaded.source, 50);
      const replayed = replayOnOtherBoard(other.loaded, other.registry, trace.seed, trace.decisions);
      if (opts.json === true) {
        io.out(`${JSON.stringify({ trace: path, changes, followed: replayed.followed, recordedDecisions: replayed.recordedDecisions, recorded: run.report, other: replayed.report }, null, 2)}\n`);
        return;
      }
      line(`replay of ${path} (board ${trace.board.name}) on ${other.loaded.file} (board ${other.loaded.board.name})`);
      line(`board changes (${changes.length}):${changes.length === 0 ? ' none' : ''}`);
      for (const c of changes) line(`  ${c}`);
      line(`recorded order followed at ${replayed.followed} of ${replayed.recordedDecisions} decisions (items the other board adds keep its policy's order)`);
      line();
      for (const l of renderSideBySide({ title: 'recorded', report: run.report }, { title: `on ${other.loaded.board.name}`, report: replayed.report })) line(l);
    });

  withSetOption(program.command('explore'))
    .argument('<board>', 'a board file or example board name')
    .option('--orders <n|all>', 'how many orders to run: a number (seeded sample) or all (exhaustive, with pruning)', ordersOption, 'all' as number | 'all')
    .option('--workers <n>', `worker threads, 1 to ${availableParallelism()} (default: CPUs - 1, at least 1)`, intOption('--workers', 1, availableParallelism()))
    .option('--seed <n>', 'seed of the first sampled order (the next ones count up from it)', seedOption)
    .option('--json', 'print the JSON summary')
    .option('--quiet', 'no progress on stderr')
    .option('--traces <dir>', 'write one reproducing trace per outcome (replay with `dmasim replay`)')
    .option('--html <file>', 'write a self-contained HTML page: each outcome with its count, explanation, problems and example order')
    .description('run a board over the probe orders it could take and group the outcomes')
    .action(async (ref: string, opts: { orders: number | 'all'; workers?: number; seed?: number; json?: boolean; quiet?: boolean; traces?: string; html?: string; set?: string[] }) => {
      if (opts.orders !== 'all' && opts.seed !== undefined && opts.seed + opts.orders - 1 > Number.MAX_SAFE_INTEGER) {
        throw new UsageError(`--seed ${opts.seed} with --orders ${opts.orders}: the sampled seeds would pass 2^53-1`);
      }
      await runExploreCommand(io, ref, {
        orders: opts.orders,
        ...(opts.workers !== undefined ? { workers: opts.workers } : {}),
        ...(opts.seed !== undefined ? { seed: opts.seed } : {}),
        json: opts.json === true,
        quiet: opts.quiet === true,
        ...(opts.traces !== undefined ? { traces: opts.traces } : {}),
        ...(opts.html !== undefined ? { html: opts.html } : {}),
        overrides: opts.set ?? [],
      });
    });

  withSetOption(program.command('validate'))
    .argument('<board>', 'a .yaml, .json, .ts, .dtb or .dts board file, or the name of an example board')
    .description('check a board file and report every problem in it (file:line:column: path: message), then its warnings')
    .action(async (ref: string, opts: { set?: string[] }) => {
      let loaded;
      try {
        ({ loaded } = await loadBoardWithPlugins(ref, { overrides: opts.set ?? [] }));
      } catch (e) {
        if (!(e instanceof BoardError)) throw e;
        for (const i of [...e.issues, ...e.warnings]) io.err(`${formatIssue(i)}\n`);
        io.err(`dmasim: ${e.issues.length} error${e.issues.length === 1 ? '' : 's'}, ${e.warnings.length} warning${e.warnings.length === 1 ? '' : 's'}\n`);
        throw new ExitStatus(1);
      }
      const { board, file, chain } = loaded;
      for (const w of loaded.warnings) io.err(`${formatIssue(w)}\n`);
      line(`${file}: valid board "${board.name}"${chain.length > 1 ? ` (extends ${chain.slice(0, -1).join(' <- ')})` : ''}${loaded.warnings.length > 0 ? `, ${loaded.warnings.length} warning${loaded.warnings.length === 1 ? '' : 's'}` : ''}`);
      line(`  ${board.memory.length} RAM region(s), ${board.buses.length} bus(es), ${board.iommus.length} IOMMU(s), ${board.devices.length} device(s), ${board.workloads.length} workload(s)`);
    });

  withSetOption(program.command('info'))
    .argument('<board>', 'a .yaml, .json, .ts, .dtb or .dts board file, or the name of an example board')
    .option('--json', 'print the JSON form')
    .description('show the resolved board, its address map, DMA windows and limits, IRQs and the IOMMU topology after boot')
    .action(async (ref: string, opts: { json?: boolean; set?: string[] }) => {
      const { loaded, registry } = await loadBoardWithPlugins(ref, { overrides: opts.set ?? [] });
      const machine = new Machine(loaded, { registry });
      machine.boot();
      const info = buildInfo(machine);
      io.out(opts.json === true ? `${JSON.stringify(info, null, 2)}\n` : renderInfo(info));
    });

  program
    .command('export-dts')
    .argument('<board>', 'a board file or example board name')
    .option('-o, --output <file>', 'write the .dts to FILE instead of printing it')
    .option('--dtb <file>', 'also write the compiled blob to FILE (no dtc needed)')
    .description('write the board as a device tree (.dts) that dtc compiles and that imports back to the same machine')
    .action(async (ref: string, opts: { output?: string; dtb?: string }) => runExportDtsCommand(io, ref, opts));

  program
    .command('boards')
    .description('list the example boards')
    .action(async () => {
      for (const name of exampleBoards()) {
        const { board } = await loadBoard(name);
        line(`${name.padEnd(18)} ${board.description ?? ''}`);
      }
    });

  program
    .command('demo')
    .description('boot every example board and print what happened (the README main job)')
    .action(async () => {
      for (const name of exampleBoards()) {
        const { loaded, registry } = await loadBoardWithPlugins(name);
        const { report } = runLoaded(loaded, registry);
        line(`==== ${name}: ${loaded.board.description ?? ''}`);
        io.out(renderReport(report, false, false));
        line();
      }
    });

  return {
    async run(argv) {
      try {
        await program.parseAsync([...argv], { from: 'user' });
        return 0;
      } catch (e) {
        if (e instanceof CommanderError) return e.exitCode === 0 ? 0 : 1;
        if (e instanceof ExitStatus) return e.code;
        if (e instanceof BoardError || e instanceof UsageError || e instanceof TraceError) {
          io.err(`dmasim: ${e.message}\n`);
          return 1;
        }
        if (e instanceof ReplayDivergenceError) {
          io.err(`dmasim: ${e.message}\n`);
          return 1;
        }
        throw e;
      }
    },
  };
}
