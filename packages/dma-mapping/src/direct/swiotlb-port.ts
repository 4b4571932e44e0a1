import type { Device } from '@dmasim/bus';
import type { DmaAttrs, DmaDataDirection } from '../constants';

/**
 * What dma-direct needs from swiotlb, as one narrow interface: the kernel's dma-direct calls
 * `swiotlb_tbl_map_single`, `swiotlb_tbl_unmap_single`, the two bounce syncs, `is_swiotlb_buffer`,
 * `is_swiotlb_active`, `is_swiotlb_force_bounce` and `swiotlb_max_mapping_size` on the device's
 * io_tlb_mem (the default pool, or its restricted pool). `swiotlbPortFor()` in `swiotlb-adapter.ts`
 * implements it over @dmasim/swiotlb; tests may supply their own.
 */
export interface SwiotlbPort {
  /** is_swiotlb_active(dev): the device has a pool with slots. */
  isActive(dev: Device): boolean;
  /** is_swiotlb_force_bounce(dev): `swiotlb=force`, or a restricted pool. */
  isForceBounce(dev: Device): boolean;
  /** swiotlb_tbl_map_single(): the bounce buffer's physical address, or DMA_MAPPING_ERROR. */
  tblMapSingle(dev: Device, origPhys: number, size: number, allocAlignMask: number, dir: DmaDataDirection, attrs: DmaAttrs): number;
  /** swiotlb_tbl_unmap_single(): copies back by direction unless SKIP_CPU_SYNC, releases the slots. */
  tblUnmapSingle(dev: Device, tlbPhys: number, size: number, dir: DmaDataDirection, attrs: DmaAttrs): void;
  /** swiotlb_sync_single_for_cpu(). */
  syncSingleForCpu(dev: Device, tlbPhys: number, size: number, dir: DmaDataDirection): void;
  /** swiotlb_sync_single_for_device(). */
  syncSingleForDevice(dev: Device, tlbPhys: number, size: number, dir: DmaDataDirection): void;
  /** is_swiotlb_buffer() / swiotlb_find_pool() != NULL. */
  isSwiotlbBuffer(dev: Device, phys: number): boolean;
  /** swiotlb_max_mapping_size(). */
  maxMappingSize(dev: Device): number;
  /** swiotlb_alloc() from a restricted pool (for_alloc); null when the device has none or it is full. */
  alloc(dev: Device, size: number): number | null;
  /** swiotlb_free(): false when `phys` is not from the device's restricted pool. */
  free(dev: Device, phys: number, size: number): boolean;
  /** Whether allocations for this device come from its pool (io_tlb_mem.for_alloc). */
  forAlloc(dev: Device): boolean;
}
