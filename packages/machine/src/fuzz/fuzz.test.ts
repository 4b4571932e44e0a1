import { assertTarget } from '@dmasim/fuzz-harness';
import { describe, it } from 'vitest';
import { fuzzTargets } from './boards.fuzz';

/**
 * The machine's fuzz targets at the bounded size of the normal test run (`pnpm fuzz` runs them at
 * any size). A failure prints the board as a YAML file, the seed and the fast-check path.
 */
describe('fuzz: no host exception from any board', () => {
  for (const t of fuzzTargets) it(`${t.id}: ${t.ciRuns} cases`, () => assertTarget(t), 120_000);
});
