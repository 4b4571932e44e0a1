import type { Device } from '@dmasim/bus';
import { type GfpFlags } from '@dmasim/core';
import {
  DMA_MAPPING_ERROR,
  type DmaAttrs,
  type DmaCoherentBuffer,
  type DmaDataDirection,
  type DmaMapOps,
  type Scatterlist,
  type SgTable,
} from '@dmasim/dma-mapping';
import { IOMMU_MMIO } from '@dmasim/iommu-core';
import { iommuDmaMergeBoundary, type IommuDma } from '../iommu-dma/iommu-dma';
import { dmaInfoToProt } from '../iommu-dma/prot';

/**
 * iommu_dma_ops of current kernels (drivers/iommu/dma-iommu.c): every callback goes straight to
 * the generic layer, which does the CPU cache maintenance of non-coherent devices itself.
 */
export class IommuDmaOps implements DmaMapOps {
  readonly name = 'iommu-dma';

  constructor(readonly dma: IommuDma) {}

  alloc(dev: Device, size: number, gfp: GfpFlags, attrs: DmaAttrs): DmaCoherentBuffer | null {
    return this.dma.alloc(dev, size, gfp, attrs);
  }

  free(dev: Device, size: number, cpuAddr: number, dmaHandle: number, _attrs: DmaAttrs): void {
    this.dma.free(dev, size, cpuAddr, dmaHandle);
  }

  getSgtable(_dev: Device, sgt: SgTable, cpuAddr: number, _dmaHandle: number, size: number, _attrs: DmaAttrs): number {
    return this.dma.getSgtable(sgt, cpuAddr, size);
  }

  mapPage(dev: Device, pagePhys: number, offset: number, size: number, dir: DmaDataDirection, attrs: DmaAttrs): number {
    return this.dma.mapPage(dev, pagePhys, offset, size, dir, attrs, true);
  }

  unmapPage(dev: Device, dmaHandle: number, size: number, dir: DmaDataDirection, attrs: DmaAttrs): void {
    this.dma.unmapPage(dev, dmaHandle, size, dir, attrs, true);
  }

  mapSg(dev: Device, sgl: Scatterlist[], nents: number, dir: DmaDataDirection, attrs: DmaAttrs): number {
    return this.dma.mapSg(dev, sgl, nents, dir, attrs, true);
  }

  unmapSg(dev: Device, sgl: Scatterlist[], nents: number, dir: DmaDataDirection, attrs: DmaAttrs): void {
    this.dma.unmapSg(dev, sgl, nents, dir, attrs, true);
  }

  /** iommu_dma_map_resource(): MMIO, never cached, never synced. */
  mapResource(dev: Device, physAddr: number, size: number, dir: DmaDataDirection, attrs: DmaAttrs): number {
    return this.dma.mapPhys(dev, physAddr, size, dmaInfoToProt(dir, false, attrs) | IOMMU_MMIO, dev.dmaMaskLimit);
  }

  /** iommu_dma_unmap_resource(): no translation check, no sync. */
  unmapResource(dev: Device, dmaHandle: number, size: number, _dir: DmaDataDirection, _attrs: DmaAttrs): void {
    const cookie = this.dma.cookieFor(dev);
    if (cookie === null || dmaHandle === DMA_MAPPING_ERROR) return;
    if (this.dma.profile === 'linux-4.2') this.dma.unmap2015(cookie, dmaHandle);
    else this.dma.unmapRange(cookie, dmaHandle, size);
  }

  syncSingleForCpu(dev: Device, dmaHandle: number, size: number, dir: DmaDataDirection): void {
    this.dma.syncSingleForCpu(dev, dmaHandle, size, dir);
  }

  syncSingleForDevice(dev: Device, dmaHandle: number, size: number, dir: DmaDataDirection): void {
    this.dma.syncSingleForDevice(dev, dmaHandle, size, dir);
  }

  syncSgForCpu(dev: Device, sgl: Scatterlist[], nents: number, dir: DmaDataDirection): void {
    this.dma.syncSgForCpu(dev, sgl, nents, dir);
  }

  syncSgForDevice(dev: Device, sgl: Scatterlist[], nents: number, dir: DmaDataDirection): void {
    this.dma.syncSgForDevice(dev, sgl, nents, dir);
  }

  /** The IOMMU can reach all memory: any mask is fine (the IOVA allocator honours it). */
  dmaSupported(_dev: Device, _mask: number): boolean {
    return true;
  }

  getRequiredMask(dev: Device): number {
    return dev.dmaMaskLimit;
  }

  maxMappingSize(_dev: Device): number {
    return Number.MAX_SAFE_INTEGER;
  }

  getMergeBoundary(dev: Device): number {
    return iommuDmaMergeBoundary(dev);
  }
}
