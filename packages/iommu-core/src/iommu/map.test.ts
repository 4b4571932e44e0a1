import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { EINVAL, GiB, KernelLog, KiB, MiB } from '@dmasim/core';
import { IommuIotlbGather } from './gather';
import { iommuIovaToPhys, iommuMap, iommuMapSg, iommuUnmap, iommuUnmapFast, iommuIotlbSync } from './map';
import { IommuCore } from './core';
import { FakeIommu, type FakeDomain } from './testing';
import { IOMMU_READ, IOMMU_WRITE } from './types';

const RW = IOMMU_READ | IOMMU_WRITE;

function makeDomain(pgsizeBitmap = 4 * KiB + 2 * MiB + GiB): { domain: FakeDomain; log: KernelLog } {
  const log = new KernelLog();
  const core = new IommuCore({ log });
  const fake = new FakeIommu(core, { fwnode: 'smmu0', pgsizeBitmap });
  const domain = fake.ops.domainAlloc('UNMANAGED') as FakeDomain;
  domain.pgsizeBitmap = pgsizeBitmap;
  domain.log = log;
  return { domain, log };
}

describe('iommuMap page-size splitting', () => {
  it('maps 2 MiB + 4 KiB as one 2M page and one 4K page', () => {
    const { domain } = makeDomain();
    expect(iommuMap(domain, 0x40000000, 0x80000000, 2 * MiB + 4 * KiB, RW)).toBe(0);
    expect(domain.mapCalls).toEqual([
      { iova: 0x40000000, pgsize: 2 * MiB, pgcount: 1 },
      { iova: 0x40200000, pgsize: 4 * KiB, pgcount: 1 },
    ]);
    expect(iommuIovaToPhys(domain, 0x40200010)).toBe(0x80200010);
  });

  it('uses 4K pages up to the next 2M boundary, then a block', () => {
    const { domain } = makeDomain();
    // 4 KiB below a 2 MiB boundary, then 2 MiB: one small page, then one block.
    expect(iommuMap(domain, 0x1ff000, 0x3ff000, 2 * MiB + 4 * KiB, RW)).toBe(0);
    expect(domain.mapCalls.map((c) => [c.pgsize, c.pgcount])).toEqual([
      [4 * KiB, 1],
      [2 * MiB, 1],
    ]);
  });

  it('stays on small pages when iova and pa are offset differently inside a block', () => {
    const { domain } = makeDomain();
    expect(iommuMap(domain, 0x200000, 0x401000, 4 * MiB, RW)).toBe(0);
    expect(domain.mapCalls).toEqual([{ iova: 0x200000, pgsize: 4 * KiB, pgcount: 1024 }]);
  });

  it('maps a 1 GiB block above 4 GiB without 32-bit truncation', () => {
    const { domain } = makeDomain();
    const iova = 5 * GiB;
    expect(iommuMap(domain, iova, 7 * GiB, GiB, RW)).toBe(0);
    expect(domain.mapCalls).toEqual([{ iova, pgsize: GiB, pgcount: 1 }]);
    expect(iommuIovaToPhys(domain, iova + 123)).toBe(7 * GiB + 123);
  });

  it('refuses an unaligned mapping with the kernel message', () => {
    const { domain, log } = makeDomain();
    expect(iommuMap(domain, 0x1000, 0x80000800, 0x1000, RW)).toBe(-EINVAL);
    expect(domain.mapCalls).toHaveLength(0);
    expect(log.lines.at(-1)?.text).toBe('iommu: unaligned: iova 0x1000 pa 0x0000000080000800 size 0x1000 min_pagesz 0x1000');
  });

  it('refuses maps into non-paging domains', () => {
    const { domain } = makeDomain();
    domain.type = 'IDENTITY';
    expect(iommuMap(domain, 0, 0, 4 * KiB, RW)).toBe(-EINVAL);
    expect(iommuIovaToPhys(domain, 0x1234)).toBe(0x1234);
  });

  it('unwinds a partial map when the driver fails', () => {
    const { domain } = makeDomain();
    expect(iommuMap(domain, 0x3000, 0x3000, 4 * KiB, RW)).toBe(0);
    // Overlaps the page at 0x3000: the first pages map, then the driver refuses; all are undone.
    expect(iommuMap(domain, 0x1000, 0x9000, 16 * KiB, RW)).toBeLessThan(0);
    expect(iommuIovaToPhys(domain, 0x1000)).toBe(0);
    expect(iommuIovaToPhys(domain, 0x3000)).toBe(0x3000);
  });
});

describe('iommuUnmap', () => {
  it('returns the bytes unmapped and stops at a hole', () => {
    const { domain } = makeDomain();
    iommuMap(domain, 0x10000, 0x50000, 8 * KiB, RW);
    expect(iommuUnmap(domain, 0x10000, 16 * KiB)).toBe(8 * KiB);
    expect(iommuIovaToPhys(domain, 0x10000)).toBe(0);
    expect(domain.syncs).toBe(1);
  });

  it('logs and unmaps nothing for an unaligned range', () => {
    const { domain, log } = makeDomain();
    iommuMap(domain, 0x10000, 0x50000, 8 * KiB, RW);
    expect(iommuUnmap(domain, 0x10800, 4 * KiB)).toBe(0);
    expect(log.lines.at(-1)?.text).toBe('iommu: unaligned: iova 0x10800 size 0x1000 min_pagesz 0x1000');
  });

  it('leaves the IOTLB sync to the caller with iommuUnmapFast', () => {
    const { domain } = makeDomain();
    iommuMap(domain, 0x10000, 0x50000, 4 * KiB, RW);
    iommuMap(domain, 0x30000, 0x70000, 4 * KiB, RW);
    const gather = new IommuIotlbGather();
    expect(iommuUnmapFast(domain, 0x10000, 4 * KiB, gather)).toBe(4 * KiB);
    expect(iommuUnmapFast(domain, 0x30000, 4 * KiB, gather)).toBe(4 * KiB);
    expect(domain.syncs).toBe(0);
    expect([gather.start, gather.end]).toEqual([0x10000, 0x30fff]);
    iommuIotlbSync(domain, gather);
    expect(domain.syncs).toBe(1);
    expect(gather.empty).toBe(true);
  });
});

describe('iommuMapSg', () => {
  it('merges physically contiguous entries into one mapping', () => {
    const { domain } = makeDomain();
    const sg = [
      { phys: 0x100000, length: 4 * KiB },
      { phys: 0x101000, length: 4 * KiB },
      { phys: 0x300000, length: 4 * KiB },
    ];
    expect(iommuMapSg(domain, 0x800000, sg, RW)).toBe(12 * KiB);
    expect(domain.mapCalls.map((c) => c.pgcount)).toEqual([2, 1]);
    expect(iommuIovaToPhys(domain, 0x802000)).toBe(0x300000);
  });
});

describe('iommuMap against a reference model (property)', () => {
  it('every mapped byte translates and unmapping restores holes', () => {
    const page = 4 * KiB;
    fc.assert(
      fc.property(
        fc.array(fc.record({ slot: fc.integer({ min: 0, max: 63 }), pages: fc.integer({ min: 1, max: 300 }), pa: fc.integer({ min: 0, max: 4095 }) }), { maxLength: 6 }),
        (reqs) => {
          const { domain } = makeDomain();
          const ref = new Map<number, number>();
          const done: { iova: number; size: number }[] = [];
          for (const r of reqs) {
            const iova = r.slot * 4 * MiB;
            const size = r.pages * page;
            const pa = r.pa * 2 * MiB + (r.slot % 2) * page;
            const clash = [...Array(r.pages).keys()].some((i) => ref.has(iova + i * page));
            const ret = iommuMap(domain, iova, pa, size, RW);
            if (clash) continue;
            expect(ret).toBe(0);
            done.push({ iova, size });
            for (let i = 0; i < r.pages; i++) ref.set(iova + i * page, pa + i * page);
          }
          for (const [iova, pa] of ref) expect(iommuIovaToPhys(domain, iova + 7)).toBe(pa + 7);
          for (const c of domain.mapCalls) expect(c.iova % c.pgsize).toBe(0);
          for (const d of done) expect(iommuUnmap(domain, d.iova, d.size)).toBe(d.size);
          for (const iova of ref.keys()) expect(iommuIovaToPhys(domain, iova)).toBe(0);
        },
      ),
      { numRuns: 40 },
    );
  });
});
