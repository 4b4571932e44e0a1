/**
 * One pool of bounce slots (struct io_tlb_pool): a physically contiguous range cut into 2 KiB slots,
 * grouped in segments of 128 slots that no mapping crosses, and split into areas that are searched
 * separately (one per CPU in the kernel, so CPUs rarely contend).
 *
 * Slot state lives in typed arrays, one entry per slot, so a 32768-slot pool is a handful of flat
 * arrays rather than 32768 objects:
 * - `list[i]`: free slots from i to the end of i's segment when i is free, 0 when i is used;
 * - `origAddr[i]`: the original buffer address this slot shadows (INVALID_PHYS_ADDR when free);
 * - `allocSize[i]`: bytes of the allocation from this slot on (used to bound copies and to free);
 * - `padSlots[i]`: slots skipped before i to honour min_align_mask (set on the first used slot).
 */
import { PAGE_SIZE } from '@dmasim/core';
import { INVALID_PHYS_ADDR, IO_TLB_SEGSIZE, IO_TLB_SIZE, ioTlbOffset, nrSlots } from './constants';
import type { DeviceReach, SwiotlbDevice } from './device';
import { andAbove, andMask } from './mask';

/** What a pool is for, for statistics and reports. */
export type PoolKind = 'default' | 'grown' | 'transient' | 'restricted';

/** The min_align_mask offset kept inside the first slot (swiotlb_align_offset with align_mask 0 or given). */
export function swiotlbAlignOffset(dev: SwiotlbDevice, allocAlignMask: number, addr: number): number {
  const minAlign = dev.dma.minAlignMask;
  if (minAlign === 0) return 0;
  const kept = andMask(addr, minAlign);
  // keep only the bits inside (alloc_align_mask | IO_TLB_SIZE - 1), both low masks
  return kept % (Math.max(allocAlignMask, IO_TLB_SIZE - 1) + 1);
}

/** Whether a 32-bit word of slot bytes holds a used slot (a zero byte); bitwise on a genuine 32-bit value. */
function hasZeroByte(w: number): boolean {
  return ((w - 0x01010101) & ~w & 0x80808080) !== 0;
}

/** The largest number of slots a segment boundary allows (get_max_slots); Infinity for none. */
function maxSlotsFor(boundaryMask: number | undefined): number {
  return boundaryMask === undefined ? Infinity : nrSlots(boundaryMask + 1);
}

/** iommu_is_span_boundary: whether nr slots from index would cross a boundary every `boundarySlots`. */
function crossesBoundary(index: number, nr: number, shift: number, boundarySlots: number): boolean {
  if (boundarySlots === Infinity) return false;
  return ((shift + index) % boundarySlots) + nr > boundarySlots;
}

export class IoTlbPool {
  readonly end: number;
  readonly areaNslabs: number;
  readonly list: Uint8Array;
  /**
   * `list` followed by the run IO_TLB_SEGSIZE, ..., 2, 1: renumbering a free run is then one copy of
   * the template's tail (a memmove) rather than a loop over up to a segment of slots.
   */
  private readonly listStore: Uint8Array;
  /** The same bytes four at a time, to step over free slots quickly when looking for a run's start. */
  private readonly listWords: Int32Array;
  readonly origAddr: Float64Array;
  readonly allocSize: Float64Array;
  readonly padSlots: Uint16Array;
  /** Per area: slots in use. */
  readonly areaUsed: Int32Array;
  /** Per area: where the next search starts (relative to the area). */
  readonly areaIndex: Int32Array;

  constructor(
    readonly start: number,
    readonly nslabs: number,
    readonly nareas: number,
    readonly kind: PoolKind,
  ) {
    if (!Number.isSafeInteger(nslabs) || nslabs <= 0) throw new RangeError(`IoTlbPool: bad slot count ${nslabs}`);
    if (!Number.isSafeInteger(nareas) || nareas <= 0 || nslabs % nareas !== 0) {
      throw new RangeError(`IoTlbPool: ${nslabs} slots cannot be split into ${nareas} areas`);
    }
    this.end = start + nslabs * IO_TLB_SIZE;
    this.areaNslabs = nslabs / nareas;
    const storeBytes = Math.ceil((nslabs + IO_TLB_SEGSIZE) / 4) * 4;
    this.listStore = new Uint8Array(storeBytes);
    this.listWords = new Int32Array(this.listStore.buffer, 0, storeBytes / 4);
    this.list = this.listStore.subarray(0, nslabs);
    for (let t = 0; t < IO_TLB_SEGSIZE; t++) this.listStore[nslabs + t] = IO_TLB_SEGSIZE - t;
    this.origAddr = new Float64Array(nslabs).fill(INVALID_PHYS_ADDR);
    this.allocSize = new Float64Array(nslabs);
    this.padSlots = new Uint16Array(nslabs);
    this.areaUsed = new Int32Array(nareas);
    this.areaIndex = new Int32Array(nareas);
    for (let i = 0; i < nslabs; i++) this.list[i] = Math.min(IO_TLB_SEGSIZE - ioTlbOffset(i), nslabs - i);
  }

  get transient(): boolean {
    return this.kind === 'transient';
  }

  /** Slots in use over all areas. */
  get used(): number {
    let n = 0;
    for (let a = 0; a < this.nareas; a++) n += this.areaUsed[a]!;
    return n;
  }

  contains(paddr: number): boolean {
    return paddr >= this.start && paddr < this.end;
  }

  slotAddr(index: number): number {
    return this.start + index * IO_TLB_SIZE;
  }

  slotIndexOf(paddr: number): number {
    return Math.floor((paddr - this.start) / IO_TLB_SIZE);
  }

  private wrap(index: number): number {
    return index >= this.areaNslabs ? 0 : index;
  }

  /**
   * swiotlb_search_pool_area(): finds and takes `nrSlots(allocSize)` free slots in one area that
   * satisfy the alignment rules, or returns -1.
   *
   * - allocations of a page or more with no other constraint are page aligned (historic guarantee);
   * - every allocation is at least slot aligned;
   * - bits of min_align_mask above the allocation alignment must equal the original's (the bits
   *   below are kept by an offset into the first slot instead);
   * - no allocation crosses the device's segment boundary or a 128-slot segment.
   */
  searchArea(dev: SwiotlbDevice, reach: DeviceReach, areaIndex: number, origAddr: number, allocSize: number, allocAlignMask: number): number {
    const boundaryMask = dev.dma.segmentBoundaryMask;
    const dmaStart = reach.physToDma === undefined ? this.start : reach.physToDma(dev, this.start);
    const tblDmaAddr = boundaryMask === undefined ? dmaStart : andMask(dmaStart, boundaryMask);
    const maxSlots = maxSlotsFor(boundaryMask);
    const minAlignMask = dev.dma.minAlignMask;
    const nslots = nrSlots(allocSize);
    if (nslots === 0) throw new RangeError('swiotlb: zero-sized slot search');
    const offset = swiotlbAlignOffset(dev, 0, origAddr);

    let alignMask = allocAlignMask;
    if (alignMask === 0 && minAlignMask === 0 && allocSize >= PAGE_SIZE) alignMask = PAGE_SIZE - 1;
    alignMask = Math.max(alignMask, IO_TLB_SIZE - 1);
    const align = alignMask + 1;
    // the min_align_mask bits that slot choice must match (those above the allocation alignment)
    const iotlbMask = minAlignMask > alignMask ? minAlignMask : 0;
    const origBits = iotlbMask !== 0 && origAddr !== 0 ? andAbove(origAddr, iotlbMask, alignMask) : -1;
    const stride = Math.floor(Math.max(alignMask, iotlbMask) / IO_TLB_SIZE) + 1;

    const areaNslabs = this.areaNslabs;
    if (nslots > areaNslabs - this.areaUsed[areaIndex]!) return -1;
    const slotBase = areaIndex * areaNslabs;
    const tblShift = nrSlots(tblDmaAddr);
    const list = this.list;
    let index = this.areaIndex[areaIndex]!;
    let slotIndex = -1;
    for (let checked = 0; checked < areaNslabs; ) {
      const si = slotBase + index;
      const tlbAddr = tblDmaAddr + si * IO_TLB_SIZE;
      if (tlbAddr % align !== 0 || (origBits >= 0 && andAbove(tlbAddr, iotlbMask, alignMask) !== origBits)) {
        index = this.wrap(index + 1);
        checked++;
        continue;
      }
      if (!crossesBoundary(si, nslots, tblShift, maxSlots) && list[si]! >= nslots) {
        slotIndex = si;
        break;
      }
      index = this.wrap(index + stride);
      checked += stride;
    }
    if (slotIndex < 0) return -1;

    for (let i = slotIndex; i < slotIndex + nslots; i++) {
      list[i] = 0;
      this.allocSize[i] = allocSize - (offset + (i - slotIndex) * IO_TLB_SIZE);
    }
    // free slots just before the allocation, back to the start of its segment, now end at it: renumber them
    this.renumber(this.freeRunStart(slotIndex), slotIndex);
    this.areaIndex[areaIndex] = this.wrap(index + nslots);
    this.areaUsed[areaIndex] = this.areaUsed[areaIndex]! + nslots;
    return slotIndex;
  }

  /** The first slot of the free run ending just before `index` (index itself when the slot before is used or in another segment). */
  private freeRunStart(index: number): number {
    const segStart = index - ioTlbOffset(index);
    const list = this.list;
    let j = index;
    while (j > segStart && j % 4 !== 0 && list[j - 1] !== 0) j--;
    if (j % 4 === 0) {
      // whole words of free slots (no zero byte); segments start on a word, so words never cross one
      const words = this.listWords;
      const wordStart = segStart / 4;
      let w = j / 4;
      while (w > wordStart && !hasZeroByte(words[w - 1]!)) w--;
      j = w * 4;
      while (j > segStart && list[j - 1] !== 0) j--;
    }
    return j;
  }

  /** Marks [from, to), at most one segment, as one free run: list[i] = to - i. */
  private renumber(from: number, to: number): void {
    if (to <= from) return;
    const tplEnd = this.nslabs + IO_TLB_SEGSIZE;
    this.listStore.copyWithin(from, tplEnd - (to - from), tplEnd);
  }

  /** Records which original bytes the slots from `index` shadow (after the search took them). */
  setOrig(index: number, padSlots: number, nslots: number, origAddr: number): void {
    this.padSlots[index] = padSlots;
    for (let i = 0; i < nslots; i++) this.origAddr[index + i] = origAddr + i * IO_TLB_SIZE;
  }

  /**
   * swiotlb_release_slots(): frees the allocation `tlbAddr` points into and merges the freed slots
   * with free neighbours in the same segment. Returns the number of slots freed.
   */
  releaseSlots(dev: SwiotlbDevice, tlbAddr: number): number {
    const offset = swiotlbAlignOffset(dev, 0, tlbAddr);
    let index = Math.floor((tlbAddr - offset - this.start) / IO_TLB_SIZE);
    index -= this.padSlots[index]!;
    const nslots = nrSlots(this.allocSize[index]! + offset);
    const aindex = Math.floor(index / this.areaNslabs);
    const list = this.list;
    const segStart = index - ioTlbOffset(index);
    // ALIGN(index + 1, SEGSIZE), or the pool's end for a short last segment
    const segEnd = Math.min(segStart + IO_TLB_SEGSIZE, this.nslabs);
    const runEnd = index + nslots + (index + nslots < segEnd ? list[index + nslots]! : 0);
    const origAddr = this.origAddr;
    const allocSize = this.allocSize;
    const padSlots = this.padSlots;
    for (let i = index; i < index + nslots; i++) {
      origAddr[i] = INVALID_PHYS_ADDR;
      allocSize[i] = 0;
      padSlots[i] = 0;
    }
    // the freed slots join the free runs either side of them (within the segment): renumber the whole run
    this.renumber(this.freeRunStart(index), runEnd);
    this.areaUsed[aindex] = this.areaUsed[aindex]! - nslots;
    return nslots;
  }
}
