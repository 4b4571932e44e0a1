/**
 * The bitmap behind one IOVA range of an arm `dma_iommu_mapping` (lib/bitmap.c's
 * bitmap_find_next_zero_area / bitmap_set / bitmap_clear over an `unsigned long *`).
 *
 * Bits are kept in 32-bit words (the `unsigned long` of 32-bit ARM). Bitwise operators below work on
 * those genuine 32-bit words and on bit indices inside one bitmap (at most a few hundred thousand),
 * never on addresses or sizes.
 *
 * Search results are exactly the kernel's first-fit ones; two things only make them fast: a summary
 * bitmap with one bit per full word (so a scan over thousands of busy bits skips whole words 32 at a
 * time) and a count of set bits (so a caller can skip a bitmap that cannot hold a request at all).
 */
const FULL = 0xffffffff;

/** Index of the lowest set bit of a non-zero 32-bit word. */
function ctz(word: number): number {
  return 31 - Math.clz32(word & -word);
}

/** Number of set bits in a 32-bit word. */
function popcount(word: number): number {
  let v = word - ((word >>> 1) & 0x55555555);
  v = (v & 0x33333333) + ((v >>> 2) & 0x33333333);
  return (Math.imul((v + (v >>> 4)) & 0x0f0f0f0f, 0x01010101) >>> 24) & 0xff;
}

/** Word mask of bits [lo, hi) inside one word, 0 <= lo < hi <= 32. */
function rangeMask(lo: number, hi: number): number {
  const upper = hi === 32 ? FULL : ((1 << hi) - 1) >>> 0;
  return (upper & ~((1 << lo) - 1)) >>> 0;
}

export class IovaBitmap {
  /** Number of bits (the kernel's `bits`): valid indices are 0..bits-1. */
  readonly bits: number;
  private readonly words: Uint32Array;
  /** One bit per word of `words`: set when that word is all ones. */
  private readonly fullWords: Uint32Array;
  private setBits = 0;

  constructor(bits: number) {
    if (!Number.isInteger(bits) || bits < 0) throw new RangeError(`IovaBitmap: bad size ${bits}`);
    this.bits = bits;
    const nWords = Math.ceil(bits / 32);
    this.words = new Uint32Array(nWords);
    this.fullWords = new Uint32Array(Math.ceil(nWords / 32));
  }

  /** bitmap_weight(): bits set. */
  get weight(): number {
    return this.setBits;
  }

  /** Bits still clear. */
  get free(): number {
    return this.bits - this.setBits;
  }

  /** bitmap_empty(). */
  get empty(): boolean {
    return this.setBits === 0;
  }

  /** test_bit(). */
  test(bit: number): boolean {
    if (bit < 0 || bit >= this.bits) return false;
    return ((this.words[bit >>> 5]! >>> (bit & 31)) & 1) === 1;
  }

  /** find_next_zero_bit(): first clear bit at or after `from`, or `bits` when there is none. */
  findNextZeroBit(from: number): number {
    if (from >= this.bits) return this.bits;
    let w = from >>> 5;
    const inFirst = ~this.words[w]! & ~((1 << (from & 31)) - 1);
    if (inFirst !== 0) return Math.min(this.bits, w * 32 + ctz(inFirst));
    w = this.nextNonFullWord(w + 1);
    if (w < 0) return this.bits;
    return Math.min(this.bits, w * 32 + ctz(~this.words[w]!));
  }

  /** find_next_bit() limited to [from, end): first set bit, or `end` when there is none. */
  findNextBit(from: number, end: number): number {
    const limit = Math.min(end, this.bits);
    let bit = from;
    while (bit < limit) {
      const w = bit >>> 5;
      const word = this.words[w]! & ~((1 << (bit & 31)) - 1);
      if (word !== 0) return Math.min(limit, w * 32 + ctz(word));
      bit = (w + 1) * 32;
    }
    return end;
  }

  /**
   * bitmap_find_next_zero_area(map, size, start, nr, align_mask): the first index >= `start`, rounded
   * up to `alignMask + 1` (counted from bit 0), where `nr` clear bits follow. When there is no room
   * it returns the end of the last candidate looked at, a value greater than `bits`: callers test
   * `start > bits` as the kernel's do.
   */
  findNextZeroArea(start: number, nr: number, alignMask: number): number {
    let from = start;
    for (;;) {
      let index = this.findNextZeroBit(from);
      // __ALIGN_MASK(index, align_mask)
      if (alignMask > 0) index = Math.ceil(index / (alignMask + 1)) * (alignMask + 1);
      const end = index + nr;
      if (end > this.bits) return end;
      const busy = this.findNextBit(index, end);
      if (busy >= end) return index;
      from = busy + 1;
    }
  }

  /** bitmap_set(map, start, n). */
  set(start: number, n: number): void {
    this.update(start, n, true);
  }

  /** bitmap_clear(map, start, n): clearing bits already clear is silent, as in the kernel. */
  clear(start: number, n: number): void {
    this.update(start, n, false);
  }

  private update(start: number, n: number, value: boolean): void {
    const end = Math.min(start + n, this.bits);
    let bit = Math.max(start, 0);
    while (bit < end) {
      const w = bit >>> 5;
      const hi = Math.min(32, end - w * 32);
      const mask = rangeMask(bit & 31, hi);
      const old = this.words[w]!;
      const next = (value ? old | mask : old & ~mask) >>> 0;
      if (next !== old) {
        this.setBits += popcount(next) - popcount(old);
        this.words[w] = next;
        const s = w >>> 5;
        const sbit = 1 << (w & 31);
        this.fullWords[s] = next === FULL ? this.fullWords[s]! | sbit : this.fullWords[s]! & ~sbit;
      }
      bit = (w + 1) * 32;
    }
  }

  /** The first word index >= `from` that is not all ones, or -1. */
  private nextNonFullWord(from: number): number {
    const nWords = this.words.length;
    let w = from;
    while (w < nWords) {
      const s = w >>> 5;
      const notFull = ~this.fullWords[s]! & ~((1 << (w & 31)) - 1);
      if (notFull !== 0) {
        const found = s * 32 + ctz(notFull);
        return found < nWords ? found : -1;
      }
      w = (s + 1) * 32;
    }
    return -1;
  }
}
