import type { CpuCache } from '@dmasim/core';
import type { DmaCoherentBuffer } from '@dmasim/dma-mapping';

/**
 * How the driver's CPU touches memory: streaming buffers through the cacheable linear map, coherent
 * buffers through the mapping dma_alloc_coherent gave (uncached for a non-coherent device).
 */
export function coherentWrite(cache: CpuCache, buf: DmaCoherentBuffer, offset: number, src: Uint8Array): void {
  cache.cpuWrite(buf.cpuAddr + offset, src, buf.mapping === 'uncached' ? 'uncached' : 'cacheable');
}

export function coherentRead(cache: CpuCache, buf: DmaCoherentBuffer, offset: number, dst: Uint8Array): void {
  cache.cpuRead(buf.cpuAddr + offset, dst, buf.mapping === 'uncached' ? 'uncached' : 'cacheable');
}

export function coherentFill(cache: CpuCache, buf: DmaCoherentBuffer, value: number): void {
  cache.cpuFill(buf.cpuAddr, buf.size, value, buf.mapping === 'uncached' ? 'uncached' : 'cacheable');
}
