/**
 * Address arithmetic for the hot paths. IOVAs and physical addresses are mostly above 2^31, where
 * V8 no longer holds them as small integers and `x % m` becomes a call to a floating-point
 * remainder routine (about 15 ns; the divide-and-floor form below is about 1 ns). Both are exact
 * for non-negative safe integers: a quotient off by one from rounding is corrected.
 */

/** x mod m for a safe integer x >= 0 and an integer m > 0. */
export function modOf(x: number, m: number): number {
  const r = x - Math.floor(x / m) * m;
  if (r < 0) return r + m;
  return r >= m ? r - m : r;
}

/** DMA_BIT_MASK(bits) for every width a device can have, looked up instead of computed. */
const MASK_LIMITS: readonly number[] = Array.from({ length: 65 }, (_, bits) => (bits >= 53 ? Number.MAX_SAFE_INTEGER : 2 ** bits - 1));

/** The highest address a DMA mask of `bits` allows (the value of `dev.dmaMaskLimit`). */
export function maskLimitOf(bits: number): number {
  return MASK_LIMITS[bits] ?? (bits >= 53 ? Number.MAX_SAFE_INTEGER : 2 ** bits - 1);
}
