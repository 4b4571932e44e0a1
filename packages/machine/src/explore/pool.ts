import { availableParallelism } from 'node:os';
import { Piscina } from 'piscina';
import type { ExploreTask, ExploreTaskResult, TaskRunner } from './explore';
import type { WorkerTask } from './worker';

/** Default worker count: one per CPU but one, at least one. */
export function defaultWorkers(): number {
  return Math.max(1, availableParallelism() - 1);
}

/**
 * The worker module: the built `worker.js` beside this file, or, running from the TypeScript
 * sources (tests, `pnpm dmasim`), an entry that loads `worker.ts` through tsx. Only that dev path
 * pays for a TypeScript loader in each worker.
 */
function workerFile(): string {
  return new URL(import.meta.url.endsWith('.ts') ? './worker-entry.mjs' : './worker.js', import.meta.url).href;
}

/**
 * A pool of worker threads, one machine per task. Tasks are sent in batches (several per worker, so
 * thread hops do not dominate short boots); results come back in task order, whatever finished first.
 */
export function workerPool(boardFile: string, workers: number, overrides: readonly string[] = []): { runner: TaskRunner; close(): Promise<void> } {
  const pool = new Piscina<WorkerTask, ExploreTaskResult[]>({
    filename: workerFile(),
    minThreads: workers,
    maxThreads: workers,
    idleTimeout: 60_000,
  });
  const runner: TaskRunner = async (tasks: readonly ExploreTask[]) => {
    const per = Math.max(1, Math.ceil(tasks.length / (workers * 4)));
    const batches: ExploreTask[][] = [];
    for (let i = 0; i < tasks.length; i += per) batches.push(tasks.slice(i, i + per));
    const results = await Promise.all(batches.map((b) => pool.run({ board: boardFile, overrides, tasks: b })));
    return results.flat();
  };
  return { runner, close: () => pool.destroy() };
}
