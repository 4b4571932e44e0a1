/**
 * dma_kmalloc_needs_bounce() (include/linux/dma-map-ops.h, CONFIG_DMA_BOUNCE_UNALIGNED_KMALLOC,
 * arm64 from 6.5): with kmalloc() caches smaller than a cache line, a small buffer may share its
 * line with other data, so dma-direct bounces it for a non-coherent device whenever the CPU would
 * have to invalidate that line. The kernel cannot see where a buffer came from; it judges the size.
 */
import type { Device } from '@dmasim/bus';
import { PAGE_SIZE, isAligned } from '@dmasim/core';
import type { DmaDataDirection } from '@dmasim/swiotlb';

/** dma_get_cache_alignment() on arm64 (ARCH_DMA_MINALIGN). */
export const ARCH_DMA_MINALIGN = 128;
/** The kmalloc caches with an 8-byte ARCH_KMALLOC_MINALIGN, up to KMALLOC_MAX_CACHE_SIZE (two pages). */
const KMALLOC_SIZES = [8, 16, 32, 64, 96, 128, 192, 256, 512, 1024, 2048, 4096, 8192];

/** kmalloc_size_roundup(): the object size kmalloc really hands out for `size` bytes. */
export function kmallocSizeRoundup(size: number): number {
  if (size <= 0) return 0;
  const cache = KMALLOC_SIZES.find((s) => s >= size);
  if (cache !== undefined) return cache;
  // larger requests come from the page allocator in power-of-two pages
  let bytes = PAGE_SIZE;
  while (bytes < size) bytes *= 2;
  return bytes;
}

/** dma_kmalloc_safe(): a coherent device, or DMA_TO_DEVICE (no invalidation), cannot corrupt a neighbour. */
function dmaKmallocSafe(dev: Device, dir: DmaDataDirection): boolean {
  return dev.dma.coherent || dir === 'to-device';
}

/** dma_kmalloc_needs_bounce(): not safe, and the kmalloc object is not cache-line sized. */
export function dmaKmallocNeedsBounce(dev: Device, size: number, dir: DmaDataDirection): boolean {
  return !dmaKmallocSafe(dev, dir) && !isAligned(kmallocSizeRoundup(size), ARCH_DMA_MINALIGN);
}
