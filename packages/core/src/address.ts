/**
 * Address arithmetic on safe-integer numbers.
 *
 * Physical addresses, IOVAs and sizes in dmasim are plain numbers up to 2^53. JavaScript's bitwise
 * operators truncate to 32 bits, so none of these helpers use them: every operation is done with
 * division, multiplication and modulo, which stay exact for safe integers.
 */

export const PAGE_SHIFT = 12;
export const PAGE_SIZE = 4096;
export const KiB = 1024;
export const MiB = 1024 * KiB;
export const GiB = 1024 * MiB;
export const TiB = 1024 * GiB;

/** An address or size: a non-negative safe integer. */
export type PhysAddr = number;
export type DmaAddr = number;

/** 2^n for 0 <= n <= 53, exact. */
export function pow2(n: number): number {
  if (!Number.isInteger(n) || n < 0 || n > 53) throw new RangeError(`pow2: exponent ${n} out of range 0..53`);
  return 2 ** n;
}

export function isPowerOfTwo(x: number): boolean {
  if (!Number.isSafeInteger(x) || x <= 0) return false;
  // exact for safe integers: log2 of a power of two is an integer
  return 2 ** Math.round(Math.log2(x)) === x;
}

/** floor(log2(x)) for a positive safe integer (the kernel's ilog2). */
export function ilog2(x: number): number {
  if (!(x >= 1)) throw new RangeError(`ilog2: ${x} is not positive`);
  let n = Math.floor(Math.log2(x));
  // Math.log2 may be off by one close to powers of two for large inputs; correct it exactly.
  while (2 ** n > x) n--;
  while (2 ** (n + 1) <= x) n++;
  return n;
}

/** The smallest power of two >= x (the kernel's roundup_pow_of_two); 1 for x <= 1. */
export function roundupPowOfTwo(x: number): number {
  if (x <= 1) return 1;
  const p = 2 ** ilog2(x);
  return p === x ? x : p * 2;
}

/** Number of bits needed to hold x (the kernel's fls64): 0 for 0. */
export function fls(x: number): number {
  return x <= 0 ? 0 : ilog2(x) + 1;
}

/** Number of trailing zero bits (the kernel's __ffs64); 53 for 0 as a sentinel. */
export function ffs(x: number): number {
  if (x === 0) return 53;
  let n = 0;
  let v = x;
  while (v % 2 === 0) {
    v /= 2;
    n++;
  }
  return n;
}

/**
 * `x % m`, with the same result for every input, but without V8's floating-point remainder call
 * when x is beyond 2^31 (any address above 2 GiB). For 0 <= x <= 2^53 and a whole m, the product
 * floor(x / m) * m is an exact integer, and when it is not above x (the quotient did not round up)
 * the subtraction is exact too, so a result in [0, m) is the true remainder. Anything else takes `%`.
 */
export function modulo(x: number, m: number): number {
  if (x >= 0 && x <= Number.MAX_SAFE_INTEGER && m === Math.floor(m)) {
    const r = x - Math.floor(x / m) * m;
    if (r >= 0 && r < m) return r;
  }
  return x % m;
}

export function alignDown(x: number, align: number): number {
  return x - modulo(x, align);
}

export function alignUp(x: number, align: number): number {
  const r = modulo(x, align);
  return r === 0 ? x : x + (align - r);
}

export function isAligned(x: number, align: number): boolean {
  return modulo(x, align) === 0;
}

export function pfnOf(addr: PhysAddr): number {
  return Math.floor(addr / PAGE_SIZE);
}

export function pfnToPhys(pfn: number): PhysAddr {
  return pfn * PAGE_SIZE;
}

export function pageOffset(addr: number): number {
  return modulo(addr, PAGE_SIZE);
}

/** Pages needed to cover `size` bytes starting at `offset` inside a page. */
export function pagesSpanned(offset: number, size: number): number {
  return Math.ceil((pageOffset(offset) + size) / PAGE_SIZE);
}

/** The highest value an n-bit mask allows: DMA_BIT_MASK(n) held as a limit (2^n - 1). */
export function dmaBitMask(bits: number): number {
  if (bits >= 53) return Number.MAX_SAFE_INTEGER;
  return 2 ** bits - 1;
}

/**
 * DMA_BIT_MASK(n) as the kernel prints it (`%llx`, without the prefix): exact for every width up to
 * 64, where the number form stops at 2^53 - 1.
 */
export function bitMaskHex(bits: number): string {
  const n = Math.max(0, Math.min(64, Math.floor(bits)));
  if (n === 0) return '0';
  const top = n % 4;
  return (top === 0 ? '' : (2 ** top - 1).toString(16)) + 'f'.repeat(Math.floor(n / 4));
}

/** Whether [a, a+alen) and [b, b+blen) overlap. */
export function rangesOverlap(a: number, alen: number, b: number, blen: number): boolean {
  return a < b + blen && b < a + alen;
}

/** Bit `n` of x, without 32-bit truncation. */
export function testBit(x: number, n: number): boolean {
  return Math.floor(x / 2 ** n) % 2 === 1;
}

/** Bits [lo, lo+width) of x as a number. */
export function bitField(x: number, lo: number, width: number): number {
  return Math.floor(x / 2 ** lo) % 2 ** width;
}

/** `0x`-prefixed lower-case hex; `width` pads with zeros (the kernel's %0Nllx). */
export function hex(x: number, width = 0): string {
  if (x < 0) return `-0x${(-x).toString(16).padStart(width, '0')}`;
  return `0x${x.toString(16).padStart(width, '0')}`;
}

const SIZE_UNITS: Record<string, number> = { '': 1, B: 1, K: KiB, KB: KiB, KIB: KiB, M: MiB, MB: MiB, MIB: MiB, G: GiB, GB: GiB, GIB: GiB, T: TiB, TB: TiB, TIB: TiB };

/**
 * Parses a size: a number, a decimal or hex string, or a string with a binary unit
 * (`512KiB`, `64 MiB`, `4G`). Returns undefined when the text is not a size.
 */
export function parseSize(value: number | string): number | undefined {
  if (typeof value === 'number') return Number.isSafeInteger(value) && value >= 0 ? value : undefined;
  const text = value.trim();
  if (/^0x[0-9a-f_]+$/i.test(text)) return parseAddress(text);
  const m = /^(\d+(?:\.\d+)?)\s*([a-z]*)$/i.exec(text);
  if (!m) return undefined;
  const unit = SIZE_UNITS[(m[2] ?? '').toUpperCase()];
  if (unit === undefined) return undefined;
  const n = Number(m[1]) * unit;
  return Number.isSafeInteger(n) ? n : undefined;
}

/** Parses an address: a number or a hex/decimal string (underscores allowed as separators). */
export function parseAddress(value: number | string): number | undefined {
  if (typeof value === 'number') return Number.isSafeInteger(value) && value >= 0 ? value : undefined;
  const text = value.trim().replace(/_/g, '');
  let n: number;
  if (/^0x[0-9a-f]+$/i.test(text)) n = parseInt(text.slice(2), 16);
  else if (/^\d+$/.test(text)) n = Number(text);
  else return undefined;
  return Number.isSafeInteger(n) ? n : undefined;
}

/** Formats a byte count the way humans read board files: `512KiB`, `64MiB`, `1.5GiB`. */
export function formatSize(n: number): string {
  for (const [unit, v] of [['TiB', TiB], ['GiB', GiB], ['MiB', MiB], ['KiB', KiB]] as const) {
    if (n >= v && n % (v / 4) === 0) return `${n / v}${unit}`;
  }
  return `${n}`;
}
