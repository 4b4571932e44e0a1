/**
 * Seed 004's dynamic bounce buffers (RFC v1, 2023): when a mapping is bounced through a buffer of its
 * own rather than pool slots, the buffer is whole pages the device can reach, tracked by PFN in a
 * B+ tree (the seed uses a maple tree), and freed on unmap.
 *
 * The seed's conditions, kept exactly:
 * - never for a pool used for allocations (a restricted DMA pool must stay where it is);
 * - not for buffers smaller than a page (page granularity would waste most of it);
 * - not when an alignment mask applies (alloc_align_mask or the device's min_align_mask), because
 *   page allocation makes no promise about the low address bits.
 */
import { PAGE_SIZE, alignUp, pfnOf } from '@dmasim/core/standalone';
import { DMA_MAPPING_ERROR } from './constants';
import type { DmaDataDirection } from './constants';
import type { SwiotlbContext } from './context';
import type { SwiotlbDevice } from './device';
import type { IoTlbDynSlot, IoTlbMem } from './mem';
import { allocReachablePages, freePageRun } from './pages';

/** swiotlb_dyn_map(): a dedicated bounce buffer, or DMA_MAPPING_ERROR when the seed's rules refuse or memory runs out. */
export function swiotlbDynMap(
  ctx: SwiotlbContext,
  dev: SwiotlbDevice,
  mem: IoTlbMem,
  origAddr: number,
  allocSize: number,
  allocAlignMask: number,
  dir: DmaDataDirection,
): number {
  if (mem.forAlloc) return DMA_MAPPING_ERROR;
  if (allocSize < PAGE_SIZE) return DMA_MAPPING_ERROR;
  if (allocAlignMask !== 0 || dev.dma.minAlignMask !== 0) return DMA_MAPPING_ERROR;
  const pages = allocReachablePages(ctx.pages, alignUp(allocSize, PAGE_SIZE), ctx.reach.physLimit(dev));
  if (pages === null) return DMA_MAPPING_ERROR;
  const slot: IoTlbDynSlot = { origAddr, allocSize, pages, dir };
  if (!mem.dynSlots.insert(pfnOf(pages.addr), Math.ceil(allocSize / PAGE_SIZE), slot)) {
    freePageRun(ctx.pages, pages);
    return DMA_MAPPING_ERROR;
  }
  mem.dynamicBuffers++;
  mem.dynamicBytes += pages.size;
  return pages.addr;
}

/** swiotlb_dyn_unmap(): forgets and frees the buffer `tlbAddr` is in. */
export function swiotlbDynUnmap(ctx: SwiotlbContext, mem: IoTlbMem, slot: IoTlbDynSlot): void {
  mem.dynSlots.remove(pfnOf(slot.pages.addr));
  mem.dynamicBytes -= slot.pages.size;
  freePageRun(ctx.pages, slot.pages);
}
