import type { Device } from '@dmasim/bus';
import { DMA_ATTR_SKIP_CPU_SYNC, DMA_MAPPING_ERROR, hasAttr, type DmaAttrs, type DmaDataDirection, type Scatterlist } from '@dmasim/dma-mapping';
import { IommuDmaDelegatingOps } from '../iommu-dma/delegating-ops';
import type { IommuDma } from '../iommu-dma/iommu-dma';

/**
 * arm64's iommu_dma_ops as posted in seed 002 (arch/arm64/mm/dma-mapping.c, 2015): the generic
 * layer maps, the arch code does the cache maintenance. Single buffers are synced after mapping and
 * before unmapping through the IOMMU translation of the handle; scatterlists are synced over their
 * ORIGINAL CPU entries, `nelems` of them, whatever map_sg returned (see syncSgForCpu: 32-bit arm's
 * comment said "returned from dma_map_sg", and a caller following it leaves the later entries stale).
 * Allocation (__iommu_alloc_attrs: remapped pages when the caller may sleep, else contiguous, from
 * the atomic pool if non-coherent) and freeing go straight to the generic layer.
 */
export class Arm64IommuDmaOps extends IommuDmaDelegatingOps {
  constructor(dma: IommuDma) {
    super(dma, false);
  }

  /** __iommu_map_page(): map, then clean the buffer for the device unless SKIP_CPU_SYNC. */
  override mapPage(dev: Device, pagePhys: number, offset: number, size: number, dir: DmaDataDirection, attrs: DmaAttrs): number {
    const addr = super.mapPage(dev, pagePhys, offset, size, dir, attrs);
    if (addr !== DMA_MAPPING_ERROR && !hasAttr(attrs, DMA_ATTR_SKIP_CPU_SYNC)) this.dma.syncSingleForDevice(dev, addr, size, dir);
    return addr;
  }

  /** __iommu_unmap_page(): sync for the CPU (unless SKIP_CPU_SYNC), then unmap. */
  override unmapPage(dev: Device, dmaHandle: number, size: number, dir: DmaDataDirection, attrs: DmaAttrs): void {
    if (!hasAttr(attrs, DMA_ATTR_SKIP_CPU_SYNC)) this.dma.syncSingleForCpu(dev, dmaHandle, size, dir);
    super.unmapPage(dev, dmaHandle, size, dir, attrs);
  }

  override mapSg(dev: Device, sgl: Scatterlist[], nents: number, dir: DmaDataDirection, attrs: DmaAttrs): number {
    if (!hasAttr(attrs, DMA_ATTR_SKIP_CPU_SYNC)) this.dma.syncSgForDevice(dev, sgl, nents, dir);
    return super.mapSg(dev, sgl, nents, dir, attrs);
  }

  override unmapSg(dev: Device, sgl: Scatterlist[], nents: number, dir: DmaDataDirection, attrs: DmaAttrs): void {
    if (!hasAttr(attrs, DMA_ATTR_SKIP_CPU_SYNC)) this.dma.syncSgForCpu(dev, sgl, nents, dir);
    super.unmapSg(dev, sgl, nents, dir, attrs);
  }

  /** The 2015 ops had no map_resource. */
  mapResource(): number {
    return DMA_MAPPING_ERROR;
  }

  unmapResource(): void {
    /* nothing was mapped */
  }

  /** The 2015 ops had no get_merge_boundary. */
  getMergeBoundary(): number {
    return 0;
  }
}
