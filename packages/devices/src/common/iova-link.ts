import { Slot, type Device } from '@dmasim/bus';
import type { DmaAttrs, DmaDataDirection } from '@dmasim/dma-mapping';

/**
 * struct dma_iova_state: an IOVA range reserved up front. `addr` keeps the offset of the first
 * physical address inside the IOVA granule (seed 001: NVMe's unaligned first segment); 0 = none.
 */
export interface DmaIovaState {
  addr: number;
  size: number;
}

/**
 * The two-step IOVA API of seed 001 (dma_iova_try_alloc / link / sync / unlink / free / destroy), as
 * a capability the machine hands a device when its DMA goes through iommu-dma. Devices cannot import
 * dma-iommu, so the machine adapts dma-iommu's functions to this interface and puts it in
 * IOVA_LINK_SLOT; a device without it (dma-direct, no IOMMU) falls back to dma_map_sg.
 */
export interface IovaLinkApi {
  /** dma_iova_try_alloc: reserves IOVA for `size` bytes starting at `phys`; false when unavailable. */
  tryAlloc(dev: Device, state: DmaIovaState, phys: number, size: number): boolean;
  /** dma_iova_link: maps `size` bytes of `phys` at `offset` into the range; 0 or -errno. */
  link(dev: Device, state: DmaIovaState, phys: number, offset: number, size: number, dir: DmaDataDirection, attrs: DmaAttrs): number;
  /** dma_iova_sync: IOTLB sync after linking [offset, offset+size); 0 or -errno. */
  sync(dev: Device, state: DmaIovaState, offset: number, size: number): number;
  /** dma_iova_unlink: unmaps [offset, offset+size) (with CPU syncs unless SKIP_CPU_SYNC). */
  unlink(dev: Device, state: DmaIovaState, offset: number, size: number, dir: DmaDataDirection, attrs: DmaAttrs): void;
  /** dma_iova_free: gives the IOVA range back (nothing may be linked). */
  free(dev: Device, state: DmaIovaState): void;
  /** dma_iova_destroy: unlink of `mappedLen` bytes from 0, then free. */
  destroy(dev: Device, state: DmaIovaState, mappedLen: number, dir: DmaDataDirection, attrs: DmaAttrs): void;
}

/** Set by the machine on devices whose DMA ops support the two-step API. */
export const IOVA_LINK_SLOT = new Slot<IovaLinkApi>('devices.iova-link');

/** The device's two-step IOVA API, or null (use dma_map_sg). */
export function iovaLinkApi(dev: Device): IovaLinkApi | null {
  return dev.getSlot(IOVA_LINK_SLOT) ?? null;
}
