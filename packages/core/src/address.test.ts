import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  GiB,
  KiB,
  MiB,
  PAGE_SIZE,
  TiB,
  alignDown,
  alignUp,
  bitField,
  bitMaskHex,
  dmaBitMask,
  ffs,
  fls,
  formatSize,
  hex,
  ilog2,
  isAligned,
  modulo,
  pageOffset,
  isPowerOfTwo,
  pagesSpanned,
  parseAddress,
  parseSize,
  pfnOf,
  pfnToPhys,
  pow2,
  rangesOverlap,
  roundupPowOfTwo,
  testBit,
} from './address';

describe('alignment above 4 GiB (no 32-bit truncation)', () => {
  it('aligns addresses past 2^32 and 2^40 exactly', () => {
    expect(alignUp(2 ** 40 + 5, 4096)).toBe(2 ** 40 + 4096);
    expect(alignDown(2 ** 40 + 5, 4096)).toBe(2 ** 40);
    expect(alignUp(2 ** 32 + 1, 2 ** 32)).toBe(2 ** 33);
    expect(alignDown(2 ** 48 - 1, 2 * MiB)).toBe(2 ** 48 - 2 * MiB);
    expect(isAligned(2 ** 40, 2 ** 39)).toBe(true);
    expect(isAligned(2 ** 40 + 4096, 8192)).toBe(false);
  });

  it('alignUp/alignDown bracket x with aligned values for any safe address', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 2 ** 52 }), fc.integer({ min: 0, max: 30 }), (x, shift) => {
        const a = 2 ** shift;
        const up = alignUp(x, a);
        const down = alignDown(x, a);
        expect(isAligned(up, a)).toBe(true);
        expect(isAligned(down, a)).toBe(true);
        expect(down).toBeLessThanOrEqual(x);
        expect(up).toBeGreaterThanOrEqual(x);
        expect(up - down).toBe(isAligned(x, a) ? 0 : a);
      }),
    );
  });

  it('converts between addresses and page frame numbers above 4 GiB', () => {
    expect(pfnOf(16 * GiB + 4097)).toBe(4 * 1024 * 1024 + 1);
    expect(pfnToPhys(pfnOf(2 ** 45 + 123))).toBe(2 ** 45);
    expect(pagesSpanned(4095, 2)).toBe(2);
    expect(pagesSpanned(2 ** 40, PAGE_SIZE)).toBe(1);
    expect(pagesSpanned(2 ** 40 + 1, PAGE_SIZE)).toBe(2);
  });
});

describe('power-of-two helpers', () => {
  it('answers for large values', () => {
    expect(isPowerOfTwo(2 ** 40)).toBe(true);
    expect(isPowerOfTwo(2 ** 40 + 4096)).toBe(false);
    expect(isPowerOfTwo(0)).toBe(false);
    expect(ilog2(2 ** 40)).toBe(40);
    expect(ilog2(2 ** 40 - 1)).toBe(39);
    expect(ilog2(Number.MAX_SAFE_INTEGER)).toBe(52);
    expect(roundupPowOfTwo(2 ** 40 + 1)).toBe(2 ** 41);
    expect(roundupPowOfTwo(3 * GiB)).toBe(4 * GiB);
    expect(roundupPowOfTwo(1)).toBe(1);
    expect(fls(2 ** 33)).toBe(34);
    expect(fls(0)).toBe(0);
    expect(ffs(2 ** 40 + 2 ** 36)).toBe(36);
    expect(pow2(52)).toBe(4503599627370496);
    expect(() => pow2(54)).toThrow(RangeError);
  });

  it('ilog2 is the floor of log2 everywhere in the safe range', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: Number.MAX_SAFE_INTEGER }), (x) => {
        const n = ilog2(x);
        expect(2 ** n).toBeLessThanOrEqual(x);
        expect(2 ** (n + 1)).toBeGreaterThan(x);
      }),
    );
  });
});

describe('bit helpers and DMA masks', () => {
  it('reads bits above bit 31', () => {
    expect(testBit(2 ** 40, 40)).toBe(true);
    expect(testBit(2 ** 40, 8)).toBe(false);
    expect(bitField(2 ** 44 + 0xabc, 0, 12)).toBe(0xabc);
    expect(bitField(0x123_4567_8000, 12, 28)).toBe(0x2345678);
    expect(bitField(0x123_4567_8000, 12, 32)).toBe(0x12345678);
    expect(bitField(0x123_4567_8000, 36, 8)).toBe(0x12);
    expect(dmaBitMask(32)).toBe(0xffffffff);
    expect(dmaBitMask(40)).toBe(2 ** 40 - 1);
    expect(dmaBitMask(64)).toBe(Number.MAX_SAFE_INTEGER);
    expect(rangesOverlap(4 * GiB, 4096, 4 * GiB + 4095, 1)).toBe(true);
    expect(rangesOverlap(4 * GiB, 4096, 4 * GiB + 4096, 1)).toBe(false);
  });
});

describe('bitMaskHex', () => {
  it('prints DMA_BIT_MASK(n) exactly, 64-bit masks included', () => {
    expect(bitMaskHex(64)).toBe('ffffffffffffffff');
    expect(bitMaskHex(60)).toBe('fffffffffffffff');
    expect(bitMaskHex(57)).toBe('1ffffffffffffff');
    expect(bitMaskHex(32)).toBe('ffffffff');
    expect(bitMaskHex(30)).toBe('3fffffff');
    expect(bitMaskHex(0)).toBe('0');
    for (let n = 1; n <= 52; n++) expect(bitMaskHex(n)).toBe(dmaBitMask(n).toString(16));
  });
});

describe('hex', () => {
  it('prints addresses beyond 32 bits and pads to a width', () => {
    expect(hex(2 ** 40)).toBe('0x10000000000');
    expect(hex(0xfe00_0000)).toBe('0xfe000000');
    expect(hex(0x1000, 8)).toBe('0x00001000');
    expect(hex(0x3fffffff, 16)).toBe('0x000000003fffffff');
    expect(hex(2 ** 40 + 0xabc, 4)).toBe('0x10000000abc');
    expect(hex(0)).toBe('0x0');
  });
});

describe('parseSize / parseAddress', () => {
  it('parses binary units with and without spaces', () => {
    expect(parseSize('512KiB')).toBe(512 * KiB);
    expect(parseSize('64 MiB')).toBe(64 * MiB);
    expect(parseSize('4GiB')).toBe(4 * GiB);
    expect(parseSize('16GiB')).toBe(2 ** 34);
    expect(parseSize('1.5GiB')).toBe(1.5 * GiB);
    expect(parseSize('2TiB')).toBe(2 * TiB);
    expect(parseSize('4G')).toBe(4 * GiB);
    expect(parseSize(' 128 kib ')).toBe(128 * KiB);
    expect(parseSize('4096')).toBe(4096);
    expect(parseSize(65536)).toBe(65536);
  });

  it('parses hex sizes, including above 32 bits and with separators', () => {
    expect(parseSize('0x1000')).toBe(4096);
    expect(parseSize('0x100000000')).toBe(4 * GiB);
    expect(parseSize('0x1_0000_0000')).toBe(4 * GiB);
    expect(parseAddress('0xfe00_0000')).toBe(0xfe000000);
    expect(parseAddress('0x40_0000_0000')).toBe(2 ** 38);
    expect(parseAddress('1234')).toBe(1234);
  });

  it('rejects what is not a size', () => {
    expect(parseSize('12 furlongs')).toBeUndefined();
    expect(parseSize('MiB')).toBeUndefined();
    expect(parseSize('-4KiB')).toBeUndefined();
    expect(parseSize('0.5')).toBeUndefined();
    expect(parseSize(-1)).toBeUndefined();
    expect(parseSize(1.5)).toBeUndefined();
    expect(parseSize('0x')).toBeUndefined();
    expect(parseAddress('0xzz')).toBeUndefined();
    expect(parseAddress('0x20000000000000')).toBeUndefined();
  });

  it('formatSize and parseSize round-trip', () => {
    expect(formatSize(512 * KiB)).toBe('512KiB');
    expect(formatSize(64 * MiB)).toBe('64MiB');
    expect(formatSize(1.5 * GiB)).toBe('1.5GiB');
    expect(formatSize(100)).toBe('100');
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 2 ** 45 }), (n) => {
        expect(parseSize(formatSize(n))).toBe(n);
      }),
    );
  });
});

describe('alignment helpers above 2^31', () => {
  it('modulo/alignDown/alignUp/isAligned/pageOffset give what the remainder operator gives, for any number', () => {
    const num = fc.oneof(
      fc.integer({ min: 0, max: Number.MAX_SAFE_INTEGER }),
      fc.integer({ min: -(2 ** 40), max: 2 ** 40 }),
      fc.double({ min: 0, max: 2 ** 60, noNaN: true }),
    );
    const align = fc.oneof(fc.integer({ min: 0, max: 52 }).map((b) => 2 ** b), fc.integer({ min: 1, max: 2 ** 40 }), fc.constantFrom(0.5, 3.5, 0));
    fc.assert(
      fc.property(num, align, (x, a) => {
        const r = x % a;
        expect(modulo(x, a)).toBe(r);
        expect(alignDown(x, a)).toBe(x - r);
        expect(alignUp(x, a)).toBe(r === 0 ? x : x + (a - r));
        expect(isAligned(x, a)).toBe(r === 0);
        expect(pageOffset(x)).toBe(x % PAGE_SIZE);
      }),
      { numRuns: 2000 },
    );
    expect(alignDown(2 ** 52 + 4097, PAGE_SIZE)).toBe(2 ** 52 + 4096);
    expect(alignUp(0x1_0000_0001, 2 * MiB)).toBe(0x1_0020_0000);
    expect(pageOffset(0xffff_f123)).toBe(0x123);
  });
});

