/**
 * Bit masks on addresses without JavaScript's 32-bit bitwise operators. The masks swiotlb works with
 * (min_align_mask, alloc_align_mask, IO_TLB_SIZE - 1, segment boundaries) are low masks 2^k - 1, for
 * which `x & mask` is `x % (mask + 1)`. Any other mask falls back to an exact bit-by-bit form.
 */
import { isPowerOfTwo, testBit, modulo } from '@dmasim/core/standalone';

export function isLowMask(mask: number): boolean {
  return mask === 0 || isPowerOfTwo(mask + 1);
}

/** x & mask, exact for safe integers. */
export function andMask(x: number, mask: number): number {
  if (mask === 0) return 0;
  if (isLowMask(mask)) return x >= 0 ? modulo(x, mask + 1) : x % (mask + 1);
  let out = 0;
  for (let bit = 0, w = 1; bit < 53 && w <= mask; bit++, w *= 2) {
    if (testBit(mask, bit) && testBit(x, bit)) out += w;
  }
  return out;
}

/**
 * `x & (mask & ~lo)` for a low mask `lo`: the bits of `mask` above `lo` applied to x (the address bits
 * that must match once the bits inside the allocation's alignment are left to an offset).
 */
export function andAbove(x: number, mask: number, lo: number): number {
  const h = andMask(x, mask);
  return h - modulo(h, lo + 1);
}
