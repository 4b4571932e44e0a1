import { EINVAL, ENOMEM, ERANGE, GiB, KiB, MiB, PAGE_SIZE } from '@dmasim/core';
import { DMA_MAPPING_ERROR } from '@dmasim/dma-mapping';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { armIommuCreateMapping, armIommuCreateMappingSimple, type ArmMappingOptions } from './create';
import type { DmaIommuMapping } from './mapping';
import { armRig } from './test-rig';

const BASE = 0x80000000;

function create(size: number, options: ArmMappingOptions = {}): DmaIommuMapping {
  const r = armRig(64 * MiB);
  const m = armIommuCreateMapping(r.env, r.bus, BASE, size, options);
  if (typeof m === 'number') throw new Error(`create failed: ${m}`);
  return m;
}

/** A packet churn: map one page per packet, keeping `live` of them, the oldest unmapped first. */
function churn(m: DmaIommuMapping, packets: number, live: number): { failedAt: number | null; peak: number } {
  const ring: number[] = [];
  let peak = 0;
  for (let p = 1; p <= packets; p++) {
    if (ring.length === live) m.freeIova(ring.shift()!, PAGE_SIZE);
    const iova = m.allocIova(1514);
    if (iova === DMA_MAPPING_ERROR) return { failedAt: p, peak };
    ring.push(iova);
    peak = Math.max(peak, ring.length);
  }
  return { failedAt: null, peak };
}

describe('arm dma_iommu_mapping (seed 000): Calxeda sizes', () => {
  it('a 512 KiB mapping without growth is exhausted by 256 live packets at the allocation after its last bit', () => {
    const m = create(512 * KiB, { growSize: 512 * KiB, maxSize: 512 * KiB });
    const bits = (512 * KiB) / PAGE_SIZE;
    expect(m.ranges).toHaveLength(1);
    expect(m.ranges[0]!.bits).toBe(bits);
    const { failedAt } = churn(m, 2000, 256);
    expect(failedAt).toBe(bits + 1);
    expect(m.ranges).toHaveLength(1);
  });

  it('grows by 512 KiB ranges up to 128 MiB and serves the same churn', () => {
    const m = create(512 * KiB, { growSize: 512 * KiB, maxSize: 128 * MiB });
    const { failedAt, peak } = churn(m, 5000, 256);
    expect(failedAt).toBeNull();
    expect(peak).toBe(256);
    // first fit reuses freed bits: 256 live pages need exactly two 128-bit ranges
    expect(m.ranges.map((e) => e.base)).toEqual([BASE, BASE + 512 * KiB]);
    expect(m.size).toBe(1 * MiB);
  });

  it('stops growing one step before the maximum: the check is size + grow >= max', () => {
    const m = create(512 * KiB, { growSize: 512 * KiB, maxSize: 2 * MiB });
    const got: number[] = [];
    for (;;) {
      const iova = m.allocIova(PAGE_SIZE);
      if (iova === DMA_MAPPING_ERROR) break;
      got.push(iova);
    }
    // 512K + 512K + 512K = 1.5 MiB; adding a fourth would make size + grow == max, refused
    expect(m.size).toBe(1.5 * MiB);
    expect(got).toHaveLength((1.5 * MiB) / PAGE_SIZE);
    expect(m.extend()).toBe(-EINVAL);
  });

  it('never grows with growSize 0, whatever the maximum', () => {
    const m = create(512 * KiB, { growSize: 0, maxSize: 128 * MiB });
    expect(m.extend()).toBe(-EINVAL);
  });
});

describe('arm dma_iommu_mapping: frees across range boundaries', () => {
  it('clears the tail of one bitmap and the head of the next in one free', () => {
    const m = create(512 * KiB, { growSize: 512 * KiB, maxSize: 128 * MiB });
    const first: number[] = [];
    for (let i = 0; i < 128 + 4; i++) first.push(m.allocIova(PAGE_SIZE));
    expect(m.ranges).toHaveLength(2);
    // the last two pages of range 0 and the first two of range 1 are adjacent IOVAs
    const from = BASE + 126 * PAGE_SIZE;
    expect(first.slice(126, 130)).toEqual([from, from + PAGE_SIZE, from + 2 * PAGE_SIZE, from + 3 * PAGE_SIZE]);
    m.freeIova(from, 4 * PAGE_SIZE);
    const [r0, r1] = m.ranges;
    expect([r0!.bitmap.test(125), r0!.bitmap.test(126), r0!.bitmap.test(127)]).toEqual([true, false, false]);
    expect([r1!.bitmap.test(0), r1!.bitmap.test(1), r1!.bitmap.test(2)]).toEqual([false, false, true]);
    expect(m.bitsInUse).toBe(128);
    // the freed space is handed out again, lowest first
    expect(m.allocIova(2 * PAGE_SIZE)).toBe(from);
  });

  it('handles a free spanning three ranges at order 1', () => {
    const m = create(256 * KiB, { growSize: 256 * KiB, maxSize: 4 * MiB, order: 1 });
    // 256 KiB at order 1 = 32 bits of 8 KiB
    while (m.ranges.length < 3 || m.ranges[2]!.bitmap.free > 0) m.allocIova(8 * KiB);
    m.freeIova(BASE + 248 * KiB, 8 * KiB + 256 * KiB + 8 * KiB);
    expect(m.ranges[0]!.bitmap.free).toBe(1);
    expect(m.ranges[1]!.bitmap.empty).toBe(true);
    expect(m.ranges[2]!.bitmap.free).toBe(1);
  });
});

describe('arm dma_iommu_mapping: alignment', () => {
  it('aligns an allocation to its own order, counted from the bitmap start', () => {
    const m = create(4 * MiB);
    expect(m.allocIova(PAGE_SIZE)).toBe(BASE);
    // 64 KiB is order 4: the next 16-page boundary
    expect(m.allocIova(64 * KiB)).toBe(BASE + 64 * KiB);
    // 12 KiB is order 2: after the first page, the next 4-page boundary
    expect(m.allocIova(12 * KiB)).toBe(BASE + 16 * KiB);
  });

  it('caps alignment at ARM_DMA_IOMMU_ALIGNMENT (1 MiB)', () => {
    const m = create(8 * MiB);
    m.allocIova(PAGE_SIZE);
    // 2 MiB is order 9, capped at 8: aligned to 1 MiB only
    expect(m.allocIova(2 * MiB)).toBe(BASE + 1 * MiB);
  });

  it('counts alignment in bits when one bit covers several pages', () => {
    const m = create(4 * MiB, { order: 2 });
    m.allocIova(PAGE_SIZE); // one bit = 16 KiB
    expect(m.allocIova(16 * KiB)).toBe(BASE + 16 * KiB); // order 2 == mapping order: no alignment
    expect(m.allocIova(64 * KiB)).toBe(BASE + 64 * KiB); // order 4: 4-bit alignment
  });

  it('aligns inside an added range relative to that range, not to absolute IOVA', () => {
    const m = create(128 * KiB, { growSize: 512 * KiB, maxSize: 4 * MiB });
    for (let i = 0; i < 32; i++) m.allocIova(PAGE_SIZE);
    // 256 KiB is order 6 (64-bit alignment); it lands at bit 0 of the new range at BASE + 128 KiB
    const iova = m.allocIova(256 * KiB);
    expect(iova).toBe(BASE + 128 * KiB);
    expect((iova - BASE) % (256 * KiB)).not.toBe(0);
  });
});

describe('arm dma_iommu_mapping: the posted patch sizes bitmaps in whole longs', () => {
  it('a range whose size is not a multiple of 32 bits hands out IOVAs past its end, which the next range hands out again', () => {
    const m = create(48 * KiB, { growSize: 128 * KiB, maxSize: 1 * MiB });
    expect(m.ranges[0]!.bits).toBe(32); // 12 bits needed, one long allocated
    const pages: number[] = [];
    for (let i = 0; i < 32; i++) pages.push(m.allocIova(PAGE_SIZE));
    expect(pages[31]).toBe(BASE + 124 * KiB); // well past the range's 48 KiB
    expect(m.ranges).toHaveLength(1);
    const next = m.allocIova(PAGE_SIZE);
    expect(m.ranges[1]!.base).toBe(BASE + 48 * KiB);
    // the new range's first IOVA was already given out by range 0
    expect(next).toBe(BASE + 48 * KiB);
    expect(pages).toContain(next);
  });
});

describe('arm dma_iommu_mapping: the reviewer\'s simple form', () => {
  const cases: [string, number, number, number, number][] = [
    // [what, max size, accuracy, bits per bitmap, bitmaps allowed]
    ['128 MiB at 4 KiB: one page of bits', 128 * MiB, 4 * KiB, 32768, 1],
    ['1 GiB at 4 KiB: eight one-page bitmaps', 1 * GiB, 4 * KiB, 32768, 8],
    ['4 GiB at 4 KiB: 32 bitmaps', 4 * GiB, 4 * KiB, 32768, 32],
    ['2 GiB at 64 KiB: one page of bits covers it', 2 * GiB, 64 * KiB, 32768, 1],
    ['512 KiB at 4 KiB: a bitmap smaller than a page', 512 * KiB, 4 * KiB, 128, 1],
    ['200 MiB at 4 KiB: the part beyond whole pages of bits is lost', 200 * MiB, 4 * KiB, 32768, 1],
  ];
  for (const [what, max, accuracy, bits, bitmaps] of cases) {
    it(what, () => {
      const m = create(max, { variant: 'simple', accuracy });
      expect(m.variant).toBe('simple');
      expect(m.ranges[0]!.bits).toBe(bits);
      expect(m.size).toBe(bits * accuracy);
      let grown = 1;
      while (m.extend() === 0) grown++;
      expect(grown).toBe(bitmaps);
      // every range is as big as the first, back to back
      m.ranges.forEach((e, i) => expect([e.base, e.size]).toEqual([BASE + i * bits * accuracy, bits * accuracy]));
    });
  }

  it('refuses more than 32 bits of IOVA space and bad accuracies', () => {
    const r = armRig(64 * MiB);
    expect(armIommuCreateMapping(r.env, r.bus, BASE, 4 * GiB + 4 * KiB, { variant: 'simple' })).toBe(-ERANGE);
    expect(armIommuCreateMapping(r.env, r.bus, BASE, 1 * MiB, { variant: 'simple', accuracy: 6 * KiB })).toBe(-EINVAL);
    expect(armIommuCreateMapping(r.env, r.bus, BASE, 1 * MiB, { variant: 'simple', accuracy: 2 * KiB })).toBe(-EINVAL);
    expect(armIommuCreateMappingSimple(r.env, r.bus, BASE, 2 * KiB)).toBe(-EINVAL);
  });

  it('the posted form refuses more than 32 bits too, and NaN or negative sizes (a board once asked for 2^53 - 1 bytes)', () => {
    const r = armRig(64 * MiB);
    for (const size of [2 ** 53 - 1, 4 * GiB + 4 * KiB, Number.NaN, -4 * KiB]) expect(armIommuCreateMapping(r.env, r.bus, BASE, size)).toBe(-ERANGE);
  });

  it('serves the Calxeda churn from a single page of bits', () => {
    const m = create(128 * MiB, { variant: 'simple' });
    expect(churn(m, 2000, 256).failedAt).toBeNull();
    expect(m.ranges).toHaveLength(1);
  });
});

describe('arm dma_iommu_mapping: creation errors', () => {
  it('refuses a mapping smaller than one bit and a bus without IOMMU', () => {
    const r = armRig(64 * MiB);
    expect(armIommuCreateMapping(r.env, r.bus, BASE, 4 * KiB, { order: 1 })).toBe(-EINVAL);
    expect(armIommuCreateMapping(r.env, 'amba', BASE, 1 * MiB)).toBe(-ENOMEM);
  });
});

interface Op {
  readonly kind: 'alloc' | 'free';
  readonly pages: number;
  readonly pick: number;
}

const opArb: fc.Arbitrary<Op> = fc.record({
  kind: fc.constantFrom<'alloc' | 'free'>('alloc', 'alloc', 'free'),
  pages: fc.oneof(fc.integer({ min: 1, max: 4 }), fc.integer({ min: 5, max: 300 })),
  pick: fc.nat(),
});

const optionsArb: fc.Arbitrary<[number, ArmMappingOptions]> = fc.oneof(
  fc
    .record({ units: fc.integer({ min: 1, max: 4 }), grow: fc.integer({ min: 0, max: 4 }), max: fc.integer({ min: 1, max: 20 }), order: fc.integer({ min: 0, max: 2 }) })
    .map(({ units, grow, max, order }) => {
      // sizes in whole longs of bits, where the posted patch's ranges do not overlap
      const unit = 32 * PAGE_SIZE * 2 ** order;
      return [units * unit, { growSize: grow * unit, maxSize: max * unit, order }] as [number, ArmMappingOptions];
    }),
  fc
    .record({ max: fc.integer({ min: 1, max: 64 }), accuracyLog: fc.integer({ min: 0, max: 3 }) })
    .map(({ max, accuracyLog }) => [max * 128 * KiB, { variant: 'simple', accuracy: PAGE_SIZE * 2 ** accuracyLog }] as [number, ArmMappingOptions]),
);

describe('arm dma_iommu_mapping: bitmap allocator properties', () => {
  it('never overlaps, stays inside its ranges, never grows past the maximum, and frees back to empty', () => {
    fc.assert(
      fc.property(optionsArb, fc.array(opArb, { maxLength: 120 }), ([size, options], ops) => {
        const m = create(size, options);
        const limit = Math.max(size, m.maxSize);
        const live: { iova: number; bytes: number }[] = [];
        for (const op of ops) {
          if (op.kind === 'free' && live.length > 0) {
            const [x] = live.splice(op.pick % live.length, 1);
            m.freeIova(x!.iova, x!.bytes);
            continue;
          }
          const bytes = op.pages * PAGE_SIZE;
          const iova = m.allocIova(bytes);
          if (iova === DMA_MAPPING_ERROR) continue;
          const span = Math.ceil(op.pages / 2 ** m.order) * m.unit;
          // inside one range
          const range = m.ranges.find((e) => iova >= e.base && iova + span <= e.base + e.size);
          expect(range).toBeDefined();
          // no overlap with anything live
          for (const y of live) {
            const ySpan = Math.ceil(y.bytes / m.unit) * m.unit;
            expect(iova + span <= y.iova || y.iova + ySpan <= iova).toBe(true);
          }
          live.push({ iova, bytes });
          expect(m.size).toBeLessThanOrEqual(limit);
        }
        for (const x of live) m.freeIova(x.iova, x.bytes);
        expect(m.bitsInUse).toBe(0);
        expect(m.ranges.every((e) => e.bitmap.empty)).toBe(true);
      }),
      { numRuns: 300 },
    );
  });
});
