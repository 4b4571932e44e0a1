import { assertTarget } from '@dmasim/fuzz-harness';
import { describe, it } from 'vitest';
import { fuzzTargets } from './calls.fuzz';

/** DMA API call sequences at the bounded size of the normal test run (`pnpm fuzz` runs any size). */
describe('fuzz: no host exception from any DMA API call sequence, data intact on legal ones', () => {
  for (const t of fuzzTargets) it(`${t.id}: ${t.ciRuns} sequences`, () => assertTarget(t), 120_000);
});
