import type { Device } from '@dmasim/bus';
import type { GfpFlags } from '@dmasim/core';
import type { DmaDataDirection } from '../constants';
import type { Scatterlist, SgTable } from '../scatterlist/sg-table';

/**
 * How the CPU reaches a coherent allocation: through the cacheable linear map (coherent device), an
 * uncached / write-combining remap (non-coherent device), or not at all (DMA_ATTR_NO_KERNEL_MAPPING:
 * the CPU address is only a cookie for dma_free_attrs).
 */
export type CoherentCpuMapping = 'cacheable' | 'uncached' | 'none';

/** What dma_alloc_attrs hands back: the CPU address (a physical address here, see README) and handle. */
export interface DmaCoherentBuffer {
  readonly cpuAddr: number;
  readonly dmaHandle: number;
  readonly size: number;
  readonly mapping: CoherentCpuMapping;
}

/**
 * struct dma_map_ops: what an ops layer (dma-direct here; iommu-dma and arm-iommu elsewhere)
 * implements. The DMA API facade calls these after its own checks, and dma-debug wraps them.
 * Returns follow the kernel: DMA_MAPPING_ERROR, a mapped count (0 or negative errno on failure),
 * null for a failed allocation.
 */
export interface DmaMapOps {
  /** Shown in reports: `direct`, `iommu-dma`, `arm-iommu`, `none`. */
  readonly name: string;
  alloc(dev: Device, size: number, gfp: GfpFlags, attrs: number): DmaCoherentBuffer | null;
  free(dev: Device, size: number, cpuAddr: number, dmaHandle: number, attrs: number): void;
  getSgtable(dev: Device, sgt: SgTable, cpuAddr: number, dmaHandle: number, size: number, attrs: number): number;
  /** map_page: `pagePhys` is the page's physical address, `offset` inside it. */
  mapPage(dev: Device, pagePhys: number, offset: number, size: number, dir: DmaDataDirection, attrs: number): number;
  unmapPage(dev: Device, dmaHandle: number, size: number, dir: DmaDataDirection, attrs: number): void;
  /** map_sg: fills dmaAddress/dmaLength of the first n entries and returns n, or 0 / -errno. */
  mapSg(dev: Device, sgl: Scatterlist[], nents: number, dir: DmaDataDirection, attrs: number): number;
  unmapSg(dev: Device, sgl: Scatterlist[], nents: number, dir: DmaDataDirection, attrs: number): void;
  mapResource(dev: Device, physAddr: number, size: number, dir: DmaDataDirection, attrs: number): number;
  unmapResource(dev: Device, dmaHandle: number, size: number, dir: DmaDataDirection, attrs: number): void;
  syncSingleForCpu(dev: Device, dmaHandle: number, size: number, dir: DmaDataDirection): void;
  syncSingleForDevice(dev: Device, dmaHandle: number, size: number, dir: DmaDataDirection): void;
  syncSgForCpu(dev: Device, sgl: Scatterlist[], nents: number, dir: DmaDataDirection): void;
  syncSgForDevice(dev: Device, sgl: Scatterlist[], nents: number, dir: DmaDataDirection): void;
  /** dma_supported: whether a mask (given as a limit) can be honoured. */
  dmaSupported(dev: Device, mask: number): boolean;
  /** dma_get_required_mask, as a limit. */
  getRequiredMask(dev: Device): number;
  /** max_mapping_size; Number.MAX_SAFE_INTEGER stands for SIZE_MAX. */
  maxMappingSize(dev: Device): number;
  /** get_merge_boundary; 0 when the layer does not merge. */
  getMergeBoundary(dev: Device): number;
}
