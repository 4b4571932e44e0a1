import 'reflect-metadata';
import type { LoadedBoard } from '../board/load';
import { loadBoardWithPlugins } from '../machine/run';
import type { PluginRegistry } from '../machine/plugins';
import { runTask, type ExploreTask, type ExploreTaskResult } from './explore';

/** A worker keeps the boards it has loaded: every task of one exploration names the same file. */
const boards = new Map<string, Promise<{ loaded: LoadedBoard; registry: PluginRegistry }>>();

export interface WorkerTask {
  readonly board: string;
  /** `--set` overrides the board was loaded with. */
  readonly overrides?: readonly string[];
  readonly tasks: readonly ExploreTask[];
}

/** Runs a batch of exploration tasks on one machine-per-task basis. */
export default async function runBatch(job: WorkerTask): Promise<ExploreTaskResult[]> {
  const key = JSON.stringify([job.board, job.overrides ?? []]);
  let b = boards.get(key);
  if (b === undefined) {
    b = loadBoardWithPlugins(job.board, { overrides: job.overrides ?? [] });
    boards.set(key, b);
  }
  const { loaded, registry } = await b;
  return job.tasks.map((t) => runTask(loaded, registry, t));
}
