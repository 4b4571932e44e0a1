import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { ArmLpaeIoPgtable } from './arm-lpae';
import { IOMMU_CACHE, IOMMU_NOEXEC, IOMMU_READ, IOMMU_WRITE } from './prot';
import { SZ_1G, SZ_2M, SZ_4K, makeTables } from './test-env';
import { stage2StartLevelFromSl0, walk, type WalkRegime } from './test-walker';
import type { IoPgtableFmt } from './types';

/** One mapping of the reference model: [iova, iova+size) → [pa, pa+size) with a prot. */
interface RefMapping {
  iova: number;
  pa: number;
  size: number;
  prot: number;
}

type Op =
  | { kind: 'map'; align: number; slot: number; offsetPages: number; pages: number; paSlot: number; paSkew: number; prot: number }
  | { kind: 'unmap'; which: number; from: number; to: number };

const ALIGNS = [SZ_4K, SZ_2M, SZ_1G];
const PROTS = [IOMMU_READ, IOMMU_WRITE, IOMMU_READ | IOMMU_WRITE, IOMMU_READ | IOMMU_WRITE | IOMMU_CACHE, IOMMU_READ | IOMMU_NOEXEC];

const opArb: fc.Arbitrary<Op> = fc.oneof(
  {
    weight: 3,
    arbitrary: fc.record({
      kind: fc.constant('map' as const),
      align: fc.constantFrom(0, 0, 1, 1, 2),
      slot: fc.nat(7),
      offsetPages: fc.constantFrom(0, 0, 1, 511, 3),
      pages: fc.oneof(fc.integer({ min: 1, max: 8 }), fc.integer({ min: 500, max: 1100 }), fc.constant(262144 + 3)),
      paSlot: fc.nat(15),
      paSkew: fc.constantFrom(0, 0, 1),
      prot: fc.constantFrom(...PROTS),
    }),
  },
  {
    weight: 2,
    arbitrary: fc.record({
      kind: fc.constant('unmap' as const),
      which: fc.nat(),
      from: fc.double({ min: 0, max: 1, noNaN: true }),
      to: fc.double({ min: 0, max: 1, noNaN: true }),
    }),
  },
);

function overlaps(ref: RefMapping[], iova: number, size: number): boolean {
  return ref.some((m) => iova < m.iova + m.size && m.iova < iova + size);
}

function regimeOf(ops: ArmLpaeIoPgtable): WalkRegime {
  const s2 = ops.armLpaeS2Cfg;
  if (s2 !== null) return { ttbr: s2.vttbr, ias: 64 - s2.vtcr.tsz, startLevel: stage2StartLevelFromSl0(s2.vtcr.sl) };
  return { ttbr: ops.armLpaeS1Cfg!.ttbr, ias: 64 - ops.armLpaeS1Cfg!.tcr.tsz };
}

/** Addresses worth probing inside a mapping: both ends, page edges, a 2 MiB edge, and a middle. */
function probesInside(m: RefMapping): number[] {
  const out = [m.iova, m.iova + m.size - 1, m.iova + SZ_4K - 1, m.iova + Math.floor(m.size / 2 / SZ_4K) * SZ_4K + 77];
  const next2m = Math.ceil((m.iova + 1) / SZ_2M) * SZ_2M;
  if (next2m < m.iova + m.size) out.push(next2m, next2m - 1);
  return out.filter((a) => a >= m.iova && a < m.iova + m.size);
}

function checkAgainstReference(fmt: IoPgtableFmt, ops: ArmLpaeIoPgtable, memory: Parameters<typeof walk>[0], ref: RefMapping[]): void {
  const regime = regimeOf(ops);
  for (const m of ref) {
    for (const a of probesInside(m)) {
      const expected = m.pa + (a - m.iova);
      expect(ops.iovaToPhys(a)).toBe(expected);
      const leaf = walk(memory, regime, a);
      expect(leaf?.pa).toBe(expected);
      // the permissions in memory are those asked for, even after a block was split
      const read = (m.prot & IOMMU_READ) !== 0;
      const write = (m.prot & IOMMU_WRITE) !== 0;
      if (fmt === 's1') expect(leaf!.ap).toBe(write ? 1 : 3);
      else expect(leaf!.ap).toBe((read ? 1 : 0) + (write ? 2 : 0));
      expect(leaf!.xn).toBe(m.prot & IOMMU_NOEXEC ? 3 : 0);
      expect(leaf!.af).toBe(true);
    }
    // just outside the mapping: unmapped unless another mapping is there
    for (const a of [m.iova - 1, m.iova + m.size]) {
      if (a < 0 || overlaps(ref, a, 1)) continue;
      expect(ops.iovaToPhys(a)).toBe(0);
      expect(walk(memory, regime, a)).toBeNull();
    }
  }
}

function runOps(fmt: IoPgtableFmt, ias: number, window: number, ops0: Op[]): void {
  const t = makeTables(fmt, { ias, oas: 48, splitBlocks: true }, [{ base: 0x8000_0000, size: 256 * 1024 * 1024 }]);
  const { ops, env } = t;
  const ref: RefMapping[] = [];
  for (const op of ops0) {
    if (op.kind === 'map') {
      const align = ALIGNS[op.align]!;
      const size = op.pages * SZ_4K;
      const iova = ((op.slot * window) / 8 - (((op.slot * window) / 8) % align)) + op.offsetPages * SZ_4K;
      const pa = op.paSlot * 4 * SZ_1G + op.offsetPages * SZ_4K + op.paSkew * SZ_4K;
      if (iova + size > window || overlaps(ref, iova, size)) continue;
      expect(ops.map(iova, pa, size, op.prot)).toBe(0);
      ref.push({ iova, pa, size, prot: op.prot });
    } else {
      if (ref.length === 0) continue;
      const idx = op.which % ref.length;
      const m = ref[idx]!;
      const pages = m.size / SZ_4K;
      let a = Math.floor(Math.min(op.from, op.to) * pages);
      let b = Math.ceil(Math.max(op.from, op.to) * pages);
      if (b === a) b = a + 1;
      if (b > pages) [a, b] = [pages - 1, pages];
      const start = m.iova + a * SZ_4K;
      const len = (b - a) * SZ_4K;
      expect(ops.unmap(start, len)).toBe(len);
      ref.splice(idx, 1);
      if (a > 0) ref.push({ iova: m.iova, pa: m.pa, size: a * SZ_4K, prot: m.prot });
      if (b < pages) ref.push({ iova: m.iova + b * SZ_4K, pa: m.pa + b * SZ_4K, size: (pages - b) * SZ_4K, prot: m.prot });
    }
    checkAgainstReference(fmt, ops, env.memory, ref);
  }
  // unmap everything: nothing translates any more, then free returns every table page
  for (const m of ref) expect(ops.unmap(m.iova, m.size)).toBe(m.size);
  const regime = regimeOf(ops);
  for (const m of ref) {
    for (const a of probesInside(m)) {
      expect(ops.iovaToPhys(a)).toBe(0);
      expect(walk(env.memory, regime, a)).toBeNull();
    }
  }
  expect(env.log.warnCount).toBe(0);
  ops.free();
  expect(env.pages.freePagesTotal).toBe(t.freeAtStart);
  expect(env.pages.allocatedBlocks).toBe(t.blocksAtStart);
}

describe('LPAE page tables against a reference map', () => {
  const configs: [IoPgtableFmt, number, number][] = [
    ['s1', 48, 64 * SZ_1G],
    ['s1', 39, 16 * SZ_1G],
    ['s2', 40, 16 * SZ_1G],
    ['s2', 32, 4 * SZ_1G],
  ];
  it.each(configs)('%s with a %i-bit input', (fmt, ias, window) => {
    fc.assert(
      fc.property(fc.array(opArb, { minLength: 1, maxLength: 25 }), (list) => runOps(fmt, ias, window, list)),
      { numRuns: 60 },
    );
  });
});
