/** How the scheduler orders items that are ready at the same moment. */
export type OrderPolicy =
  | { readonly kind: 'natural' }
  | { readonly kind: 'reverse' }
  | { readonly kind: 'shuffle'; readonly seed: number }
  /** Named items first, in this order; the rest after them in natural order. */
  | { readonly kind: 'explicit'; readonly order: readonly string[] };

/** One recorded ordering decision: at a named point, which items were ready and the order chosen. */
export interface Decision {
  readonly point: string;
  readonly candidates: readonly string[];
  readonly chosen: readonly string[];
  /** The initcall level running when the choice was made (null after boot). */
  readonly level?: string | null;
}

/** Raised (host-level) when a replayed run reaches a decision that differs from its trace. */
export class ReplayDivergenceError extends Error {
  constructor(
    readonly index: number,
    readonly expected: Decision | undefined,
    readonly actual: { point: string; candidates: readonly string[] },
  ) {
    super(
      expected === undefined
        ? `replay diverged at decision ${index}: the trace has no more decisions, the run reached ${actual.point} [${actual.candidates.join(', ')}]`
        : `replay diverged at decision ${index}: trace has ${expected.point} [${expected.candidates.join(', ')}], run has ${actual.point} [${actual.candidates.join(', ')}]`,
    );
    this.name = 'ReplayDivergenceError';
  }
}
