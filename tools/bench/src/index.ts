/**
 * The benchmark harness every package's `bench/*.bench.ts` uses.
 *
 * A bench file default-exports `(ctx: BenchContext) => Promise<void>`. It measures with `ctx.rate`
 * (operations per second) or `ctx.time` (duration of one operation) and may relate its figure to a
 * baseline measured in the same process (`raw.copy.4k`, `raw.copy.64k`, `raw.copy.1m`, `raw.loop`),
 * so figures from a noisy machine can still be compared.
 */
export type { BenchContext, BenchResult, RateOptions, TimeOptions } from './context';
export { createBenchContext } from './context';
