/**
 * Small integer helpers for the IOVA allocator.
 *
 * pfns, addresses and sizes are safe-integer numbers (up to 2^53). JavaScript's bitwise operators
 * truncate to 32 bits, so nothing here uses them: only multiplication, division and modulo, which
 * stay exact for safe integers and powers of two.
 *
 * These are local on purpose: the iova folder is usable on its own (`@dmasim/core`'s index pulls in
 * the DI container and reflect-metadata, which a standalone allocator does not need).
 */

/** True for 1, 2, 4, ... up to 2^52. */
export function isPowerOfTwo(x: number): boolean {
  if (!Number.isSafeInteger(x) || x <= 0) return false;
  let v = x;
  while (v % 2 === 0) v /= 2;
  return v === 1;
}

/** The smallest power of two >= x; 1 for x <= 1 (the kernel's roundup_pow_of_two). */
export function roundupPowOfTwo(x: number): number {
  let p = 1;
  while (p < x) p *= 2;
  return p;
}

/** ceil(log2(x)); 0 for x <= 1 (the kernel's order_base_2). */
export function orderBase2(x: number): number {
  let p = 1;
  let order = 0;
  while (p < x) {
    p *= 2;
    order++;
  }
  return order;
}

/** Number of trailing zero bits of a positive safe integer (the kernel's __ffs). */
export function ffs(x: number): number {
  let n = 0;
  let v = x;
  while (v % 2 === 0 && v > 0) {
    v /= 2;
    n++;
  }
  return n;
}

/** Round x down to a multiple of a power of two `align` (also correct for negative x). */
export function alignDownPow2(x: number, align: number): number {
  return align === 1 ? x : Math.floor(x / align) * align;
}

/** Round x up to a multiple of `align`. */
export function alignUp(x: number, align: number): number {
  const r = x % align;
  return r === 0 ? x : x + (align - r);
}
