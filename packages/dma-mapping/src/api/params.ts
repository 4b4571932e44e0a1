import type { Device } from '@dmasim/bus';
import { EIO, dmaBitMask } from '@dmasim/core';
import { dmaStreamingLimit, maskBitsOf } from '../direct/translate';
import { getDmaOps } from '../context';

/**
 * Masks and segment parameters. Masks are passed as the kernel's DMA_BIT_MASK(n) values, i.e. limits
 * 2^n - 1 (`dmaBitMask(n)` from core); the device stores the bit width.
 */

/** dma_supported(). */
export function dmaSupported(dev: Device, mask: number): boolean {
  return getDmaOps(dev).dmaSupported(dev, mask);
}

/** dma_set_mask(): -EIO when the device cannot DMA or its ops cannot honour the mask. */
export function dmaSetMask(dev: Device, mask: number): number {
  if (!dmaSupported(dev, mask)) return -EIO;
  dev.dma.maskBits = maskBitsOf(mask);
  return 0;
}

/** dma_set_coherent_mask(). */
export function dmaSetCoherentMask(dev: Device, mask: number): number {
  if (!dmaSupported(dev, mask)) return -EIO;
  dev.dma.coherentMaskBits = maskBitsOf(mask);
  return 0;
}

/** dma_set_mask_and_coherent(). */
export function dmaSetMaskAndCoherent(dev: Device, mask: number): number {
  const rc = dmaSetMask(dev, mask);
  if (rc === 0) dmaSetCoherentMask(dev, mask);
  return rc;
}

/** dma_get_mask(), as a limit. */
export function dmaGetMask(dev: Device): number {
  return dmaBitMask(dev.dma.maskBits);
}

/** dma_get_required_mask(). */
export function dmaGetRequiredMask(dev: Device): number {
  return getDmaOps(dev).getRequiredMask(dev);
}

/** dma_max_mapping_size(): Number.MAX_SAFE_INTEGER stands for SIZE_MAX. */
export function dmaMaxMappingSize(dev: Device): number {
  return getDmaOps(dev).maxMappingSize(dev);
}

/** dma_get_merge_boundary(). */
export function dmaGetMergeBoundary(dev: Device): number {
  return getDmaOps(dev).getMergeBoundary(dev);
}

/** dma_get_max_seg_size(). */
export function dmaGetMaxSegSize(dev: Device): number {
  return dev.dma.maxSegmentSize;
}

/** dma_set_max_seg_size(). */
export function dmaSetMaxSegSize(dev: Device, size: number): number {
  dev.dma.maxSegmentSize = size;
  return 0;
}

/** dma_get_seg_boundary(): a mask (boundary every mask+1 bytes). */
export function dmaGetSegBoundary(dev: Device): number {
  return dev.dma.segmentBoundaryMask;
}

/** dma_set_seg_boundary(). */
export function dmaSetSegBoundary(dev: Device, mask: number): number {
  dev.dma.segmentBoundaryMask = mask;
  return 0;
}

/** dma_set_min_align_mask(). */
export function dmaSetMinAlignMask(dev: Device, mask: number): void {
  dev.dma.minAlignMask = mask;
}

/** dma_get_min_align_mask(). */
export function dmaGetMinAlignMask(dev: Device): number {
  return dev.dma.minAlignMask;
}

/** dma_addressing_limited(): the device cannot reach all of RAM without help (bounce or IOMMU). */
export function dmaAddressingLimited(dev: Device): boolean {
  return dmaStreamingLimit(dev) < dmaGetRequiredMask(dev);
}
