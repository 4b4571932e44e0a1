import type { Device } from '@dmasim/bus';
import type { GfpFlags } from '@dmasim/core';
import {
  DMA_ATTR_SKIP_CPU_SYNC,
  DMA_MAPPING_ERROR,
  hasAttr,
  type DmaAttrs,
  type DmaCoherentBuffer,
  type DmaDataDirection,
  type DmaMapOps,
  type Scatterlist,
  type SgTable,
} from '@dmasim/dma-mapping';
import type { IommuDma } from '../iommu-dma/iommu-dma';

/**
 * arm64's iommu_dma_ops as posted in seed 002 (arch/arm64/mm/dma-mapping.c, 2015): the generic
 * layer maps, the arch code does the cache maintenance. Single buffers are synced after mapping and
 * before unmapping through the IOMMU translation of the handle; scatterlists are synced over their
 * ORIGINAL CPU entries, `nelems` of them, whatever map_sg returned (see syncSgForCpu).
 */
export class Arm64IommuDmaOps implements DmaMapOps {
  readonly name = 'iommu-dma';

  constructor(readonly dma: IommuDma) {}

  /** __iommu_alloc_attrs(): remapped pages when the caller may sleep; else contiguous (atomic pool if non-coherent). */
  alloc(dev: Device, size: number, gfp: GfpFlags, attrs: DmaAttrs): DmaCoherentBuffer | null {
    return this.dma.alloc(dev, size, gfp, attrs);
  }

  /** __iommu_free_attrs(): tells the three kinds of allocation apart by their CPU address. */
  free(dev: Device, size: number, cpuAddr: number, dmaHandle: number, _attrs: DmaAttrs): void {
    this.dma.free(dev, size, cpuAddr, dmaHandle);
  }

  getSgtable(_dev: Device, sgt: SgTable, cpuAddr: number, _dmaHandle: number, size: number, _attrs: DmaAttrs): number {
    return this.dma.getSgtable(sgt, cpuAddr, size);
  }

  /** __iommu_map_page(): map, then clean the buffer for the device unless SKIP_CPU_SYNC. */
  mapPage(dev: Device, pagePhys: number, offset: number, size: number, dir: DmaDataDirection, attrs: DmaAttrs): number {
    const addr = this.dma.mapPage(dev, pagePhys, offset, size, dir, attrs, false);
    if (addr !== DMA_MAPPING_ERROR && !hasAttr(attrs, DMA_ATTR_SKIP_CPU_SYNC)) this.dma.syncSingleForDevice(dev, addr, size, dir);
    return addr;
  }

  /** __iommu_unmap_page(): sync for the CPU (unless SKIP_CPU_SYNC), then unmap. */
  unmapPage(dev: Device, dmaHandle: number, size: number, dir: DmaDataDirection, attrs: DmaAttrs): void {
    if (!hasAttr(attrs, DMA_ATTR_SKIP_CPU_SYNC)) this.dma.syncSingleForCpu(dev, dmaHandle, size, dir);
    this.dma.unmapPage(dev, dmaHandle, size, dir, attrs, false);
  }

  mapSg(dev: Device, sgl: Scatterlist[], nents: number, dir: DmaDataDirection, attrs: DmaAttrs): number {
    if (!hasAttr(attrs, DMA_ATTR_SKIP_CPU_SYNC)) this.dma.syncSgForDevice(dev, sgl, nents, dir);
    return this.dma.mapSg(dev, sgl, nents, dir, attrs, false);
  }

  unmapSg(dev: Device, sgl: Scatterlist[], nents: number, dir: DmaDataDirection, attrs: DmaAttrs): void {
    if (!hasAttr(attrs, DMA_ATTR_SKIP_CPU_SYNC)) this.dma.syncSgForCpu(dev, sgl, nents, dir);
    this.dma.unmapSg(dev, sgl, nents, dir, attrs, false);
  }

  /** The 2015 ops had no map_resource. */
  mapResource(): number {
    return DMA_MAPPING_ERROR;
  }

  unmapResource(): void {
    /* nothing was mapped */
  }

  syncSingleForCpu(dev: Device, dmaHandle: number, size: number, dir: DmaDataDirection): void {
    this.dma.syncSingleForCpu(dev, dmaHandle, size, dir);
  }

  syncSingleForDevice(dev: Device, dmaHandle: number, size: number, dir: DmaDataDirection): void {
    this.dma.syncSingleForDevice(dev, dmaHandle, size, dir);
  }

  /**
   * __iommu_sync_sg_for_cpu(): cache maintenance is by CPU address, so the original entries are
   * walked; `nelems` must be what was passed to map_sg. 32-bit arm's comment said "returned from
   * dma_map_sg": a caller following it passes the merged count and leaves the later entries stale.
   */
  syncSgForCpu(dev: Device, sgl: Scatterlist[], nelems: number, dir: DmaDataDirection): void {
    this.dma.syncSgForCpu(dev, sgl, nelems, dir);
  }

  syncSgForDevice(dev: Device, sgl: Scatterlist[], nelems: number, dir: DmaDataDirection): void {
    this.dma.syncSgForDevice(dev, sgl, nelems, dir);
  }

  /** iommu_dma_supported(): always (IOMMUs with narrower reach were left for later). */
  dmaSupported(): boolean {
    return true;
  }

  getRequiredMask(dev: Device): number {
    return dev.dmaMaskLimit;
  }

  maxMappingSize(): number {
    return Number.MAX_SAFE_INTEGER;
  }

  /** The 2015 ops had no get_merge_boundary. */
  getMergeBoundary(): number {
    return 0;
  }
}
