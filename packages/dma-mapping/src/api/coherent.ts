import type { Device } from '@dmasim/bus';
import { EINVAL, ENXIO, GFP_KERNEL, type GfpFlags } from '@dmasim/core';
import { DMA_ATTR_WRITE_COMBINE, type DmaAttrs } from '../constants';
import type { DmaCoherentBuffer } from '../ops/dma-map-ops';
import type { SgTable } from '../scatterlist/sg-table';
import { targetOf } from './resolve';
import { dmaArgsInvalid } from './args';

/**
 * Coherent ("consistent") allocations: memory both CPU and device see without syncs. The CPU must
 * access it through `buffer.mapping` (`'uncached'` for a non-coherent device: the kernel remaps such
 * buffers non-cacheable; `'cacheable'` for a coherent one; `'none'` with NO_KERNEL_MAPPING).
 * Zone flags in `gfp` are ignored, as the kernel strips them: the device's coherent mask decides.
 */

/** dma_alloc_attrs(). */
export function dmaAllocAttrs(dev: Device, size: number, gfp: GfpFlags = GFP_KERNEL, attrs: DmaAttrs = 0): DmaCoherentBuffer | null {
  const t = targetOf(dev);
  if (dmaArgsInvalid(t, dev, 'dma_alloc_attrs', { size }, true)) return null;
  const buf = t.ops.alloc(dev, size, gfp, attrs);
  if (buf !== null) t.debug?.allocCoherent(dev, size, buf.dmaHandle, buf.cpuAddr);
  return buf;
}

/** dma_alloc_coherent(). */
export function dmaAllocCoherent(dev: Device, size: number, gfp: GfpFlags = GFP_KERNEL): DmaCoherentBuffer | null {
  return dmaAllocAttrs(dev, size, gfp, 0);
}

/** dma_alloc_wc(): write-combining CPU mapping (framebuffers). */
export function dmaAllocWc(dev: Device, size: number, gfp: GfpFlags = GFP_KERNEL): DmaCoherentBuffer | null {
  return dmaAllocAttrs(dev, size, gfp, DMA_ATTR_WRITE_COMBINE);
}

/** dma_free_attrs(). */
export function dmaFreeAttrs(dev: Device, size: number, cpuAddr: number, dmaHandle: number, attrs: DmaAttrs = 0): void {
  const t = targetOf(dev);
  if (dmaArgsInvalid(t, dev, 'dma_free_attrs', { size, cpu: cpuAddr, addr: dmaHandle })) return;
  t.debug?.freeCoherent(dev, size, cpuAddr, dmaHandle);
  t.ops.free(dev, size, cpuAddr, dmaHandle, attrs);
}

/** dma_free_coherent(). */
export function dmaFreeCoherent(dev: Device, size: number, cpuAddr: number, dmaHandle: number): void {
  dmaFreeAttrs(dev, size, cpuAddr, dmaHandle, 0);
}

/** dma_free_wc(). */
export function dmaFreeWc(dev: Device, size: number, cpuAddr: number, dmaHandle: number): void {
  dmaFreeAttrs(dev, size, cpuAddr, dmaHandle, DMA_ATTR_WRITE_COMBINE);
}

/** dma_get_sgtable_attrs(): describes a coherent allocation as a scatterlist (for dma-buf export). */
export function dmaGetSgtable(dev: Device, sgt: SgTable, cpuAddr: number, dmaHandle: number, size: number, attrs: DmaAttrs = 0): number {
  const t = targetOf(dev);
  if (t.ctx === undefined) return -ENXIO;
  if (dmaArgsInvalid(t, dev, 'dma_get_sgtable_attrs', { size, cpu: cpuAddr, addr: dmaHandle }, true)) return -EINVAL;
  return t.ops.getSgtable(dev, sgt, cpuAddr, dmaHandle, size, attrs);
}
