import type { Arbitrary } from 'fast-check';

/**
 * One fuzz target: an arbitrary of inputs and a check that runs one input. The check throws when
 * the input shows a defect (a host exception, a broken invariant); whatever it returns is the
 * number of units of work the case did (calls, register accesses), for the throughput figure.
 */
export interface FuzzTarget<T> {
  /** Stable dotted id, e.g. `machine.boards`. */
  readonly id: string;
  /** What one unit of work is (`boards`, `calls`, `accesses`), for the cases/s report. */
  readonly unit: string;
  readonly arbitrary: Arbitrary<T>;
  /** Runs one input; throws on a defect; returns units of work done (1 when absent). */
  readonly check: (input: T) => number | void;
  /** A reproducer of one input: the board, the call sequence, written so a person can replay it. */
  readonly describe: (input: T) => string;
  /** Cases the normal test run (`pnpm test`, `.ci/run`) runs. */
  readonly ciRuns: number;
  /** A case slower than this (ms) is reported as a defect (a hang) by `pnpm fuzz`. Default 2000. */
  readonly slowMs?: number;
}

/** Erases the input type so targets of different inputs can be listed together. */
export function fuzzTarget<T>(t: FuzzTarget<T>): FuzzTarget<unknown> {
  return t as unknown as FuzzTarget<unknown>;
}
