import type { Device } from '@dmasim/bus';
import { validDmaDirection, type DmaDataDirection } from '../constants';
import { getDmaContext, getDmaOps, type DmaMappingContext } from '../context';
import type { DmaDebug } from '../debug/dma-debug';
import type { DmaMapOps } from '../ops/dma-map-ops';

/** The ops, context and dma-debug a DMA API call on `dev` goes through. */
export interface DmaCallTarget {
  readonly ops: DmaMapOps;
  readonly ctx: DmaMappingContext | undefined;
  readonly debug: DmaDebug | null;
}

export function targetOf(dev: Device): DmaCallTarget {
  const ctx = getDmaContext(dev);
  return { ops: getDmaOps(dev), ctx, debug: ctx?.debug ?? null };
}

/**
 * BUG_ON(!valid_dma_direction(dir)): the kernel oopses; so does the simulated kernel (through the
 * machine's log when the device is bound to one).
 */
export function checkDirection(t: DmaCallTarget, dir: DmaDataDirection, fn: string): void {
  if (validDmaDirection(dir)) return;
  const reason = `kernel BUG at kernel/dma/mapping.c: ${fn} with direction ${dir}`;
  if (t.ctx !== undefined) t.ctx.log.oops(reason);
  throw new Error(reason);
}
