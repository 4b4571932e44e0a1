import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { IovaBitmap } from './bitmap';

/** lib/bitmap.c's bitmap_find_next_zero_area, bit by bit, as the reference. */
function reference(bits: boolean[], start: number, nr: number, alignMask: number): number {
  let from = start;
  for (;;) {
    let index = from;
    while (index < bits.length && bits[index]) index++;
    index = Math.ceil(index / (alignMask + 1)) * (alignMask + 1);
    const end = index + nr;
    if (end > bits.length) return end;
    let i = index;
    while (i < end && !bits[i]) i++;
    if (i >= end) return index;
    from = i + 1;
  }
}

describe('IovaBitmap', () => {
  it('finds the same area as the bit-by-bit kernel algorithm, and keeps its weight', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 2200 }),
        fc.array(fc.tuple(fc.boolean(), fc.nat(), fc.integer({ min: 1, max: 200 })), { maxLength: 60 }),
        fc.integer({ min: 0, max: 70 }),
        fc.constantFrom(0, 1, 3, 15, 63),
        (size, edits, nr, alignMask) => {
          const b = new IovaBitmap(size);
          const model: boolean[] = new Array<boolean>(size).fill(false);
          for (const [set, at, n] of edits) {
            const start = at % size;
            if (set) b.set(start, n);
            else b.clear(start, n);
            for (let i = start; i < Math.min(size, start + n); i++) model[i] = set;
          }
          expect(b.weight).toBe(model.filter(Boolean).length);
          expect(b.findNextZeroArea(0, nr, alignMask)).toBe(reference(model, 0, nr, alignMask));
          for (let i = 0; i < size; i += 97) expect(b.test(i)).toBe(model[i]);
        },
      ),
      { numRuns: 400 },
    );
  });

  it('reports no room with a value past its size, as callers test start > bits', () => {
    const b = new IovaBitmap(64);
    b.set(0, 64);
    expect(b.findNextZeroArea(0, 1, 0)).toBeGreaterThan(64);
    b.clear(40, 1);
    expect(b.findNextZeroArea(0, 1, 0)).toBe(40);
    expect(b.findNextZeroArea(0, 2, 0)).toBeGreaterThan(64);
  });

  it('skips thousands of busy bits to the first clear one', () => {
    const b = new IovaBitmap(32768);
    b.set(0, 10000);
    expect(b.findNextZeroBit(0)).toBe(10000);
    b.clear(4321, 1);
    expect(b.findNextZeroArea(0, 1, 0)).toBe(4321);
    expect(b.findNextZeroArea(0, 2, 1)).toBe(10000);
  });
});
