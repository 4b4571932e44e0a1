import { EEXIST, EINVAL, ENOMEM, ERANGE, KernelLog, PageAllocator, PhysicalMemory } from '@dmasim/core';
import { describe, expect, it } from 'vitest';
import type { ArmLpaeIoPgtable } from './arm-lpae';
import { allocIoPgtableOps, freeIoPgtableOps } from './io-pgtable';
import { IOMMU_CACHE, IOMMU_MMIO, IOMMU_NOEXEC, IOMMU_PRIV, IOMMU_READ, IOMMU_WRITE } from './prot';
import { armLpaeTcrValue, armLpaeVtcrValue, mairAttr } from './registers';
import { PGSIZE_4K_2M_1G, SZ_1G, SZ_2M, SZ_4K, makeTables } from './test-env';
import { stage2StartLevelFromSl0, walk } from './test-walker';
import type { IoPgtableFmt } from './types';

const RW = IOMMU_READ | IOMMU_WRITE;

function regimeOf(ops: ArmLpaeIoPgtable) {
  if (ops.armLpaeS2Cfg !== null) {
    return { ttbr: ops.armLpaeS2Cfg.vttbr, ias: 64 - ops.armLpaeS2Cfg.vtcr.tsz, startLevel: stage2StartLevelFromSl0(ops.armLpaeS2Cfg.vtcr.sl) };
  }
  return { ttbr: ops.armLpaeS1Cfg!.ttbr, ias: 64 - ops.armLpaeS1Cfg!.tcr.tsz };
}

describe('geometry and registers', () => {
  it.each([
    ['s1', 48, 0, 4096],
    ['s1', 39, 1, 4096],
    ['s1', 32, 1, 32],
    ['s1', 40, 0, 16],
    ['s2', 40, 1, 8192],
    ['s2', 42, 1, 32768],
    ['s2', 44, 0, 256],
    ['s2', 32, 1, 32],
  ] as const)('%s with a %i-bit input starts at level %i with a %i-byte root', (fmt, ias, start, pgdSize) => {
    const { ops } = makeTables(fmt, { ias });
    expect(ops.startLevel).toBe(start);
    expect(ops.pgdSize).toBe(pgdSize);
    expect(ops.ttbr % Math.max(pgdSize, 4096)).toBe(0);
  });

  it('gives the stage-1 TCR fields and MAIR the kernel computes', () => {
    const coherent = makeTables('s1', { ias: 48, oas: 40, coherentWalk: true }).ops.armLpaeS1Cfg!;
    expect(coherent.tcr).toEqual({ sh: 3, irgn: 1, orgn: 1, tg: 0, ips: 2, tsz: 16 });
    expect(coherent.mair).toBe(0xf404ff44);
    expect([0, 1, 2, 3].map((i) => mairAttr(coherent.mair, i))).toEqual([0x44, 0xff, 0x04, 0xf4]);
    expect(armLpaeTcrValue(coherent.tcr)).toBe(2 * 2 ** 32 + 0x80_3510);
    const nonCoherent = makeTables('s1', { ias: 32, oas: 48, coherentWalk: false }).ops.armLpaeS1Cfg!;
    expect(nonCoherent.tcr).toEqual({ sh: 2, irgn: 0, orgn: 0, tg: 0, ips: 5, tsz: 32 });
  });

  it('gives the stage-2 VTCR with SL0 matching the start level', () => {
    const s2 = makeTables('s2', { ias: 40, oas: 40 }).ops;
    expect(s2.armLpaeS2Cfg!.vtcr).toEqual({ sh: 3, irgn: 1, orgn: 1, tg: 0, ps: 2, tsz: 24, sl: 1 });
    expect(s2.armLpaeS2Cfg!.vttbr).toBe(s2.ttbr);
    expect(armLpaeVtcrValue(s2.armLpaeS2Cfg!.vtcr)).toBe(0x8002_3558);
    expect(makeTables('s2', { ias: 48 }).ops.armLpaeS2Cfg!.vtcr.sl).toBe(2);
  });

  it('restricts the page sizes to the 4 KiB granule and refuses what it cannot serve', () => {
    const env = { memory: new PhysicalMemory([{ base: 0, size: 1 << 24 }]), pages: new PageAllocator([{ base: 0, size: 1 << 24 }]), log: new KernelLog() };
    const tlb = { tlbFlushAll: () => {}, tlbFlushWalk: () => {}, tlbAddPage: () => {} };
    const ops = allocIoPgtableOps('s1', { pgsizeBitmap: SZ_4K + 65536 + SZ_2M, ias: 48, oas: 48, coherentWalk: true, tlb }, null, env);
    expect(ops?.pgsizeBitmap).toBe(SZ_4K + SZ_2M);
    expect(allocIoPgtableOps('s1', { pgsizeBitmap: 65536 + 512 * 1024 * 1024, ias: 48, oas: 48, coherentWalk: true, tlb }, null, env)).toBeNull();
    expect(allocIoPgtableOps('s1', { pgsizeBitmap: PGSIZE_4K_2M_1G, ias: 48, oas: 37, coherentWalk: true, tlb }, null, env)).toBeNull();
  });
});

describe('descriptors in memory', () => {
  it('writes a stage-1 page descriptor with the kernel attribute bits', () => {
    const { ops, env } = makeTables('s1');
    const pa = 0x12_3456_7000;
    expect(ops.mapPages(0x4000_0000, pa, SZ_4K, 1, RW | IOMMU_CACHE | IOMMU_NOEXEC)).toBe(0);
    const leaf = walk(env.memory, regimeOf(ops), 0x4000_0123)!;
    expect(leaf.level).toBe(3);
    expect(leaf.pa).toBe(pa + 0x123);
    // type page, AttrIndx 1, AP unprivileged read/write, SH inner, AF, nG, PXN|UXN
    const expected = (0x3n | (1n << 2n) | (1n << 6n) | (3n << 8n) | (1n << 10n) | (1n << 11n) | (3n << 53n)) | BigInt(pa);
    expect(leaf.desc).toBe(expected);
  });

  it('encodes read-only, privileged, MMIO and non-cacheable choices at stage 1', () => {
    const { ops, env } = makeTables('s1');
    ops.mapPages(0, 0x1000, SZ_4K, 1, IOMMU_READ | IOMMU_PRIV | IOMMU_MMIO);
    const leaf = walk(env.memory, regimeOf(ops), 0)!;
    expect(leaf.ap).toBe(2); // AP[2] read-only, AP[1] clear: privileged only
    expect(leaf.attr).toBe(2); // Device
    expect(leaf.sh).toBe(2); // outer shareable without IOMMU_CACHE
    expect(leaf.xn).toBe(0);
    expect(leaf.ng && leaf.af).toBe(true);
  });

  it('writes stage-2 S2AP and MemAttr', () => {
    const { ops, env } = makeTables('s2', { ias: 40, oas: 40 });
    ops.mapPages(SZ_2M, 0x40_0000, SZ_2M, 1, IOMMU_READ);
    ops.mapPages(SZ_1G, SZ_1G, SZ_4K, 1, IOMMU_WRITE | IOMMU_CACHE);
    const block = walk(env.memory, regimeOf(ops), SZ_2M + 5)!;
    expect([block.level, block.pa, block.ap, block.attr, block.sh, block.ng]).toEqual([2, 0x40_0005, 1, 0x5, 2, false]);
    const page = walk(env.memory, regimeOf(ops), SZ_1G)!;
    expect([page.level, page.ap, page.attr, page.sh]).toEqual([3, 2, 0xf, 3]);
  });
});

describe('the kernel selftest sequence', () => {
  const cases: [IoPgtableFmt, number][] = [];
  for (const fmt of ['s1', 's2'] as const) for (const ias of [32, 36, 40, 42, 44, 48]) cases.push([fmt, ias]);
  it.each(cases)('%s, %i-bit input', (fmt, ias) => {
    // the selftest as it ran before 6.13, when a partial unmap split the block (the linux-4.2 profile)
    const t = makeTables(fmt, { ias, splitBlocks: true });
    const { ops } = t;
    expect([42, SZ_1G + 42, 2 * SZ_1G + 42].map((a) => ops.iovaToPhys(a))).toEqual([0, 0, 0]);
    let iova = 0;
    for (const size of [SZ_4K, SZ_2M, SZ_1G]) {
      expect(ops.mapPages(iova, iova, size, 1, RW | IOMMU_NOEXEC | IOMMU_CACHE)).toBe(0);
      expect(ops.mapPages(iova, iova + size, size, 1, IOMMU_READ | IOMMU_NOEXEC)).toBe(-EEXIST);
      expect(ops.iovaToPhys(iova + 42)).toBe(iova + 42);
      iova += SZ_1G;
    }
    expect(t.env.log.warnCount).toBe(3);
    // partial unmap of the 2 MiB block splits it
    expect(ops.unmapPages(SZ_1G + SZ_4K, SZ_4K, 1)).toBe(SZ_4K);
    expect(ops.iovaToPhys(SZ_1G + SZ_4K)).toBe(0);
    expect(ops.iovaToPhys(SZ_1G + 2 * SZ_4K + 7)).toBe(SZ_1G + 2 * SZ_4K + 7);
    expect(ops.mapPages(SZ_1G + SZ_4K, SZ_4K, SZ_4K, 1, IOMMU_READ)).toBe(0);
    expect(ops.iovaToPhys(SZ_1G + SZ_4K + 42)).toBe(SZ_4K + 42);
    iova = 0;
    for (const size of [SZ_4K, SZ_2M, SZ_1G]) {
      expect(ops.unmapPages(iova, size, 1)).toBe(size);
      expect(ops.iovaToPhys(iova + 42)).toBe(0);
      expect(ops.mapPages(iova, iova, size, 1, IOMMU_WRITE)).toBe(0);
      expect(ops.iovaToPhys(iova + 42)).toBe(iova + 42);
      iova += SZ_1G;
    }
    freeIoPgtableOps(ops);
    expect(t.env.pages.freePagesTotal).toBe(t.freeAtStart);
    expect(t.env.pages.allocatedBlocks).toBe(t.blocksAtStart);
  });
});

describe('map and unmap', () => {
  it('maps with the largest pages alignment allows, like iommu_map', () => {
    const { ops, env } = makeTables('s1');
    expect(ops.map(SZ_1G - SZ_4K, 3 * SZ_1G - SZ_4K, SZ_1G + SZ_2M + 2 * SZ_4K, RW)).toBe(0);
    const r = regimeOf(ops);
    expect(walk(env.memory, r, SZ_1G - SZ_4K)!.level).toBe(3);
    expect(walk(env.memory, r, SZ_1G)!.level).toBe(1);
    expect(walk(env.memory, r, 2 * SZ_1G)!.level).toBe(2);
    expect(walk(env.memory, r, 2 * SZ_1G + SZ_2M)!.level).toBe(3);
    expect(walk(env.memory, r, 2 * SZ_1G + SZ_2M + SZ_4K)).toBeNull();
    expect(ops.iovaToPhys(2 * SZ_1G + SZ_2M + 5)).toBe(4 * SZ_1G + SZ_2M + 5);
  });

  it('falls back to 4 KiB pages when iova and paddr are offset differently', () => {
    const { ops, env } = makeTables('s1');
    expect(ops.map(0, SZ_4K, 2 * SZ_2M, RW)).toBe(0);
    expect(walk(env.memory, regimeOf(ops), SZ_2M)!.level).toBe(3);
    expect(ops.tablePages).toBe(1 + 3 + 1); // root, L1, L2, two L3 tables
  });

  it('refuses bad arguments the way the kernel does', () => {
    const { ops, env } = makeTables('s1', { ias: 39 });
    expect(ops.mapPages(0, 0, SZ_4K, 1, IOMMU_CACHE)).toBe(-EINVAL);
    expect(ops.mapPages(0, 0, 8192, 1, RW)).toBe(-EINVAL);
    expect(ops.mapPages(2 ** 39, 0, SZ_4K, 1, RW)).toBe(-ERANGE);
    expect(ops.mapPages(0, 2 ** 48, SZ_4K, 1, RW)).toBe(-ERANGE);
    expect(ops.map(0x800, 0, SZ_4K, RW)).toBe(-EINVAL);
    expect(env.log.lines.some((l) => l.text === 'unaligned: iova 0x800 pa 0x0 size 0x1000 min_pagesz 0x1000')).toBe(true);
    expect(ops.iovaToPhys(0)).toBe(0);
  });

  it('warns and returns 0 when unmapping nothing, unless the quirk says not to', () => {
    const loud = makeTables('s1');
    expect(loud.ops.unmapPages(0x10000, SZ_4K, 1)).toBe(0);
    expect(loud.env.log.warnCount).toBe(1);
    expect(loud.env.log.lines.some((l) => l.text.includes('drivers/iommu/io-pgtable-arm.c __arm_lpae_unmap'))).toBe(true);
    const quiet = makeTables('s1', { quirkNoWarn: true });
    expect(quiet.ops.unmapPages(0x10000, SZ_4K, 1)).toBe(0);
    quiet.ops.mapPages(0, 0, SZ_4K, 1, RW);
    expect(quiet.ops.mapPages(0, 0, SZ_4K, 1, RW)).toBe(-EEXIST);
    expect(quiet.env.log.warnCount).toBe(0);
  });

  it('maps several pages in one call up to the end of the table', () => {
    const { ops } = makeTables('s1');
    const mapped = { value: 0 };
    expect(ops.mapPages(SZ_2M - 2 * SZ_4K, 0x8000_0000, SZ_4K, 5, RW, mapped)).toBe(0);
    expect(mapped.value).toBe(2 * SZ_4K);
    expect(ops.iovaToPhys(SZ_2M)).toBe(0);
    expect(ops.unmapPages(SZ_2M - 2 * SZ_4K, SZ_4K, 5)).toBe(2 * SZ_4K);
  });

  it('replaces an emptied table with a block and frees the table', () => {
    const t = makeTables('s1');
    t.ops.mapPages(SZ_2M, 0, SZ_4K, 1, RW);
    t.ops.unmapPages(SZ_2M, SZ_4K, 1);
    const before = t.ops.tablePages;
    t.tlbCalls.length = 0;
    expect(t.ops.mapPages(SZ_2M, 0, SZ_2M, 1, RW)).toBe(0);
    expect(t.ops.tablePages).toBe(before - 1);
    expect(t.tlbCalls).toEqual([{ op: 'walk', iova: SZ_2M, size: SZ_2M, granule: SZ_4K }]);
    expect(t.ops.iovaToPhys(SZ_2M + 9)).toBe(9);
  });

  it('reports -ENOMEM when no table page is left, and iommu_map unwinds', () => {
    const ram = [{ base: 0x8000_0000, size: 4 * SZ_4K }];
    const t = makeTables('s1', {}, ram);
    expect(t.ops.map(0, 0, 2 * SZ_4K, RW)).toBe(0); // root + 3 tables: every page used
    expect(t.ops.map(SZ_2M - SZ_4K, 0, 2 * SZ_4K, RW)).toBe(-ENOMEM);
    expect(t.ops.iovaToPhys(SZ_2M - SZ_4K)).toBe(0);
    expect(t.ops.iovaToPhys(SZ_4K)).toBe(SZ_4K);
  });
});

describe('partial unmap of a block from 6.13 (__arm_lpae_unmap)', () => {
  it('warns once and keeps the whole block mapped', () => {
    const { ops, env } = makeTables('s1');
    expect(ops.mapPages(SZ_2M, SZ_2M, SZ_2M, 1, RW)).toBe(0);
    expect(ops.unmapPages(SZ_2M + SZ_4K, SZ_4K, 1)).toBe(0);
    expect(ops.unmapPages(SZ_2M + 2 * SZ_4K, SZ_4K, 1)).toBe(0);
    expect(ops.iovaToPhys(SZ_2M + SZ_4K + 42)).toBe(SZ_2M + SZ_4K + 42);
    const text = env.log.format().map((l) => l.slice(15));
    expect(text.filter((l) => l === 'Unmap of a partial large IOPTE is not allowed')).toHaveLength(1);
    expect(env.log.warnCount).toBe(1);
    // the whole block still unmaps
    expect(ops.unmapPages(SZ_2M, SZ_2M, 1)).toBe(SZ_2M);
    expect(ops.iovaToPhys(SZ_2M + 42)).toBe(0);
  });
});

describe('block splitting and TLB maintenance', () => {
  it('splits a 1 GiB block down to pages and keeps the rest mapped with its attributes', () => {
    const { ops, env, tlbCalls } = makeTables('s1', { splitBlocks: true });
    expect(ops.mapPages(SZ_1G, 5 * SZ_1G, SZ_1G, 1, IOMMU_READ | IOMMU_NOEXEC)).toBe(0);
    const tables = ops.tablePages;
    expect(ops.unmap(SZ_1G + 3 * SZ_2M + 5 * SZ_4K, 2 * SZ_4K)).toBe(2 * SZ_4K);
    expect(ops.tablePages).toBe(tables + 2);
    expect(tlbCalls).toEqual([
      { op: 'page', iova: SZ_1G + 3 * SZ_2M + 5 * SZ_4K, granule: SZ_4K },
      { op: 'page', iova: SZ_1G + 3 * SZ_2M + 6 * SZ_4K, granule: SZ_4K },
    ]);
    const r = regimeOf(ops);
    expect(walk(env.memory, r, SZ_1G + 3 * SZ_2M + 5 * SZ_4K)).toBeNull();
    const page = walk(env.memory, r, SZ_1G + 3 * SZ_2M + 7 * SZ_4K + 1)!;
    expect([page.level, page.pa, page.ap, page.xn]).toEqual([3, 5 * SZ_1G + 3 * SZ_2M + 7 * SZ_4K + 1, 3, 3]);
    const block = walk(env.memory, r, SZ_1G + 9 * SZ_2M)!;
    expect([block.level, block.pa]).toEqual([2, 5 * SZ_1G + 9 * SZ_2M]);
    expect(ops.iovaToPhys(SZ_1G + SZ_1G - 1)).toBe(6 * SZ_1G - 1);
  });

  it('flushes walks when a table goes, skips per-page flushes for a queued gather, flushes all on free', () => {
    const { ops, tlbCalls } = makeTables('s1');
    ops.map(0, 0, 4 * SZ_4K, RW);
    tlbCalls.length = 0;
    expect(ops.unmapPages(0, SZ_4K, 2, { queued: true })).toBe(2 * SZ_4K);
    expect(tlbCalls).toEqual([]);
    expect(ops.unmapPages(0, SZ_2M, 1)).toBe(SZ_2M);
    expect(tlbCalls).toEqual([{ op: 'walk', iova: 0, size: SZ_2M, granule: SZ_4K }]);
    ops.free();
    expect(tlbCalls[tlbCalls.length - 1]).toEqual({ op: 'all' });
    expect(() => ops.iovaToPhys(0)).toThrow('used after free');
  });

  it('passes the cookie to the TLB callbacks', () => {
    const env = { memory: new PhysicalMemory([{ base: 0, size: 1 << 24 }]), pages: new PageAllocator([{ base: 0, size: 1 << 24 }]), log: new KernelLog() };
    const seen: unknown[] = [];
    const tlb = { tlbFlushAll: (c: unknown) => void seen.push(c), tlbFlushWalk: () => {}, tlbAddPage: (_i: number, _g: number, c: unknown) => void seen.push(c) };
    const cookie = { domain: 7 };
    const ops = allocIoPgtableOps('s2', { pgsizeBitmap: PGSIZE_4K_2M_1G, ias: 40, oas: 40, coherentWalk: false, tlb }, cookie, env)!;
    ops.map(0, 0, SZ_4K, RW);
    ops.unmap(0, SZ_4K);
    freeIoPgtableOps(ops);
    expect(seen).toEqual([cookie, cookie]);
  });
});
