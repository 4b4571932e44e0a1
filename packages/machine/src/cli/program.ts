import { Command, CommanderError } from 'commander';
import { BoardError, exampleBoards, loadBoard } from '../board';
import { runCoreDemo } from './demo';

export interface CliIo {
  out(text: string): void;
  err(text: string): void;
}

export interface Cli {
  /** Runs the CLI with argv (without node and script); resolves to the exit status. */
  run(argv: readonly string[]): Promise<number>;
}

/** Host-level problem with the arguments (exit status 1). */
export class UsageError extends Error {}

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
    .exitOverride()
    .configureOutput({ writeOut: (s) => io.out(s), writeErr: (s) => io.err(s) });

  program
    .command('validate')
    .argument('<board>', 'a .yaml, .json or .ts board file, or the name of an example board')
    .description('check a board file and report every problem in it')
    .action(async (ref: string) => {
      const { board, file, chain } = await loadBoard(ref);
      line(`${file}: valid board "${board.name}"${chain.length > 1 ? ` (extends ${chain.slice(0, -1).join(' <- ')})` : ''}`);
      line(`  ${board.memory.length} RAM region(s), ${board.buses.length} bus(es), ${board.iommus.length} IOMMU(s), ${board.devices.length} device(s), ${board.workloads.length} workload(s)`);
    });

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
    .description('the core demonstration: sparse memory, zones, and a missing cache clean seen by a device')
    .action(() => {
      runCoreDemo((l) => line(l));
    });

  return {
    async run(argv) {
      try {
        await program.parseAsync([...argv], { from: 'user' });
        return 0;
      } catch (e) {
        if (e instanceof CommanderError) return e.exitCode === 0 ? 0 : 1;
        if (e instanceof BoardError || e instanceof UsageError) {
          io.err(`dmasim: ${e.message}\n`);
          return 1;
        }
        throw e;
      }
    },
  };
}
