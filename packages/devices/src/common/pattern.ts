/**
 * Deterministic test data. Patterns are a 32-bit xorshift stream (bitwise operators act on genuine
 * 32-bit words here, never on addresses), so a verifier can regenerate what a writer produced.
 */

/** Fills buf with the pattern of `seed`. */
export function fillPattern(buf: Uint8Array, seed: number): Uint8Array {
  let x = (seed >>> 0) ^ 0x9e3779b9;
  if (x === 0) x = 1;
  const words = Math.floor(buf.length / 4);
  const view = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  for (let i = 0; i < words; i++) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    view.setUint32(i * 4, x >>> 0, true);
  }
  for (let i = words * 4; i < buf.length; i++) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    buf[i] = x & 0xff;
  }
  return buf;
}

export function pattern(len: number, seed: number): Uint8Array {
  return fillPattern(new Uint8Array(len), seed);
}

/** Initial value of `frameChecksum`. */
export const CHECKSUM_INIT = 0x811c9dc5;

/**
 * The checksum display hardware reports for a scanned-out frame: FNV-1a over little-endian 32-bit
 * words (then over the trailing bytes). Feeding a frame in pieces gives the same value as feeding it
 * whole when every piece but the last is a multiple of 4 bytes long.
 */
export function fnv1a(buf: Uint8Array, h = CHECKSUM_INIT): number {
  let x = h >>> 0;
  const words = Math.floor(buf.length / 4);
  if (words > 0) {
    const w =
      buf.byteOffset % 4 === 0
        ? new Uint32Array(buf.buffer, buf.byteOffset, words)
        : new Uint32Array(buf.slice(0, words * 4).buffer);
    for (let i = 0; i < words; i++) {
      x ^= w[i]!;
      x = Math.imul(x, 0x01000193) >>> 0;
    }
  }
  for (let i = words * 4; i < buf.length; i++) {
    x ^= buf[i]!;
    x = Math.imul(x, 0x01000193) >>> 0;
  }
  return x;
}

/** Index of the first differing byte, or -1 when equal. */
export function firstMismatch(a: Uint8Array, b: Uint8Array): number {
  if (a.length !== b.length) return Math.min(a.length, b.length);
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return i;
  return -1;
}
