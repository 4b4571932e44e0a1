/**
 * The fuzz harness: packages declare targets in `src/**\/*.fuzz.ts` (an exported `fuzzTargets`
 * array), their tests run each at a bounded size with `assertTarget`, and `pnpm fuzz` runs them at
 * any size with `runTarget`, reporting cases/s and every class of defect with a reproducer.
 */
export type { FuzzTarget } from './target';
export { fuzzTarget } from './target';
export type { Defect, FuzzStats, RunOptions } from './run';
export { assertTarget, caseInput, defectKind, runTarget } from './run';
