import { GiB, KiB, MiB, PAGE_SIZE, createCoreServices, createMachineContainer, register as registerCore } from '@dmasim/core';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { DMA_ATTR_NO_WARN, DMA_MAPPING_ERROR, IO_TLB_SEGSIZE, IO_TLB_SIZE } from './constants';
import { register, resolveSwiotlb } from './di';
import { IoTlbPool } from './pool';
import { Swiotlb } from './swiotlb';
import { lines, machine, pattern, vc4 } from './test-helpers';

const FRAME_A = 0x5000_0000; // buffers rendered by v3d, above the vc4's 1 GiB window
const FRAME_B = 0x6000_0000;

/** Fills the default pool with 128 KiB mappings until `slots` slots are used. */
function occupy(swiotlb: Swiotlb, slots: number): number[] {
  const out: number[] = [];
  for (let used = 0; used < slots; used += 64) out.push(swiotlb.swiotlbTblMapSingle(vc4(), 0x7000_0000, 128 * KiB, 0, 'to-device'));
  return out;
}

describe('Raspberry Pi 4: vc4 imports v3d frames through swiotlb (seed 004)', () => {
  it('fixed pool only: both frames fail with the kernel messages', () => {
    const { core, swiotlb } = machine({ dynamic: false });
    occupy(swiotlb, 3136);
    expect(swiotlb.swiotlbTblMapSingle(vc4(), FRAME_A, 524288, 0, 'to-device')).toBe(DMA_MAPPING_ERROR);
    const { core: core2, swiotlb: s2 } = machine({ dynamic: false });
    s2.swiotlbTblMapSingle(vc4(), 0x7000_0000, 4096, 0, 'to-device');
    expect(s2.swiotlbTblMapSingle(vc4(), FRAME_B, 815104, 0, 'to-device')).toBe(DMA_MAPPING_ERROR);
    expect(lines(core)).toContain('vc4-drm gpu: swiotlb buffer is full (sz: 524288 bytes), total 32768 (slots), used 3136 (slots)');
    expect(lines(core2)).toContain('vc4-drm gpu: swiotlb buffer is full (sz: 815104 bytes), total 32768 (slots), used 2 (slots)');
  });

  it('per-buffer, fixed-first: with the pool partly used, both frames map below 1 GiB and carry their bytes', () => {
    const { core, swiotlb } = machine({ dynamic: 'per-buffer', perBufferOrder: 'fixed-first' });
    occupy(swiotlb, 3136);
    const a = pattern(524288, 1);
    const b = pattern(815104, 2);
    core.memory.write(FRAME_A, a);
    core.memory.write(FRAME_B, b);
    const ta = swiotlb.swiotlbTblMapSingle(vc4(), FRAME_A, a.length, 0, 'to-device');
    const tb = swiotlb.swiotlbTblMapSingle(vc4(), FRAME_B, b.length, 0, 'to-device');
    expect(ta).not.toBe(DMA_MAPPING_ERROR);
    expect(tb).not.toBe(DMA_MAPPING_ERROR);
    expect(tb + b.length - 1).toBeLessThan(GiB);
    expect(core.memory.compare(ta, a)).toBe(-1);
    expect(core.memory.compare(tb, b)).toBe(-1);
    expect(lines(core).some((l) => l.includes('swiotlb buffer is full'))).toBe(false);
    for (const off of [0, 4096, b.length - 1]) expect(swiotlb.isSwiotlbBuffer(vc4(), tb + off)).toBe(true);
    expect(swiotlb.swiotlbFindPool(vc4(), tb)).toBeNull();
    expect(swiotlb.stats()).toMatchObject({ dynamicBuffers: 2, dynamicLive: 2, usedSlots: 3136 });
    const freeBefore = core.pages.freePagesTotal;
    swiotlb.swiotlbTblUnmapSingle(vc4(), ta, a.length, 'to-device');
    swiotlb.swiotlbTblUnmapSingle(vc4(), tb, b.length, 'to-device');
    expect(swiotlb.isSwiotlbBuffer(vc4(), tb)).toBe(false);
    expect(core.pages.freePagesTotal).toBe(freeBefore + 128 + 199);
    expect(swiotlb.stats()).toMatchObject({ dynamicBuffers: 2, dynamicLive: 0, dynamicBytes: 0 });
  });

  it('per-buffer: a device write comes back to the original on unmap', () => {
    const { core, swiotlb } = machine({ dynamic: 'per-buffer' });
    const tlb = swiotlb.swiotlbTblMapSingle(vc4(), FRAME_A, 524288, 0, 'from-device');
    const data = pattern(524288, 3);
    core.cache.deviceWrite(tlb, data, false);
    swiotlb.swiotlbTblUnmapSingle(vc4(), tlb, 524288, 'from-device');
    expect(core.memory.compare(FRAME_A, data)).toBe(-1);
  });

  it('per-buffer: small and alignment-constrained buffers still use the fixed pool, and fail when it is full', () => {
    const { core, swiotlb } = machine({ dynamic: 'per-buffer', size: MiB });
    const small = swiotlb.swiotlbTblMapSingle(vc4(), FRAME_A, 1000, 0, 'to-device');
    const aligned = swiotlb.swiotlbTblMapSingle(vc4(0xfff), FRAME_A, 64 * KiB, 0, 'to-device');
    expect(swiotlb.swiotlbFindPool(vc4(), small)).not.toBeNull();
    expect(swiotlb.swiotlbFindPool(vc4(), aligned)).not.toBeNull();
    while (swiotlb.swiotlbTblMapSingle(vc4(), FRAME_B, 2048, 0, 'to-device', DMA_ATTR_NO_WARN) !== DMA_MAPPING_ERROR);
    expect(swiotlb.stats()).toMatchObject({ dynamicBuffers: 0, usedSlots: 512 });
    expect(swiotlb.swiotlbTblMapSingle(vc4(), FRAME_A, 1000, 0, 'to-device')).toBe(DMA_MAPPING_ERROR);
    expect(swiotlb.swiotlbTblMapSingle(vc4(0xfff), FRAME_A, 64 * KiB, 0, 'to-device')).toBe(DMA_MAPPING_ERROR);
    expect(swiotlb.swiotlbTblMapSingle(vc4(), FRAME_A, 64 * KiB, PAGE_SIZE - 1, 'to-device')).toBe(DMA_MAPPING_ERROR);
    expect(lines(core).filter((l) => l.includes('swiotlb buffer is full'))).toHaveLength(3);
    // an unconstrained page-sized buffer falls back to a dynamic one
    expect(swiotlb.swiotlbTblMapSingle(vc4(), FRAME_A, 64 * KiB, 0, 'to-device')).not.toBe(DMA_MAPPING_ERROR);
    expect(swiotlb.stats().dynamicBuffers).toBe(1);
  });

  it('per-buffer, dynamic-first (the RFC as posted, the default): page-sized buffers skip the pool', () => {
    const { swiotlb } = machine({ dynamic: 'per-buffer', size: MiB });
    const t = swiotlb.swiotlbTblMapSingle(vc4(), FRAME_A, 8192, 0, 'to-device');
    expect(swiotlb.swiotlbFindPool(vc4(), t)).toBeNull();
    expect(swiotlb.isSwiotlbBuffer(vc4(), t)).toBe(true);
    const s = swiotlb.swiotlbTblMapSingle(vc4(), FRAME_A, 2048, 0, 'to-device');
    expect(swiotlb.swiotlbFindPool(vc4(), s)).not.toBeNull();
  });

  it('growing (as merged): big frames still fail, pool exhaustion is solved by transient and grown pools', () => {
    const { core, swiotlb } = machine({ dynamic: 'growing', size: MiB });
    const dev = vc4(); // transient pools belong to this device object
    expect(swiotlb.swiotlbTblMapSingle(dev, FRAME_A, 524288, 0, 'to-device')).toBe(DMA_MAPPING_ERROR);
    expect(lines(core)).toContain('vc4-drm gpu: swiotlb buffer is full (sz: 524288 bytes), total 512 (slots), used 0 (slots)');
    occupy(swiotlb, 512);
    const data = pattern(64 * KiB, 4);
    core.memory.write(FRAME_B, data);
    const t = swiotlb.swiotlbTblMapSingle(dev, FRAME_B, data.length, 0, 'to-device');
    expect(swiotlb.isSwiotlbBuffer(dev, t)).toBe(true);
    expect(swiotlb.isSwiotlbBuffer(vc4(), t)).toBe(false); // another device does not see it
    expect(t).not.toBe(DMA_MAPPING_ERROR);
    expect(t).toBeLessThan(GiB);
    expect(core.memory.compare(t, data)).toBe(-1);
    const st = swiotlb.stats();
    expect(st.transientSlots).toBe(32);
    expect(st.grownPools).toBe(1);
    expect(st.totalSlots).toBe(512 + 512); // the grown pool is default_nslabs, capped at 4 MiB
    swiotlb.swiotlbTblUnmapSingle(dev, t, data.length, 'to-device');
    expect(swiotlb.stats().transientSlots).toBe(0);
    expect(swiotlb.isSwiotlbBuffer(dev, t)).toBe(false);
    // the next mapping lands in the grown pool
    const g = swiotlb.swiotlbTblMapSingle(vc4(), FRAME_B, 4096, 0, 'to-device');
    expect(swiotlb.swiotlbFindPool(vc4(), g)?.kind).toBe('grown');
  });

  it('isSwiotlbBuffer stays exact with thousands of dynamic buffers', () => {
    const { swiotlb } = machine({ dynamic: 'per-buffer', perBufferOrder: 'dynamic-first', size: MiB });
    const maps: number[] = [];
    for (let i = 0; i < 2000; i++) maps.push(swiotlb.swiotlbTblMapSingle(vc4(), FRAME_A, 3 * PAGE_SIZE, 0, 'to-device'));
    expect(new Set(maps).size).toBe(2000);
    for (const m of maps.slice(0, 50)) {
      expect(swiotlb.isSwiotlbBuffer(vc4(), m + 3 * PAGE_SIZE - 1)).toBe(true);
    }
    for (let i = 0; i < 2000; i += 2) swiotlb.swiotlbTblUnmapSingle(vc4(), maps[i]!, 3 * PAGE_SIZE, 'to-device');
    expect(maps.filter((m) => swiotlb.isSwiotlbBuffer(vc4(), m)).length).toBe(1000);
  });
});

describe('restricted DMA pools', () => {
  function withPool() {
    const core = createCoreServices({ memory: [{ base: 0, size: 2 * GiB }], pages: { dmaZoneEnd: GiB, reserved: [{ base: 0x4000_0000, size: 4 * MiB }] } });
    const swiotlb = new Swiotlb({ memory: core.memory, pages: core.pages, log: core.log, cache: core.cache }, { size: MiB, dynamic: 'per-buffer' });
    expect(swiotlb.rmemSwiotlbSetup({ name: 'restricted@40000000', base: 0x4000_0000, size: 4 * MiB })).toBe(0);
    return { core, swiotlb };
  }

  it('serves a device\'s mappings and allocations from the reserved region, and never dynamically', () => {
    const { core, swiotlb } = withPool();
    const dev = { name: 'wifi', driverName: 'ath10k', dma: { minAlignMask: 0 } };
    expect(swiotlb.rmemSwiotlbDeviceInit('restricted@40000000', dev)).toBe(0);
    expect(lines(core)).toContain('Reserved memory: created restricted DMA pool at 0x0000000040000000, size 4 MiB');
    expect(swiotlb.isSwiotlbForceBounce(dev)).toBe(true);
    const t = swiotlb.swiotlbTblMapSingle(dev, 0x100000, 8192, 0, 'to-device');
    expect(t).toBeGreaterThanOrEqual(0x4000_0000);
    const a = swiotlb.swiotlbAlloc(dev, 3 * PAGE_SIZE)!;
    expect(a).toBeGreaterThanOrEqual(0x4000_0000);
    expect(a % (4 * PAGE_SIZE)).toBe(0);
    // a mapping the pool cannot take fails: no dynamic fallback for restricted pools
    expect(swiotlb.swiotlbTblMapSingle(dev, 0x100000, 300 * KiB, 0, 'to-device')).toBe(DMA_MAPPING_ERROR);
    expect(swiotlb.stats(dev).dynamicBuffers).toBe(0);
    expect(swiotlb.swiotlbFree(dev, a, 3 * PAGE_SIZE)).toBe(true);
    expect(swiotlb.swiotlbFree(dev, 0x100000, PAGE_SIZE)).toBe(false);
    expect(swiotlb.stats(dev).usedSlots).toBe(4);
    // the default pool does not know the restricted buffers
    expect(swiotlb.isSwiotlbBuffer(vc4(), t)).toBe(false);
    expect(swiotlb.isSwiotlbBuffer(dev, t)).toBe(true);
    swiotlb.rmemSwiotlbDeviceRelease(dev);
    expect(swiotlb.isSwiotlbForceBounce(dev)).toBe(false);
  });

  it('is shared by later devices and refuses disqualified nodes', () => {
    const { swiotlb } = withPool();
    const d1 = { name: 'a', dma: { minAlignMask: 0 } };
    const d2 = { name: 'b', dma: { minAlignMask: 0 } };
    swiotlb.rmemSwiotlbDeviceInit('restricted@40000000', d1);
    swiotlb.rmemSwiotlbDeviceInit('restricted@40000000', d2);
    expect(swiotlb.memOf(d1)).toBe(swiotlb.memOf(d2));
    expect(swiotlb.rmemSwiotlbSetup({ name: 'bad', base: 0x4000_0000, size: MiB, properties: ['no-map'] })).toBeLessThan(0);
  });
});

describe('register', () => {
  it('builds the swiotlb from the container\'s core services', () => {
    const c = createMachineContainer();
    registerCore(c, { memory: [{ base: 0, size: GiB }] });
    const s = register(c, { size: 2 * MiB, dynamic: 'per-buffer' });
    expect(resolveSwiotlb(c)).toBe(s);
    expect(s.stats().totalSlots).toBe(1024);
  });
});

describe('slot allocator properties', () => {
  type Op = { kind: 'map'; size: number; align: number; minAlign: number; origOff: number } | { kind: 'unmap'; pick: number };
  const op: fc.Arbitrary<Op> = fc.oneof(
    fc.record({
      kind: fc.constant('map' as const),
      size: fc.integer({ min: 1, max: 64 * KiB }),
      align: fc.constantFrom(0, 0, 0xfff, 0x3fff),
      minAlign: fc.constantFrom(0, 0, 0x7ff, 0xfff, 0x3fff),
      origOff: fc.integer({ min: 0, max: 0xffff }),
    }),
    fc.record({ kind: fc.constant('unmap' as const), pick: fc.nat() }),
  );

  it('never overlaps, honours every alignment, keeps to segments, and frees to the initial state', () => {
    const { swiotlb } = machine({ size: MiB, nareas: 2, verbose: false });
    const pool = swiotlb.defaultMem!.defpool;
    const fresh = new IoTlbPool(pool.start, pool.nslabs, pool.nareas, 'default');
    fc.assert(
      fc.property(fc.array(op, { maxLength: 80 }), (ops) => {
        const live: { tlb: number; size: number; dev: ReturnType<typeof vc4>; first: number; last: number }[] = [];
        for (const o of ops) {
          if (o.kind === 'unmap') {
            if (live.length === 0) continue;
            const [m] = live.splice(o.pick % live.length, 1);
            expect(swiotlb.swiotlbTblUnmapSingle(m!.dev, m!.tlb, m!.size, 'to-device')).toBe(true);
            continue;
          }
          const dev = vc4(o.minAlign);
          const orig = 0x5000_0000 + o.origOff;
          const tlb = swiotlb.swiotlbTblMapSingle(dev, orig, o.size, o.align, 'to-device', 1 << 8);
          if (tlb === DMA_MAPPING_ERROR) continue;
          if (o.minAlign !== 0) expect(tlb % (o.minAlign + 1)).toBe(orig % (o.minAlign + 1));
          const keep = o.minAlign === 0 ? 0 : orig % (o.minAlign + 1) % (Math.max(o.align, IO_TLB_SIZE - 1) + 1);
          const start = tlb - keep;
          if (o.align !== 0) expect(start % (o.align + 1)).toBe(0);
          else if (o.minAlign === 0 && o.size >= PAGE_SIZE) expect(start % PAGE_SIZE).toBe(0);
          const first = pool.slotIndexOf(tlb) - pool.padSlots[pool.slotIndexOf(tlb)]!;
          const last = pool.slotIndexOf(tlb + o.size - 1);
          expect(Math.floor(first / IO_TLB_SEGSIZE)).toBe(Math.floor(last / IO_TLB_SEGSIZE));
          for (const m of live) expect(last < m.first || first > m.last).toBe(true);
          live.push({ tlb, size: o.size, dev, first, last });
        }
        for (const m of live.splice(0)) swiotlb.swiotlbTblUnmapSingle(m.dev, m.tlb, m.size, 'to-device');
        expect(swiotlb.stats().usedSlots).toBe(0);
        expect(Array.from(pool.list)).toEqual(Array.from(fresh.list));
        expect(pool.origAddr.every((a) => a === -1)).toBe(true);
      }),
      { numRuns: 150, seed: 42 },
    );
  });
});
