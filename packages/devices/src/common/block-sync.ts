import type { BlockQueue, BlockRequest } from './block-workload';
import { EIO } from '@dmasim/core';

/**
 * One request, submitted and waited for (the synchronous helper of block drivers): 0, the submit's
 * -errno, or -EIO when the command completed with an error or timed out.
 */
export function blockRwSync(queue: BlockQueue, req: BlockRequest): number {
  const cmd = queue.submit(req);
  if (typeof cmd === 'number') return cmd;
  queue.waitIdle();
  return cmd.status === 'ok' ? 0 : -EIO;
}
