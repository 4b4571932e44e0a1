import { describe, expect, it, vi } from 'vitest';
import { IOVA_MAG_SIZE, IovaBugError, IovaDomain, iovaRcacheRange, iovaSize } from './index';

const DMA32_LIMIT = 2 ** 20 - 1; // last pfn below 4 GiB with 4 KiB granules

describe('IovaDomain: init and helpers', () => {
  it('derives the 32-bit boundary and helpers from the granule', () => {
    const d = new IovaDomain(4096, 1);
    expect(d.iovaShift()).toBe(12);
    expect(d.dma32BitPfn).toBe(2 ** 20);
    expect(d.max32AllocSize).toBe(2 ** 20);
    expect(d.iovaOffset(0x1234_5678_9abc)).toBe(0xabc);
    expect(d.iovaAlign(4097)).toBe(8192);
    expect(d.iovaAlign(8192)).toBe(8192);
    expect(d.iovaAlignDown(8191)).toBe(4096);
    expect(d.iovaPfn(0x1234_5678_9abc)).toBe(0x1234_5678_9);
    const iova = d.allocIova(1, 2 ** 40, false)!;
    expect(d.iovaDmaAddr(iova)).toBe(2 ** 52);
    const small = new IovaDomain(512, 8);
    expect(small.iovaShift()).toBe(9);
    expect(small.dma32BitPfn).toBe(2 ** 23);
  });

  it('BUGs on a granule that is not a power of two or larger than a page', () => {
    expect(() => new IovaDomain(3000, 1)).toThrow(IovaBugError);
    expect(() => new IovaDomain(8192, 1)).toThrow(IovaBugError);
    expect(() => new IovaDomain(8192, 1, { pageSize: 16384 })).not.toThrow();
  });

  it('reports the rcache range of 32 pages', () => {
    expect(iovaRcacheRange()).toBe(128 * 1024);
  });
});

describe('allocIova', () => {
  it('places ranges top-down below an inclusive limit', () => {
    const d = new IovaDomain(4096, 1);
    expect(d.allocIova(1, 100)).toMatchObject({ pfnLo: 100, pfnHi: 100 });
    expect(d.allocIova(1, 100)).toMatchObject({ pfnLo: 99, pfnHi: 99 });
    expect(d.allocIova(3, 100)).toMatchObject({ pfnLo: 96, pfnHi: 98 });
  });

  it('aligns the start to the size rounded up to a power of two when asked', () => {
    const d = new IovaDomain(4096, 1);
    const a = d.allocIova(3, 100, true)!; // 4-page alignment
    expect(a).toMatchObject({ pfnLo: 96, pfnHi: 98 });
    const b = d.allocIova(5, 100, true)!; // 8-page alignment, below a
    expect(b.pfnLo % 8).toBe(0);
    expect(b).toMatchObject({ pfnLo: 88, pfnHi: 92 });
    const c = d.allocIova(4, 100, true)!;
    expect(c.pfnLo % 4).toBe(0);
    expect(iovaSize(c)).toBe(4);
  });

  it('respects the limit and start pfn and fails when nothing fits', () => {
    const d = new IovaDomain(4096, 10);
    expect(d.allocIova(8, 20)).toMatchObject({ pfnLo: 13, pfnHi: 20 });
    expect(d.allocIova(3, 20)!.pfnLo).toBe(10);
    expect(d.allocIova(1, 20)).toBeNull();
    expect(d.allocIova(1, 9)).toBeNull();
  });

  it('handles pfns far above 32 bits exactly', () => {
    const d = new IovaDomain(4096, 1);
    const limit = 2 ** 40 - 1;
    const a = d.allocIova(2 ** 20, limit, true)!;
    expect(a.pfnLo).toBe(2 ** 40 - 2 ** 20);
    expect(a.pfnHi).toBe(limit);
    expect(d.findIova(2 ** 40 - 5)).toBe(a);
  });

  it('starts the next search below the cached node, leaving slack above it', () => {
    const d = new IovaDomain(4096, 1);
    const a = d.allocIova(4, 102, true)!; // [96, 99]; 100..102 stay free
    expect(a.pfnLo).toBe(96);
    expect(d.cached32Node).toBe(a);
    // the next search starts below the cached node, not in the slack above it
    expect(d.allocIova(1, 102)!.pfnLo).toBe(95);
  });

  it('retries above the cached node when nothing fits below it', () => {
    const d = new IovaDomain(4096, 96);
    d.allocIova(4, 102, true); // [96, 99]: nothing left below
    expect(d.allocIova(1, 102)!.pfnLo).toBe(102);
    expect(d.allocIova(2, 102)!.pfnLo).toBe(100);
    expect(d.allocIova(1, 102)).toBeNull();
  });

  it('moves the cached node up when a range at or above it is freed', () => {
    const d = new IovaDomain(4096, 1);
    const a = d.allocIova(1, 100)!;
    const b = d.allocIova(1, 100)!;
    const c = d.allocIova(1, 100)!;
    expect(d.cached32Node).toBe(c);
    d.__freeIova(b); // above the cached node: it moves to b's successor, a
    expect(d.cached32Node).toBe(a);
    expect(d.allocIova(1, 100)!.pfnLo).toBe(99); // b's hole is reused at once
    const e = d.allocIova(1, 100)!;
    expect(e.pfnLo).toBe(97);
    d.freeIova(c.pfnLo); // below the cached node e? c (98) is above e (97): moves to c's successor
    expect(d.cached32Node.pfnLo).toBe(99);
  });

  it('keeps separate cached nodes for 32-bit and full-range searches', () => {
    const d = new IovaDomain(4096, 1);
    const lo = d.allocIova(1, DMA32_LIMIT)!;
    const hi = d.allocIova(1, 2 ** 30)!;
    expect(lo.pfnLo).toBe(DMA32_LIMIT);
    expect(hi.pfnLo).toBe(2 ** 30);
    expect(d.cached32Node).toBe(lo);
    expect(d.cachedNode).toBe(hi);
    expect(d.allocIova(1, DMA32_LIMIT)!.pfnLo).toBe(DMA32_LIMIT - 1);
    expect(d.allocIova(1, 2 ** 30)!.pfnLo).toBe(2 ** 30 - 1);
  });

  it('fails 32-bit requests at once after a failure of that size (max32AllocSize)', () => {
    const d = new IovaDomain(4096, 1);
    d.reserveIova(1, 90);
    expect(d.allocIova(16, 100)).toBeNull(); // only 10 pages free below 101
    expect(d.max32AllocSize).toBe(16);
    // plenty of room below 4 GiB, but the hint fails this size (and larger) without searching
    expect(d.allocIova(16, DMA32_LIMIT)).toBeNull();
    expect(d.allocIova(20, DMA32_LIMIT)).toBeNull();
    expect(d.allocIova(15, DMA32_LIMIT)).not.toBeNull();
    // limits above 4 GiB ignore the hint
    const high = d.allocIova(16, 2 ** 21)!;
    expect(high).not.toBeNull();
    d.__freeIova(high); // freeing above 4 GiB does not reset it
    expect(d.max32AllocSize).toBe(16);
    const small = d.allocIova(1, 100)!;
    d.__freeIova(small); // freeing below 4 GiB does
    expect(d.max32AllocSize).toBe(2 ** 20);
    expect(d.allocIova(16, DMA32_LIMIT)).not.toBeNull();
  });
});

describe('find, free, reserve, put', () => {
  it('finds a range by any pfn inside it and frees it by an inner pfn', () => {
    const d = new IovaDomain(4096, 1);
    const a = d.allocIova(8, 1000, true)!;
    expect(d.findIova(a.pfnLo)).toBe(a);
    expect(d.findIova(a.pfnLo + 5)).toBe(a);
    expect(d.findIova(a.pfnHi)).toBe(a);
    expect(d.findIova(a.pfnLo - 1)).toBeNull();
    expect(d.findIova(a.pfnHi + 1)).toBeNull();
    d.freeIova(a.pfnLo + 3);
    expect(d.findIova(a.pfnLo)).toBeNull();
    expect(d.stats().nodes).toBe(0);
  });

  it('ignores a free of a pfn that is not allocated', () => {
    const warn = vi.fn();
    const d = new IovaDomain(4096, 1, { warn });
    const a = d.allocIova(1, 100)!;
    d.freeIova(5);
    d.freeIova(2 ** 50);
    expect(d.findIova(a.pfnLo)).toBe(a);
    expect(warn).not.toHaveBeenCalled();
    expect(d.stats()).toMatchObject({ nodes: 1, warnings: 0 });
  });

  it('warns on a double __freeIova and changes nothing', () => {
    const warn = vi.fn();
    const d = new IovaDomain(4096, 1, { warn });
    const a = d.allocIova(1, 100)!;
    const b = d.allocIova(1, 100)!;
    d.__freeIova(a);
    d.__freeIova(a);
    expect(warn).toHaveBeenCalledTimes(1);
    expect(d.ranges()).toEqual([b]);
  });

  it('merges overlapping reservations as the kernel does', () => {
    const d = new IovaDomain(4096, 1);
    const r1 = d.reserveIova(10, 20)!;
    expect(r1).toMatchObject({ pfnLo: 10, pfnHi: 20 });
    // overlapping the top: a new range for the part above
    expect(d.reserveIova(15, 30)).toMatchObject({ pfnLo: 21, pfnHi: 30 });
    // overlapping the bottom and inside: the existing range grows down and is returned
    expect(d.reserveIova(5, 12)).toBe(r1);
    expect(r1).toMatchObject({ pfnLo: 5, pfnHi: 20 });
    // fully inside: the existing range
    expect(d.reserveIova(22, 25)).toMatchObject({ pfnLo: 21, pfnHi: 30 });
    // spanning everything
    expect(d.reserveIova(0, 40)).toMatchObject({ pfnLo: 31, pfnHi: 40 });
    expect(d.ranges().map((r) => [r.pfnLo, r.pfnHi])).toEqual([
      [0, 20],
      [21, 30],
      [31, 40],
    ]);
    // allocations avoid reserved ranges
    expect(d.allocIova(1, 41)!.pfnLo).toBe(41);
    expect(d.allocIova(1, 40)).toBeNull();
  });

  it('rejects nonsensical reservations with a WARN', () => {
    const warn = vi.fn();
    const d = new IovaDomain(4096, 1, { warn });
    expect(d.reserveIova(10, 5)).toBeNull();
    expect(d.reserveIova(-1, 5)).toBeNull();
    expect(d.reserveIova(0, Number.MAX_SAFE_INTEGER)).toBeNull();
    expect(warn).toHaveBeenCalledTimes(3);
  });

  it('tears down every range and cache with putIovaDomain', () => {
    const d = new IovaDomain(4096, 1);
    d.allocIova(4, 1000);
    const p = d.allocIovaFast(1, 1000, true);
    d.freeIovaFast(p, 1);
    d.putIovaDomain();
    expect(d.stats()).toMatchObject({ nodes: 0, cached: 0, inUse: 0 });
    expect(d.hasRcaches).toBe(false);
    expect(d.allocIova(1, 1000)!.pfnLo).toBe(1000);
  });
});

describe('range caches', () => {
  it('returns a freed range from the magazine on the next allocation of that size', () => {
    const d = new IovaDomain(4096, 1);
    const p = d.allocIovaFast(1, DMA32_LIMIT, true);
    expect(p).toBe(DMA32_LIMIT);
    d.freeIovaFast(p, 1);
    expect(d.stats()).toMatchObject({ nodes: 1, cached: 1, inUse: 0 });
    expect(d.findIova(p)).not.toBeNull(); // cached ranges stay allocated in the tree
    expect(d.allocIovaFast(1, DMA32_LIMIT, true)).toBe(p);
    expect(d.stats()).toMatchObject({ nodes: 1, cached: 0, inUse: 1, rcacheHits: 1 });
  });

  it('rounds sizes below 32 pages up to a power of two and caches them by order', () => {
    const d = new IovaDomain(4096, 1);
    const p = d.allocIovaFast(3, 1000, true);
    expect(d.findIova(p)).toMatchObject({ pfnLo: p, pfnHi: p + 3 });
    expect(p % 4).toBe(0);
    d.freeIovaFast(p, 3);
    expect(d.allocIovaFast(4, 1000, true)).toBe(p);
    // 33 pages: not rounded, not cached
    const q = d.allocIovaFast(33, 1000, true);
    expect(iovaSize(d.findIova(q)!)).toBe(33);
    d.freeIovaFast(q, 33);
    expect(d.findIova(q)).toBeNull();
    expect(d.stats().cached).toBe(0);
  });

  it('only takes a cached pfn that ends at or below the limit', () => {
    const d = new IovaDomain(4096, 1);
    const p = d.allocIovaFast(2, 1000, true); // [998, 999]
    d.freeIovaFast(p, 2);
    const q = d.allocIovaFast(2, 998, true);
    expect(q).not.toBe(p);
    expect(q + 1).toBeLessThanOrEqual(998);
    expect(d.allocIovaFast(2, 999, true)).toBe(p);
  });

  it('keeps magazines per CPU', () => {
    const d = new IovaDomain(4096, 1, { cpus: 2 });
    const p = d.allocIovaFast(1, 1000, true, 0);
    d.freeIovaFast(p, 1, 0);
    d.currentCpu = 1;
    const q = d.allocIovaFast(1, 1000, true);
    expect(q).not.toBe(p);
    d.currentCpu = 0;
    expect(d.allocIovaFast(1, 1000, true)).toBe(p);
    expect(() => (d.currentCpu = 2)).toThrow(RangeError);
  });

  it('moves full magazines to the depot and trims it on the depot work', () => {
    const onDepotWorkScheduled = vi.fn();
    const d = new IovaDomain(4096, 1, { onDepotWorkScheduled });
    const n = IOVA_MAG_SIZE * 5;
    const pfns: number[] = [];
    for (let i = 0; i < n; i++) pfns.push(d.allocIovaFast(1, DMA32_LIMIT, true));
    for (const p of pfns) d.freeIovaFast(p, 1);
    // loaded and prev hold 2 magazines, the depot the other 3 (the 5th magazine is the loaded one)
    expect(d.stats()).toMatchObject({ cached: n, depotMagazines: 3 });
    expect(onDepotWorkScheduled).toHaveBeenCalledTimes(1);
    expect(d.depotWorkPending).toBe(true);
    expect(d.runDepotWork()).toBe(2); // down to one magazine per CPU
    expect(d.stats()).toMatchObject({ cached: n - 2 * IOVA_MAG_SIZE, depotMagazines: 1, nodes: n - 2 * IOVA_MAG_SIZE });
    // allocation drains loaded, then prev, then the depot before going to the tree
    for (let i = 0; i < n - 2 * IOVA_MAG_SIZE; i++) d.allocIovaFast(1, DMA32_LIMIT, true);
    expect(d.stats()).toMatchObject({ cached: 0, depotMagazines: 0, rcacheMisses: n });
  });

  it('flushes every CPU cache and the depot and retries once when the tree is full', () => {
    const d = new IovaDomain(4096, 1, { cpus: 2 });
    const limit = 16;
    const pfns: number[] = [];
    for (let i = 0; i < 16; i++) pfns.push(d.allocIovaFast(1, limit, true, 0));
    expect(pfns).not.toContain(0);
    expect(d.allocIovaFast(1, limit, true, 0)).toBe(0);
    for (const p of pfns) d.freeIovaFast(p, 1, 1); // all cached on CPU 1
    expect(d.allocIovaFast(2, limit, false, 0)).toBe(0); // no flush asked: fails
    const p = d.allocIovaFast(2, limit, true, 0);
    expect(p).not.toBe(0);
    expect(d.stats()).toMatchObject({ cached: 0, nodes: 1, rcacheFlushes: 2 }); // the failed try above flushed too
  });

  it('frees CPU and global caches on request', () => {
    const d = new IovaDomain(4096, 1, { cpus: 2 });
    const ps: number[] = [];
    for (let i = 0; i < 300; i++) ps.push(d.allocIovaFast(1, DMA32_LIMIT, true));
    ps.forEach((p, i) => d.freeIovaFast(p, 1, i < 10 ? 1 : 0));
    expect(d.stats().cached).toBe(300);
    d.freeCpuCachedIovas(1);
    expect(d.stats().cached).toBe(290);
    d.freeGlobalCachedIovas();
    expect(d.stats().depotMagazines).toBe(0);
    d.freeCpuCachedIovas(0);
    expect(d.stats()).toMatchObject({ cached: 0, nodes: 0 });
  });

  it('works without range caches (tree only)', () => {
    const d = new IovaDomain(4096, 1, { rcaches: false });
    const p = d.allocIovaFast(1, 100, true);
    d.freeIovaFast(p, 1);
    expect(d.stats()).toMatchObject({ nodes: 0, cached: 0 });
    expect(d.iovaDomainInitRcaches()).toBe(0);
    expect(d.hasRcaches).toBe(true);
  });
});
