import { fuzzTarget } from '@dmasim/fuzz-harness';
import { stringify } from 'yaml';
import { mutatedBoard, type MutatedBoard } from './board-mutations';
import { bootBoard } from './boot-check';
import { seedBoards } from './seed-boards';

const seeds = await seedBoards();

/** A mutated board as a YAML file one can save and `dmasim run`. */
export function describeBoard(b: MutatedBoard): string {
  return `# mutated from ${b.seed}: ${JSON.stringify(b.mutations)}\n${stringify(b.board, { aliasDuplicateObjects: false })}`;
}

/** Mutated example boards and scenarios through validation, boot, workloads and shutdown. */
export const boardsTarget = fuzzTarget<MutatedBoard>({
  id: 'machine.boards',
  unit: 'boards',
  arbitrary: mutatedBoard(seeds),
  check: (b) => {
    bootBoard(b.board);
  },
  describe: describeBoard,
  ciRuns: 300,
});

export const fuzzTargets = [boardsTarget];
