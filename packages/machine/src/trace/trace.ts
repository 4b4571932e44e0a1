import { readFileSync, writeFileSync } from 'node:fs';
import type { Decision, OrderPolicy } from '@dmasim/core';
import type { LoadedBoard } from '../board/load';

/** A recorded run: the board it ran (with its hash), the seed and policy, and every ordering decision. */
export interface TraceFile {
  readonly format: 'dmasim-trace';
  readonly version: 1;
  /** `overrides`: the `--set path=value` options of the run (absent when none), applied again on replay. */
  readonly board: { readonly file: string; readonly name: string; readonly hash: string; readonly source: string; readonly overrides?: readonly string[] };
  readonly seed: number;
  readonly policy: OrderPolicy;
  /**
   * Every scheduler decision in order: the decision point, the initcall level it happened at, why the
   * items were ready together, the items, and the order taken.
   */
  readonly decisions: readonly (Decision & { readonly why?: string })[];
}

/** Host-level problem with a trace file (exit status 1). */
export class TraceError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'TraceError';
  }
}

/** Why the items of a decision point were ready together, for people reading a trace. */
export function whyReady(point: string): string {
  if (point.startsWith('initcall:')) return `initcalls queued at level ${point.slice('initcall:'.length)}`;
  switch (point) {
    case 'device-add':
      return 'devices populated from the board (of_platform_populate), added in this order';
    case 'deferred-probe':
      return 'devices on the deferred-probe list, retried after a successful bind';
    case 'async-probe':
      return 'devices queued for asynchronous probe';
    default:
      return 'items ready together at this point';
  }
}

export function makeTrace(loaded: LoadedBoard, seed: number, policy: OrderPolicy, decisions: readonly Decision[]): TraceFile {
  return {
    format: 'dmasim-trace',
    version: 1,
    board: { file: loaded.file, name: loaded.board.name, hash: loaded.hash, source: loaded.source, ...(loaded.overrides.length > 0 ? { overrides: [...loaded.overrides] } : {}) },
    seed,
    policy,
    decisions: decisions.map((d) => ({ point: d.point, level: d.level ?? null, why: whyReady(d.point), candidates: [...d.candidates], chosen: [...d.chosen] })),
  };
}

/** Writes a trace; a path that cannot be written is a TraceError naming it (exit status 1). */
export function writeTrace(path: string, trace: TraceFile): void {
  try {
    writeFileSync(path, `${JSON.stringify(trace, null, 1)}\n`);
  } catch (e) {
    throw new TraceError(`${path}: cannot write the trace: ${fsReason(e)}`);
  }
}

/** The one-line reason of a file-system error (`ENOENT: no such file or directory`). */
export function fsReason(e: unknown): string {
  const err = e as NodeJS.ErrnoException;
  return err.code !== undefined ? `${err.code}: ${err.message.replace(/^\w+: /, '').replace(/, \w+ '.*'$/, '')}` : String(err.message);
}

export function readTrace(path: string): TraceFile {
  let raw: unknown;
  try {
    raw = JSON.parse(readFileSync(path, 'utf8')) as unknown;
  } catch (e) {
    throw new TraceError(`${path}: cannot read the trace: ${(e as Error).message}`);
  }
  const t = raw as Partial<TraceFile>;
  if (t.format !== 'dmasim-trace' || t.version !== 1 || t.board === undefined || !Array.isArray(t.decisions) || typeof t.seed !== 'number' || t.policy === undefined) {
    throw new TraceError(`${path}: not a dmasim trace (expected format "dmasim-trace", version 1, board, seed, policy and decisions)`);
  }
  return t as TraceFile;
}

/**
 * What changed between the board a trace recorded and the board now: the paths whose values differ,
 * in the canonical JSON the hash is taken over.
 */
export function boardChanges(recorded: string, current: string, limit = 10): string[] {
  const out: string[] = [];
  const walk = (a: unknown, b: unknown, path: string): void => {
    if (out.length >= limit) return;
    if (JSON.stringify(a) === JSON.stringify(b)) return;
    if (a !== null && b !== null && typeof a === 'object' && typeof b === 'object' && Array.isArray(a) === Array.isArray(b)) {
      const keys = new Set([...Object.keys(a), ...Object.keys(b)]);
      for (const k of [...keys].sort()) {
        const sub = Array.isArray(a) ? `${path}[${k}]` : path === '' ? k : `${path}.${k}`;
        walk((a as Record<string, unknown>)[k], (b as Record<string, unknown>)[k], sub);
      }
      return;
    }
    out.push(`${path || '(board)'}: was ${JSON.stringify(a) ?? 'absent'}, now ${JSON.stringify(b) ?? 'absent'}`);
  };
  walk(JSON.parse(recorded) as unknown, JSON.parse(current) as unknown, '');
  return out;
}
