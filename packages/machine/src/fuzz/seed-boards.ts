import { readdirSync } from 'node:fs';
import { basename, extname, join, resolve } from 'node:path';
import { exampleBoards, loadBoard } from '../board/load';

/** Where the scenarios live (beside the example boards). */
const SCENARIOS_DIR = resolve(import.meta.dirname, '../../../../examples/scenarios');

/** Workload counts a seed board is cut down to, so a fuzzed boot takes milliseconds. */
const SMALL: Record<string, number> = { requests: 6, packets: 12, frames: 1, rounds: 1, inflight: 4 };

export interface SeedBoard {
  readonly name: string;
  /** The board as written after `extends` layering (sizes may still be strings). */
  readonly raw: Record<string, unknown>;
}

/**
 * The fuzzer's starting points: every example board and scenario, layered, with workload counts
 * cut down (the mutations can raise them again).
 */
export async function seedBoards(): Promise<SeedBoard[]> {
  const refs = [
    ...exampleBoards(),
    ...readdirSync(SCENARIOS_DIR)
      .filter((f) => extname(f) === '.yaml')
      .map((f) => join(SCENARIOS_DIR, f)),
  ];
  const out: SeedBoard[] = [];
  for (const ref of refs) {
    const loaded = await loadBoard(ref);
    const raw = JSON.parse(loaded.source) as Record<string, unknown>;
    const workloads = Array.isArray(raw.workloads) ? (raw.workloads as Record<string, unknown>[]) : [];
    for (const w of workloads) {
      for (const [k, n] of Object.entries(SMALL)) if (typeof w[k] === 'number') w[k] = Math.min(w[k], n);
      if (Array.isArray(w.buffers)) w.buffers = w.buffers.slice(0, 1);
    }
    out.push({ name: basename(ref, extname(ref)), raw });
  }
  return out;
}
