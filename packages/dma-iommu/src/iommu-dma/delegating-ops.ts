import type { Device } from '@dmasim/bus';
import type { GfpFlags } from '@dmasim/core';
import type { DmaAttrs, DmaCoherentBuffer, DmaDataDirection, DmaMapOps, Scatterlist, SgTable } from '@dmasim/dma-mapping';
import type { IommuDma } from './iommu-dma';

/**
 * The part of every `iommu_dma_ops` generation that only forwards to the generic layer (IommuDma).
 * Generations differ in who does the CPU cache maintenance of non-coherent devices: current kernels
 * let the generic layer do it (`layerSyncs` true); arm64's 2015 ops did it in the arch code around
 * the calls (false) and override the map/unmap callbacks to add it. The callbacks a generation did
 * not have or answers differently (map_resource, get_merge_boundary) stay with the subclass.
 */
export abstract class IommuDmaDelegatingOps implements DmaMapOps {
  readonly name = 'iommu-dma';

  protected constructor(
    readonly dma: IommuDma,
    /** Whether IommuDma syncs non-coherent buffers itself inside map/unmap. */
    private readonly layerSyncs: boolean,
  ) {}

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
    return this.dma.mapPage(dev, pagePhys, offset, size, dir, attrs, this.layerSyncs);
  }

  unmapPage(dev: Device, dmaHandle: number, size: number, dir: DmaDataDirection, attrs: DmaAttrs): void {
    this.dma.unmapPage(dev, dmaHandle, size, dir, attrs, this.layerSyncs);
  }

  mapSg(dev: Device, sgl: Scatterlist[], nents: number, dir: DmaDataDirection, attrs: DmaAttrs): number {
    return this.dma.mapSg(dev, sgl, nents, dir, attrs, this.layerSyncs);
  }

  unmapSg(dev: Device, sgl: Scatterlist[], nents: number, dir: DmaDataDirection, attrs: DmaAttrs): void {
    this.dma.unmapSg(dev, sgl, nents, dir, attrs, this.layerSyncs);
  }

  abstract mapResource(dev: Device, physAddr: number, size: number, dir: DmaDataDirection, attrs: DmaAttrs): number;
  abstract unmapResource(dev: Device, dmaHandle: number, size: number, dir: DmaDataDirection, attrs: DmaAttrs): void;

  syncSingleForCpu(dev: Device, dmaHandle: number, size: number, dir: DmaDataDirection): void {
    this.dma.syncSingleForCpu(dev, dmaHandle, size, dir);
  }

  syncSingleForDevice(dev: Device, dmaHandle: number, size: number, dir: DmaDataDirection): void {
    this.dma.syncSingleForDevice(dev, dmaHandle, size, dir);
  }

  /**
   * Cache maintenance is by CPU address, so the original entries are walked: `nelems` must be the
   * count passed to map_sg, not the (possibly merged) count it returned.
   */
  syncSgForCpu(dev: Device, sgl: Scatterlist[], nelems: number, dir: DmaDataDirection): void {
    this.dma.syncSgForCpu(dev, sgl, nelems, dir);
  }

  syncSgForDevice(dev: Device, sgl: Scatterlist[], nelems: number, dir: DmaDataDirection): void {
    this.dma.syncSgForDevice(dev, sgl, nelems, dir);
  }

  /** iommu_dma_supported(): the IOMMU reaches all memory, and the IOVA allocator honours any mask. */
  dmaSupported(_dev: Device, _mask: number): boolean {
    return true;
  }

  getRequiredMask(dev: Device): number {
    return dev.dmaMaskLimit;
  }

  maxMappingSize(_dev: Device): number {
    return Number.MAX_SAFE_INTEGER;
  }

  abstract getMergeBoundary(dev: Device): number;
}
