import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { GiB, MiB, PAGE_SIZE } from '../address';
import { GFP_DMA, GFP_DMA32, GFP_KERNEL, MAX_PAGE_ORDER, PageAllocator, type GfpFlags, type ZoneType } from './page-allocator';

const gfpOf: Record<ZoneType, GfpFlags> = { DMA: GFP_DMA, DMA32: GFP_DMA32, NORMAL: GFP_KERNEL };
const ZONE_END: Record<ZoneType, number> = { DMA: 1 * GiB, DMA32: 4 * GiB, NORMAL: Number.MAX_SAFE_INTEGER };

/** A Raspberry Pi 4-like layout: ZONE_DMA below 1 GiB, DMA32 up to 4 GiB, NORMAL above (5 GiB of RAM). */
function pi4Like(reserved: { base: number; size: number }[] = []) {
  return new PageAllocator([{ base: 0, size: 5 * GiB }], { dmaZoneEnd: 1 * GiB, reserved });
}

function blockBytes(order: number): number {
  return PAGE_SIZE * 2 ** order;
}

/** Live blocks, checked for overlap as they are added. */
class LiveSet {
  readonly blocks = new Map<number, number>();
  add(addr: number, order: number): void {
    const end = addr + blockBytes(order);
    for (const [a, o] of this.blocks) {
      if (addr < a + blockBytes(o) && a < end) throw new Error(`block ${addr}+order ${order} overlaps ${a}+order ${o}`);
    }
    this.blocks.set(addr, order);
  }
}

describe('PageAllocator: blocks handed out', () => {
  it('live blocks never overlap, are naturally aligned, lie in RAM and respect the zone (property)', () => {
    const opArb = fc.oneof(
      { arbitrary: fc.record({ kind: fc.constant('alloc' as const), order: fc.integer({ min: 0, max: MAX_PAGE_ORDER }), zone: fc.constantFrom<ZoneType>('DMA', 'DMA32', 'NORMAL') }), weight: 3 },
      { arbitrary: fc.record({ kind: fc.constant('free' as const), pick: fc.nat() }), weight: 2 },
      { arbitrary: fc.constant({ kind: 'drain' as const }), weight: 1 },
    );
    fc.assert(
      fc.property(fc.array(opArb, { maxLength: 120 }), (ops) => {
        const pages = pi4Like([{ base: 0x3b40_0000, size: 0x4c0_0000 }]);
        const live = new LiveSet();
        for (const op of ops) {
          if (op.kind === 'alloc') {
            const addr = pages.allocPages(op.order, gfpOf[op.zone]);
            expect(addr).not.toBeNull();
            const a = addr!;
            expect(a % blockBytes(op.order)).toBe(0);
            expect(a + blockBytes(op.order)).toBeLessThanOrEqual(Math.min(ZONE_END[op.zone], 5 * GiB));
            expect(a + blockBytes(op.order) <= 0x3b40_0000 || a >= 0x4000_0000).toBe(true);
            live.add(a, op.order);
            expect(pages.allocatedOrder(a)).toBe(op.order);
          } else if (op.kind === 'free' && live.blocks.size > 0) {
            const entries = [...live.blocks];
            const [a, o] = entries[op.pick % entries.length]!;
            expect(pages.freePages(a, o)).toBe(true);
            live.blocks.delete(a);
          } else if (op.kind === 'drain') {
            pages.drainPcp();
          }
          const livePages = [...live.blocks.values()].reduce((n, o) => n + 2 ** o, 0);
          const managed = pages.stats().reduce((n, z) => n + z.managedPages, 0);
          expect(pages.freePagesTotal + livePages).toBe(managed);
        }
      }),
      { numRuns: 60 },
    );
  });

  it('everything freed coalesces back to the initial free block counts after drainPcp (property)', () => {
    fc.assert(
      fc.property(
        fc.array(fc.tuple(fc.integer({ min: 0, max: 4 }), fc.constantFrom<ZoneType>('DMA', 'DMA32', 'NORMAL')), { minLength: 1, maxLength: 400 }),
        fc.nat(),
        (allocs, rotate) => {
          // small zones so that allocations reach every zone and fall back between them
          const pages = new PageAllocator([{ base: 0, size: 16 * MiB }, { base: 32 * MiB, size: 8 * MiB }], {
            dmaZoneEnd: 4 * MiB,
            dma32ZoneEnd: 12 * MiB,
            pcpBatch: 7,
            pcpHigh: 20,
          });
          const initial = pages.stats();
          const held: [number, number][] = [];
          for (const [order, zone] of allocs) {
            const a = pages.allocPages(order, gfpOf[zone]);
            if (a !== null) held.push([a, order]);
          }
          // free in a rotated order so merges happen in many different sequences
          const k = rotate % held.length || 0;
          for (const [a, o] of [...held.slice(k), ...held.slice(0, k)]) expect(pages.freePages(a, o)).toBe(true);
          pages.drainPcp();
          expect(pages.stats()).toEqual(initial);
          expect(pages.allocatedBlocks).toBe(0);
        },
      ),
      { numRuns: 100 },
    );
  });

  it('the same sequence of calls gives the same addresses (deterministic placement)', () => {
    const run = () => {
      const pages = pi4Like();
      const out: (number | null)[] = [];
      for (let i = 0; i < 50; i++) out.push(pages.allocPages(i % 4, i % 3 === 0 ? GFP_DMA : GFP_KERNEL));
      return out;
    };
    expect(run()).toEqual(run());
  });
});

describe('PageAllocator: zones and fallback', () => {
  it('GFP_DMA stays below the 1 GiB ZONE_DMA limit and GFP_DMA32 below 4 GiB', () => {
    const pages = pi4Like();
    for (let i = 0; i < 300; i++) {
      const dma = pages.allocPages(10, GFP_DMA);
      if (dma !== null) expect(dma + blockBytes(10)).toBeLessThanOrEqual(1 * GiB);
      const dma32 = pages.allocPages(10, GFP_DMA32)!;
      expect(dma32 + blockBytes(10)).toBeLessThanOrEqual(4 * GiB);
    }
    expect(pages.zoneOf(0x3fff_f000)).toBe('DMA');
    expect(pages.zoneOf(0x4000_0000)).toBe('DMA32');
    expect(pages.zoneOf(4 * GiB)).toBe('NORMAL');
  });

  it('GFP_KERNEL prefers NORMAL, then falls back to DMA32, then DMA, then returns null', () => {
    const pages = pi4Like();
    const perZone = (z: ZoneType) => pages.stats().find((s) => s.name === z)!.managedPages / 2 ** 10;
    expect([perZone('DMA'), perZone('DMA32'), perZone('NORMAL')]).toEqual([256, 768, 256]);
    const zonesSeen: ZoneType[] = [];
    for (;;) {
      const a = pages.allocPages(10, GFP_KERNEL);
      if (a === null) break;
      const z = pages.zoneOf(a);
      if (zonesSeen[zonesSeen.length - 1] !== z) zonesSeen.push(z);
    }
    expect(zonesSeen).toEqual(['NORMAL', 'DMA32', 'DMA']);
    expect(pages.freePagesTotal).toBe(0);
    expect(pages.allocPages(0, GFP_KERNEL)).toBeNull();
    expect(pages.allocPages(0, GFP_DMA)).toBeNull();
  });

  it('GFP_DMA32 never takes NORMAL memory: it fails when DMA32 and DMA are used up', () => {
    const pages = pi4Like();
    let n = 0;
    while (pages.allocPages(10, GFP_DMA32) !== null) n++;
    expect(n).toBe(768 + 256);
    expect(pages.stats().find((s) => s.name === 'NORMAL')!.freePages).toBe(256 * 1024);
    expect(pages.allocPages(0, GFP_DMA)).toBeNull();
    expect(pages.allocPages(0, GFP_KERNEL)).not.toBeNull();
  });

  it('a large block freed as single pages is usable again at a high order', () => {
    const pages = new PageAllocator([{ base: 0, size: 4 * MiB }]);
    const singles: number[] = [];
    for (;;) {
      const a = pages.allocPages(0);
      if (a === null) break;
      singles.push(a);
    }
    expect(singles).toHaveLength(1024);
    for (const a of singles) pages.freePages(a, 0);
    // some of these pages may still sit on the per-CPU list: the allocator drains it before failing
    expect(pages.allocPages(10)).toBe(0);
  });

  it('rejects orders out of range', () => {
    const pages = pi4Like();
    expect(pages.allocPages(MAX_PAGE_ORDER + 1)).toBeNull();
    expect(pages.allocPages(-1)).toBeNull();
  });
});

describe('PageAllocator: frees and reserved memory', () => {
  it('a double free, a wrong order or an unknown address returns false and changes nothing', () => {
    const pages = pi4Like();
    const a = pages.allocPages(2)!;
    const before = pages.freePagesTotal;
    expect(pages.freePages(a, 1)).toBe(false);
    expect(pages.freePages(a + PAGE_SIZE, 0)).toBe(false);
    expect(pages.freePagesTotal).toBe(before);
    expect(pages.freePages(a, 2)).toBe(true);
    expect(pages.freePages(a, 2)).toBe(false);
    expect(pages.freePagesTotal).toBe(before + 4);
  });

  it('reserved ranges (rounded out to pages) are never handed out, even when memory runs out', () => {
    const reserved = [
      { base: 0x10_0800, size: 0x2000 }, // unaligned: pages 0x100..0x102 are reserved
      { base: 3 * MiB, size: 1 * MiB },
    ];
    const pages = new PageAllocator([{ base: 0, size: 8 * MiB }], { reserved });
    const got: number[] = [];
    for (const order of [3, 0, 1, 0]) {
      for (;;) {
        const a = pages.allocPages(order);
        if (a === null) break;
        got.push(a);
        for (const r of [{ base: 0x10_0000, size: 0x3000 }, reserved[1]!]) {
          expect(a + blockBytes(order) <= r.base || a >= r.base + r.size).toBe(true);
        }
      }
    }
    expect(pages.freePagesTotal).toBe(0);
    const managed = pages.stats().reduce((n, z) => n + z.managedPages, 0);
    expect(managed).toBe((8 * MiB - 1 * MiB) / PAGE_SIZE - 3);
  });

  it('allocPagesExact keeps exactly the pages asked for and frees the tail', () => {
    const pages = new PageAllocator([{ base: 0, size: 1 * MiB }]);
    const total = pages.freePagesTotal;
    const a = pages.allocPagesExact(5 * PAGE_SIZE - 100)!;
    expect(a % (8 * PAGE_SIZE)).toBe(0);
    expect(pages.freePagesTotal).toBe(total - 5);
    for (let i = 0; i < 5; i++) expect(pages.allocatedOrder(a + i * PAGE_SIZE)).toBe(0);
    expect(pages.allocatedOrder(a + 5 * PAGE_SIZE)).toBeUndefined();
    // the freed tail pages are handed out again
    const tail = new Set([5, 6, 7].map((i) => a + i * PAGE_SIZE));
    const next = [pages.allocPages(0)!, pages.allocPages(0)!, pages.allocPages(0)!];
    expect(next.every((p) => tail.has(p))).toBe(true);
    for (const p of next) pages.freePages(p, 0);
    pages.freePagesExact(a, 5 * PAGE_SIZE - 100);
    pages.drainPcp();
    expect(pages.freePagesTotal).toBe(total);
    expect(pages.stats()[0]!.freeBlocks[MAX_PAGE_ORDER]).toBe(0);
    expect(pages.allocPages(8)).toBe(0);
  });

  it('allocPagesExact of nothing, or of more than the largest order, returns null', () => {
    const pages = new PageAllocator([{ base: 0, size: 64 * MiB }]);
    const total = pages.freePagesTotal;
    expect(pages.allocPagesExact(0)).toBeNull();
    expect(pages.allocPagesExact(blockBytes(MAX_PAGE_ORDER) + 1)).toBeNull();
    expect(pages.freePagesTotal).toBe(total);
    expect(pages.allocPagesExact(blockBytes(MAX_PAGE_ORDER))).not.toBeNull();
  });
});

describe('PageAllocator: bulk top-order allocation', () => {
  it('allocTopBlocks hands out what repeated allocPages(MAX_PAGE_ORDER) would, and leaves the same state (property)', () => {
    const zoneArb = fc.constantFrom<ZoneType>('DMA', 'DMA32', 'NORMAL');
    const opArb = fc.oneof(
      fc.record({ kind: fc.constant('alloc' as const), order: fc.integer({ min: 0, max: MAX_PAGE_ORDER }), zone: zoneArb }),
      fc.record({ kind: fc.constant('free' as const), pick: fc.nat() }),
    );
    fc.assert(
      fc.property(fc.array(opArb, { maxLength: 60 }), zoneArb, fc.integer({ min: 0, max: 6 * GiB }), (ops, zone, stopAbove) => {
        const make = () => new PageAllocator([{ base: 0, size: 1 * GiB + 64 * MiB }, { base: 4 * GiB - 32 * MiB, size: 96 * MiB }], { dmaZoneEnd: 512 * MiB, reserved: [{ base: 0x100_0000, size: 0x3000 }] });
        const bulk = make();
        const loop = make();
        const live: [number, number][] = [];
        for (const op of ops) {
          if (op.kind === 'alloc') {
            const a = bulk.allocPages(op.order, gfpOf[op.zone]);
            expect(loop.allocPages(op.order, gfpOf[op.zone])).toBe(a);
            if (a !== null) live.push([a, op.order]);
          } else if (live.length > 0) {
            const [a, o] = live.splice(op.pick % live.length, 1)[0]!;
            bulk.freePages(a, o);
            loop.freePages(a, o);
          }
        }
        const got = bulk.allocTopBlocks(gfpOf[zone], stopAbove);
        const want: number[] = [];
        for (;;) {
          const a = loop.allocPages(MAX_PAGE_ORDER, gfpOf[zone]);
          if (a === null) break;
          want.push(a);
          if (a + blockBytes(MAX_PAGE_ORDER) - 1 > stopAbove) break;
        }
        expect(got).toEqual(want);
        expect(bulk.stats()).toEqual(loop.stats());
        // give half back and check the next allocations agree too
        for (const a of got.filter((_, i) => i % 2 === 0)) expect(bulk.freePages(a, MAX_PAGE_ORDER)).toBe(loop.freePages(a, MAX_PAGE_ORDER));
        for (let i = 0; i < 8; i++) expect(bulk.allocPages(i % 3 === 0 ? MAX_PAGE_ORDER : i, gfpOf[zone])).toBe(loop.allocPages(i % 3 === 0 ? MAX_PAGE_ORDER : i, gfpOf[zone]));
        expect(bulk.stats()).toEqual(loop.stats());
      }),
      { numRuns: 150 },
    );
  });
});
