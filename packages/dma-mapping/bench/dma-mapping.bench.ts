/**
 * DMA API benchmarks.
 *
 * - `dma-direct.map-unmap.4k`: dma_map_single + dma_unmap_single of 4 KiB TO_DEVICE on a coherent
 *   device without IOMMU (dma-direct, no bounce, no cache maintenance), dma-debug off.
 * - `dma-debug.map-unmap.4k`: the same with dma-debug tracking every mapping (map, mapping-error
 *   check, unmap: one hash insert, one lookup, one removal).
 * - `dma-direct.map-unmap.4k.noncoherent`: a non-coherent device (clean on map, invalidate check on
 *   unmap over a cold cache).
 */
import type { BenchContext } from '@dmasim/bench-harness';
import { dmaMapSingle, dmaMappingError, dmaUnmapSingle } from '../src/api/mapping';
import { DMA_TO_DEVICE } from '../src/constants';
import { makeDevice, makeMachine } from '../src/testing/fixtures';

const SIZE = 4096;
const BUF = 0x0100_0000;

function pairLoop(dmaDebug: boolean, coherent: boolean): () => void {
  const m = makeMachine({ dmaDebug });
  const dev = makeDevice(m, 'bench0', { coherent });
  return () => {
    const dma = dmaMapSingle(dev, BUF, SIZE, DMA_TO_DEVICE);
    if (dmaMappingError(dev, dma) !== 0) throw new Error('bench: mapping failed');
    dmaUnmapSingle(dev, dma, SIZE, DMA_TO_DEVICE);
  };
}

export default async (ctx: BenchContext): Promise<void> => {
  await ctx.rate('dma-direct.map-unmap.4k', pairLoop(false, true), { unit: 'pairs/s', batch: 10_000, baseline: 'raw.loop', min: 1e6 });
  await ctx.rate('dma-debug.map-unmap.4k', pairLoop(true, true), { unit: 'pairs/s', batch: 10_000, baseline: 'raw.loop', min: 3e5 });
  await ctx.rate('dma-direct.map-unmap.4k.noncoherent', pairLoop(false, false), { unit: 'pairs/s', batch: 1_000, baseline: 'raw.loop' });
};
