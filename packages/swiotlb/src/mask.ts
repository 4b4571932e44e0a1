/**
 * Bit masks on addresses without JavaScript's 32-bit bitwise operators. The masks swiotlb works with
 * (min_align_mask, alloc_align_mask, IO_TLB_SIZE - 1, segment boundaries) are low masks 2^k - 1, for
 * which `x & mask` is `x % (mask + 1)`. Any other mask falls back to an exact bit-by-bit form.
 */
import { isPowerOfTwo, testBit } from '@dmasim/core';

/**
 * x mod m for a safe integer x >= 0, without `%` when it can: the engine computes `%` on numbers past
 * its small-integer range (most physical addresses) with a library call, while for a power of two m
 * the division and the floor are exact. A result out of [0, m) (rounding with another m) takes `%`.
 */
export function modPow2(x: number, m: number): number {
  const r = x - Math.floor(x / m) * m;
  return r >= 0 && r < m ? r : x % m;
}

export function isLowMask(mask: number): boolean {
  return mask === 0 || isPowerOfTwo(mask + 1);
}

/** x & mask, exact for safe integers. */
export function andMask(x: number, mask: number): number {
  if (mask === 0) return 0;
  if (isLowMask(mask)) return x >= 0 ? modPow2(x, mask + 1) : x % (mask + 1);
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
  return h - modPow2(h, lo + 1);
}
