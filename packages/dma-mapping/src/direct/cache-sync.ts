import type { CpuCache } from '@dmasim/core';
import { DMA_TO_DEVICE, type DmaDataDirection } from '../constants';

/**
 * CPU cache maintenance for non-coherent devices (arch_sync_dma_for_device / _for_cpu).
 *
 * arm64 rules (arch/arm64/mm/dma-mapping.c), which dmasim follows for every architecture:
 * - before the device touches the buffer (map, sync_for_device): CLEAN the lines whatever the
 *   direction. Even for DMA_FROM_DEVICE a clean (not an invalidate) is used, so dirty lines cannot be
 *   evicted later on top of what the device wrote; lines stay valid in the cache.
 * - after the device is done (unmap, sync_for_cpu): INVALIDATE for DMA_FROM_DEVICE and
 *   DMA_BIDIRECTIONAL, so the CPU refetches what the device wrote; nothing for DMA_TO_DEVICE.
 * A driver that skips the sync therefore sees exactly the stale data a real arm64 system shows.
 */
export function archSyncDmaForDevice(cache: CpuCache, paddr: number, size: number, _dir: DmaDataDirection): void {
  cache.clean(paddr, size);
}

export function archSyncDmaForCpu(cache: CpuCache, paddr: number, size: number, dir: DmaDataDirection): void {
  if (dir === DMA_TO_DEVICE) return;
  cache.invalidate(paddr, size);
}

/** arch_dma_prep_coherent(): before a buffer is remapped uncached, no dirty line may remain. */
export function archDmaPrepCoherent(cache: CpuCache, paddr: number, size: number): void {
  cache.cleanInvalidate(paddr, size);
}
