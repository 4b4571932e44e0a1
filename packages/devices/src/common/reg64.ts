/**
 * 64-bit registers written as two 32-bit halves (LO at the lower offset, HI above it). The value is
 * an address, a safe-integer number, so the halves are combined with arithmetic, never with
 * bitwise operators (those truncate to 32 bits); only the written word, a genuine 32-bit register
 * value, is normalised with `>>> 0`.
 */

/** `cur` with its low 32 bits replaced by `word`. */
export function setLo32(cur: number, word: number): number {
  return cur - (cur % 2 ** 32) + (word >>> 0);
}

/** `cur` with its high 32 bits replaced by `word`. */
export function setHi32(cur: number, word: number): number {
  return (word >>> 0) * 2 ** 32 + (cur % 2 ** 32);
}

/** Reading the halves back is `lo32` / `hi32` of port-io. */
export { hi32, lo32 } from './port-io';
