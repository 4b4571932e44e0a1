import { EINVAL, PAGE_SHIFT, PAGE_SIZE, alignUp, pow2 } from '@dmasim/core';
import { DMA_MAPPING_ERROR } from '@dmasim/dma-mapping';
import type { IommuDomain } from '@dmasim/iommu-core';
import { IovaBitmap } from './bitmap';

/**
 * CONFIG_ARM_DMA_IOMMU_ALIGNMENT ("Maximum PAGE_SIZE order of alignment for DMA IOMMU buffers",
 * range 4..9, default 8): an allocation is aligned to its own order, but never beyond 2^8 pages.
 */
export const ARM_DMA_IOMMU_ALIGNMENT = 8;

/** BITS_PER_LONG on 32-bit ARM: bitmaps are allocated in whole longs. */
export const ARM_BITS_PER_LONG = 32;

/** BITS_TO_LONGS(n) * BITS_PER_LONG: the bits a kzalloc'ed bitmap of n bits really has. */
export function bitsInWholeLongs(n: number): number {
  return alignUp(n, ARM_BITS_PER_LONG);
}

/** get_order() as 32-bit ARM computes it (get_order(0) is 32 - PAGE_SHIFT). */
export function getOrder(size: number): number {
  if (size <= 0) return ARM_BITS_PER_LONG - PAGE_SHIFT;
  if (size <= PAGE_SIZE) return 0;
  return Math.max(0, Math.ceil(Math.log2(Math.ceil(size / PAGE_SIZE))));
}

/** struct dma_iommu_iova_range: one bitmap and the IOVA window it hands out. */
export interface DmaIommuIovaRange {
  /** First IOVA of the range. */
  readonly base: number;
  /** Bytes of IOVA space the range stands for (what the next range's base is counted from). */
  readonly size: number;
  /** Bits of the bitmap (whole longs, so possibly more than `size` needs: see README). */
  readonly bits: number;
  readonly bitmap: IovaBitmap;
}

/** Which form of the mapping: the posted patch, or the reviewer's two-argument proposal. */
export type ArmMappingVariant = 'seed' | 'simple';

/**
 * How a mapping grows: whether another range may be added, and which. The two variants differ only
 * here; allocation and freeing are the same code.
 */
export interface ArmMappingGrowth {
  readonly variant: ArmMappingVariant;
  /** 0 when a range may be added, else -EINVAL (the mapping may not grow any more). */
  check(mapping: DmaIommuMapping): number;
  /** Bytes and bits of the next range. */
  next(mapping: DmaIommuMapping): { size: number; bits: number };
}

/**
 * The posted patch (seed 000): grow by `growSize`, refused when growSize is 0 or when
 * `size + growSize >= maxSize`. Note `>=`: the mapping never reaches maxSize itself; the last
 * range it may add ends one grow step short of it.
 */
export function seedGrowth(growSize: number, maxSize: number): ArmMappingGrowth {
  return {
    variant: 'seed',
    check: (m) => (growSize === 0 || m.size + growSize >= maxSize ? -EINVAL : 0),
    next: (m) => ({ size: growSize, bits: bitsInWholeLongs(Math.floor(growSize / m.unit)) }),
  };
}

/**
 * The reviewer's form: every bitmap is the size of the first (one page of bits, or less for a small
 * mapping) and the mapping may hold `extensions` of them.
 */
export function simpleGrowth(bitsPerBitmap: number, extensions: number): ArmMappingGrowth {
  return {
    variant: 'simple',
    check: (m) => (m.ranges.length >= extensions ? -EINVAL : 0),
    next: (m) => ({ size: bitsPerBitmap * m.unit, bits: bitsPerBitmap }),
  };
}

export interface DmaIommuMappingInit {
  readonly domain: IommuDomain;
  readonly base: number;
  /** Bytes of the first range. */
  readonly size: number;
  /** Bits of the first bitmap. */
  readonly bits: number;
  /** One bit covers 2^order pages. */
  readonly order: number;
  readonly growSize: number;
  readonly maxSize: number;
  readonly growth: ArmMappingGrowth;
  /** iommu_domain_free, called when the last reference goes. */
  readonly freeDomain: (domain: IommuDomain) => void;
}

/**
 * struct dma_iommu_mapping (arch/arm/include/asm/dma-iommu.h with seed 000): an IOMMU domain and the
 * IOVA ranges handed out from it, each with a bitmap where one bit covers 2^order pages. Ranges are
 * added, one at a time, only when no existing range has room for an allocation.
 */
export class DmaIommuMapping {
  readonly domain: IommuDomain;
  /** The list of ranges (mapping->iova_ranges), in the order they were added: ascending IOVA. */
  readonly ranges: DmaIommuIovaRange[] = [];
  readonly base: number;
  /** Total bytes of the ranges so far. */
  size: number;
  readonly growSize: number;
  readonly maxSize: number;
  readonly order: number;
  /** Bytes one bit stands for: 2^order pages. */
  readonly unit: number;
  /** 2^order. */
  readonly pagesPerBit: number;
  readonly growth: ArmMappingGrowth;
  /** kref: one for the creator, one per attached device. */
  refs = 1;
  /** Set when the last reference was dropped: domain and bitmaps are gone. */
  released = false;
  private readonly freeDomain: (domain: IommuDomain) => void;
  /** Every range below this index is full (a search hint only: results are the kernel's). */
  private firstWithRoom = 0;

  constructor(init: DmaIommuMappingInit) {
    this.domain = init.domain;
    this.base = init.base;
    this.size = init.size;
    this.order = init.order;
    this.pagesPerBit = pow2(init.order);
    this.unit = this.pagesPerBit * PAGE_SIZE;
    this.growSize = init.growSize;
    this.maxSize = init.maxSize;
    this.growth = init.growth;
    this.freeDomain = init.freeDomain;
    this.ranges.push({ base: init.base, size: init.size, bits: init.bits, bitmap: new IovaBitmap(init.bits) });
  }

  get variant(): ArmMappingVariant {
    return this.growth.variant;
  }

  /**
   * __alloc_iova(): first fit over the ranges in list order; when none has room, extend the mapping
   * by one range and try that range once. The allocation is aligned to its own order (capped at
   * ARM_DMA_IOMMU_ALIGNMENT), counted from the start of the range's bitmap. Returns the IOVA or
   * DMA_MAPPING_ERROR. A single allocation never spans two ranges.
   */
  allocIova(size: number): number {
    const order = Math.min(getOrder(size), ARM_DMA_IOMMU_ALIGNMENT);
    const count = Math.ceil(Math.ceil(size / PAGE_SIZE) / this.pagesPerBit);
    const alignMask = order > this.order ? pow2(order - this.order) - 1 : 0;
    while (this.firstWithRoom < this.ranges.length && this.ranges[this.firstWithRoom]!.bitmap.free === 0) this.firstWithRoom++;
    // full ranges cannot hold a non-empty request: the kernel's search in them fails, so skip them
    for (let i = count > 0 ? this.firstWithRoom : 0; i < this.ranges.length; i++) {
      const e = this.ranges[i]!;
      // a bitmap with fewer clear bits than needed cannot fit it: the search would fail the same way
      if (e.bitmap.free < count) continue;
      const start = e.bitmap.findNextZeroArea(0, count, alignMask);
      if (start > e.bits) continue;
      e.bitmap.set(start, count);
      return e.base + start * this.unit;
    }
    if (this.extend() !== 0) return DMA_MAPPING_ERROR;
    const e = this.ranges[this.ranges.length - 1]!;
    const start = e.bitmap.findNextZeroArea(0, count, alignMask);
    if (start > e.bits) return DMA_MAPPING_ERROR;
    e.bitmap.set(start, count);
    return e.base + start * this.unit;
  }

  /**
   * __free_iova(): clear the bits of [addr, addr + size). A range that runs past the end of the
   * range holding `addr` is cleared piecewise: the part inside that range, then the rest in the
   * following ranges. Bits already clear are cleared silently; addresses outside every range are
   * ignored.
   */
  freeIova(addr: number, size: number): void {
    let a = addr;
    let left = size;
    for (let i = this.rangeIndexOf(a); i >= 0 && i < this.ranges.length && left > 0; i++) {
      const e = this.ranges[i]!;
      if (a < e.base || a >= e.base + e.size) continue;
      const start = Math.floor((a - e.base) / this.unit);
      let bytes = left;
      if (a + left > e.base + e.size) bytes = e.base + e.size - a;
      const count = Math.ceil(Math.floor(bytes / PAGE_SIZE) / this.pagesPerBit);
      left -= bytes;
      a += bytes;
      e.bitmap.clear(start, count);
      if (i < this.firstWithRoom) this.firstWithRoom = i;
    }
  }

  /** extend_iommu_mapping(): add one range after the last, if the growth rule allows. */
  extend(): number {
    const err = this.growth.check(this);
    if (err !== 0) return err;
    const { size, bits } = this.growth.next(this);
    this.ranges.push({ base: this.base + this.size, size, bits, bitmap: new IovaBitmap(bits) });
    this.size += size;
    return 0;
  }

  /** Bits set over all ranges (for reports and tests). */
  get bitsInUse(): number {
    let n = 0;
    for (const e of this.ranges) n += e.bitmap.weight;
    return n;
  }

  /** Whether `iova` lies in one of the ranges (the IOVA space handed out so far). */
  contains(iova: number): boolean {
    const i = this.rangeIndexOf(iova);
    if (i < 0) return false;
    const e = this.ranges[i]!;
    return iova >= e.base && iova < e.base + e.size;
  }

  /** kref_get. */
  get(): this {
    this.refs++;
    return this;
  }

  /** kref_put: the last reference frees the domain and every bitmap (release_iommu_mapping). */
  put(): void {
    if (this.released) return;
    if (--this.refs > 0) return;
    this.released = true;
    this.freeDomain(this.domain);
    this.ranges.length = 0;
  }

  /**
   * Index of the last range whose base is <= iova (ranges are in ascending IOVA order), or -1. The
   * kernel walks the list from its head; starting here visits the same ranges that can match.
   */
  private rangeIndexOf(iova: number): number {
    let lo = 0;
    let hi = this.ranges.length - 1;
    let found = -1;
    while (lo <= hi) {
      const mid = Math.floor((lo + hi) / 2);
      if (this.ranges[mid]!.base <= iova) {
        found = mid;
        lo = mid + 1;
      } else hi = mid - 1;
    }
    return found;
  }
}
