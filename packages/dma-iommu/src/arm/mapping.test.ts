import { EINVAL, KiB, MiB, PAGE_SIZE } from '@dmasim/core';
import { DMA_MAPPING_ERROR } from '@dmasim/dma-mapping';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { armIommuCreateMapping, type ArmMappingOptions } from './create';
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
    const m = create(512 * KiB);
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
