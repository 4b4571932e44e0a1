/**
 * One pool of bounce slots (struct io_tlb_pool): a physically contiguous range cut into 2 KiB slots,
 * grouped in segments of 128 slots that no mapping crosses, and split into areas that are searched
 * separately (one per CPU in the kernel, so CPUs rarely contend).
 *
 * Slot state lives in typed arrays, one entry per slot, so a 32768-slot pool is a handful of flat
 * arrays rather than 32768 objects:
 * - a bitmap of used slots, 32 to a word. The kernel keeps `list[i]` instead (free slots from i to
 *   the next used slot or the end of i's segment, 0 when used) and renumbers up to a segment of them
 *   on every allocation and free; "list[i] >= n" is exactly "the n slots from i are free and in i's
 *   segment", which the bitmap answers with a few word tests and changes with a few word writes.
 *   `list` is still available, derived from the bitmap, for checks;
 * - `origAddr[i]`: the original buffer address this slot shadows (INVALID_PHYS_ADDR when free);
 * - `allocSize[i]`: bytes of the allocation from this slot on (used to bound copies and to free);
 * - `padSlots[i]`: slots skipped before i to honour min_align_mask (set on the first used slot).
 */
import { PAGE_SIZE, modulo } from '@dmasim/core/standalone';
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
  return modulo(kept, Math.max(allocAlignMask, IO_TLB_SIZE - 1) + 1);
}

/** BELOW[k]: the 32-bit word with bits 0..k-1 set (k = 0..32); bitwise use on genuine 32-bit words only. */
const BELOW = Int32Array.from({ length: 33 }, (_, k) => 2 ** k - 1);
const SLOTS_PER_WORD = 32;

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
  /** Bit (i % 32) of word floor(i / 32) is set when slot i is used; slots past the pool count as used. */
  private readonly usedBits: Int32Array;
  // Per-slot metadata, allocated on first use: a boot builds a 64 MiB pool (32768 slots, ~640 KB of
  // arrays) that many runs never bounce through, and zero-filling it dominated machine construction.
  private origAddrs: Float64Array | null = null;
  private allocSizes: Float64Array | null = null;
  private pads: Uint16Array | null = null;
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
    const words = Math.ceil(nslabs / SLOTS_PER_WORD);
    this.usedBits = new Int32Array(words);
    const tail = nslabs - (words - 1) * SLOTS_PER_WORD;
    if (tail < SLOTS_PER_WORD) this.usedBits[words - 1] = ~BELOW[tail]!;
    this.areaUsed = new Int32Array(nareas);
    this.areaIndex = new Int32Array(nareas);
  }

  /** Per slot: the original address it shadows, INVALID_PHYS_ADDR when free. */
  get origAddr(): Float64Array {
    return (this.origAddrs ??= new Float64Array(this.nslabs).fill(INVALID_PHYS_ADDR));
  }

  /** Per slot: bytes of the allocation from this slot on. */
  get allocSize(): Float64Array {
    return (this.allocSizes ??= new Float64Array(this.nslabs));
  }

  /** Per slot: padding slots before it (on an allocation's first used slot). */
  get padSlots(): Uint16Array {
    return (this.pads ??= new Uint16Array(this.nslabs));
  }

  /**
   * The kernel's `slots[i].list` for every slot: 0 when used, else the free slots from i to the next
   * used slot or the end of i's segment. Built on demand (for checks), not kept.
   */
  get list(): Uint8Array {
    const out = new Uint8Array(this.nslabs);
    for (let i = this.nslabs - 1; i >= 0; i--) {
      if (!this.isFree(i, 1)) continue;
      out[i] = ioTlbOffset(i) === IO_TLB_SEGSIZE - 1 || i === this.nslabs - 1 ? 1 : out[i + 1]! + 1;
    }
    return out;
  }

  /** Whether the `n` slots from `index` are all free (they may cross a segment: callers check that). */
  private isFree(index: number, n: number): boolean {
    const bits = this.usedBits;
    let w = Math.floor(index / SLOTS_PER_WORD);
    let lo = index - w * SLOTS_PER_WORD;
    let left = n;
    while (left > 0) {
      const hi = Math.min(SLOTS_PER_WORD, lo + left);
      if ((bits[w]! & (BELOW[hi]! ^ BELOW[lo]!)) !== 0) return false;
      left -= hi - lo;
      lo = 0;
      w++;
    }
    return true;
  }

  /** Marks the `n` slots from `index` used or free. */
  private markSlots(index: number, n: number, used: boolean): void {
    const bits = this.usedBits;
    let w = Math.floor(index / SLOTS_PER_WORD);
    let lo = index - w * SLOTS_PER_WORD;
    let left = n;
    while (left > 0) {
      const hi = Math.min(SLOTS_PER_WORD, lo + left);
      const m = BELOW[hi]! ^ BELOW[lo]!;
      bits[w] = used ? bits[w]! | m : bits[w]! & ~m;
      left -= hi - lo;
      lo = 0;
      w++;
    }
  }

  /** list[index] >= n: the n slots from index are free and inside index's segment (and the pool). */
  private fits(index: number, n: number): boolean {
    return ioTlbOffset(index) + n <= IO_TLB_SEGSIZE && index + n <= this.nslabs && this.isFree(index, n);
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
    let index = this.areaIndex[areaIndex]!;
    let slotIndex = -1;
    for (let checked = 0; checked < areaNslabs; ) {
      const si = slotBase + index;
      const tlbAddr = tblDmaAddr + si * IO_TLB_SIZE;
      if (modulo(tlbAddr, align) !== 0 || (origBits >= 0 && andAbove(tlbAddr, iotlbMask, alignMask) !== origBits)) {
        index = this.wrap(index + 1);
        checked++;
        continue;
      }
      if (!crossesBoundary(si, nslots, tblShift, maxSlots) && this.fits(si, nslots)) {
        slotIndex = si;
        break;
      }
      index = this.wrap(index + stride);
      checked += stride;
    }
    if (slotIndex < 0) return -1;

    const sizes = this.allocSize;
    for (let i = 0; i < nslots; i++) sizes[slotIndex + i] = allocSize - (offset + i * IO_TLB_SIZE);
    this.markSlots(slotIndex, nslots, true);
    this.areaIndex[areaIndex] = this.wrap(index + nslots);
    this.areaUsed[areaIndex] = this.areaUsed[areaIndex]! + nslots;
    return slotIndex;
  }

  /** Records which original bytes the slots from `index` shadow (after the search took them). */
  setOrig(index: number, padSlots: number, nslots: number, origAddr: number): void {
    this.padSlots[index] = padSlots;
    const orig = this.origAddr;
    for (let i = 0; i < nslots; i++) orig[index + i] = origAddr + i * IO_TLB_SIZE;
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
    const origAddr = this.origAddr;
    const allocSize = this.allocSize;
    const padSlots = this.padSlots;
    for (let i = index; i < index + nslots; i++) {
      origAddr[i] = INVALID_PHYS_ADDR;
      allocSize[i] = 0;
      padSlots[i] = 0;
    }
    // the freed slots join the free runs either side of them: nothing to renumber with a bitmap
    this.markSlots(index, nslots, false);
    this.areaUsed[aindex] = this.areaUsed[aindex]! - nslots;
    return nslots;
  }
}
