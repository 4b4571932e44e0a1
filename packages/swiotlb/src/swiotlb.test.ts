import { GiB, KiB, MiB, PAGE_SIZE } from '@dmasim/core';
import { describe, expect, it } from 'vitest';
import {
  DMA_ATTR_NO_WARN,
  DMA_ATTR_SKIP_CPU_SYNC,
  DMA_MAPPING_ERROR,
  IO_TLB_DEFAULT_NSLABS,
  IO_TLB_SIZE,
} from './constants';
import type { DmaDataDirection } from './constants';
import { Swiotlb } from './swiotlb';
import { lines, machine, pattern, vc4 } from './test-helpers';

const HIGH = 0x5000_0000; // 1.25 GiB: beyond the vc4's window

describe('default pool', () => {
  it('is 64 MiB of 2 KiB slots in low memory and says where it is', () => {
    const { core, swiotlb } = machine();
    const mem = swiotlb.defaultMem!;
    expect(mem.nslabs).toBe(IO_TLB_DEFAULT_NSLABS);
    expect(mem.defpool.end - mem.defpool.start).toBe(64 * MiB);
    expect(mem.defpool.end).toBeLessThanOrEqual(GiB);
    expect(lines(core)[0]).toMatch(/^software IO TLB: mapped \[mem 0x[0-9a-f]{16}-0x[0-9a-f]{16}\] \(64MB\)$/);
  });

  it('prints the exclusive end of the pool, as the kernel does', () => {
    const { core, swiotlb } = machine();
    const pool = swiotlb.defaultMem!.defpool;
    expect(lines(core)).toContain(`software IO TLB: mapped [mem 0x${pool.start.toString(16).padStart(16, '0')}-0x${pool.end.toString(16).padStart(16, '0')}] (64MB)`);
  });

  it('one area per CPU, rounded to a power of two, announced before the banner', () => {
    const { core, swiotlb } = machine({ nareas: 6 });
    expect(swiotlb.defaultMem!.defpool.nareas).toBe(8);
    expect(lines(core)[0]).toBe('software IO TLB: area num 8.');
    expect(lines(core)[1]).toMatch(/mapped .* \(64MB\)$/);
  });

  it('arm64 small pool: adjusted to 1 MB per GB, then rounded up to a power of two for the areas', () => {
    // 3.75 GiB of RAM and 4 CPUs: 3840 KiB asked, 1920 slots, rounded to 2048 (4 MB)
    const { core, swiotlb } = machine({ adjustSize: (3.75 * GiB) / 1024, nareas: 4 });
    expect(lines(core).slice(0, 3)).toEqual([
      'software IO TLB: SWIOTLB bounce buffer size adjusted to 3MB',
      'software IO TLB: area num 4.',
      'software IO TLB: SWIOTLB bounce buffer size roundup to 4MB',
    ]);
    expect(swiotlb.defaultMem!.nslabs).toBe(2048);
    expect(lines(core)[3]).toMatch(/\(4MB\)$/);
  });

  it('a swiotlb= size wins over the arch adjustment', () => {
    const { core, swiotlb } = machine({ size: 16 * MiB, adjustSize: MiB });
    expect(swiotlb.defaultMem!.nslabs).toBe((16 * MiB) / IO_TLB_SIZE);
    expect(lines(core).some((l) => l.includes('adjusted'))).toBe(false);
  });

  it('can sit at a given physical address', () => {
    const { swiotlb } = machine({ base: 0x3000_0000, size: 4 * MiB });
    expect(swiotlb.defaultMem!.defpool.start).toBe(0x3000_0000);
    expect(swiotlb.defaultMem!.nslabs).toBe(2048);
  });

  it('max mapping size is one segment, less the min_align_mask padding', () => {
    const { swiotlb } = machine({ size: MiB });
    expect(swiotlb.swiotlbMaxMappingSize(vc4())).toBe(256 * KiB);
    expect(swiotlb.swiotlbMaxMappingSize(vc4(0xfff))).toBe(256 * KiB - 4096);
  });

  it('without memory every mapping fails with the kernel message', () => {
    const { core, swiotlb } = machine({ size: 0 });
    expect(swiotlb.swiotlbTblMapSingle(vc4(), HIGH, 4096, 0, 'to-device')).toBe(DMA_MAPPING_ERROR);
    expect(lines(core)).toContain("vc4-drm gpu: Can not allocate SWIOTLB buffer earlier and can't now provide you with the DMA bounce buffer");
  });
});

/**
 * A device's side of a transfer through the bounce buffer. Coherent devices snoop the CPU cache;
 * non-coherent ones need dma-direct's maintenance of the slot: clean after swiotlb filled it,
 * invalidate before swiotlb copies out of it.
 */
function deviceSide(coherent: boolean, core: ReturnType<typeof machine>['core']) {
  return {
    afterMapOrSyncForDevice(tlb: number, len: number) {
      if (!coherent) core.cache.clean(tlb, len);
    },
    beforeUnmapOrSyncForCpu(tlb: number, len: number) {
      if (!coherent) core.cache.invalidate(tlb, len);
    },
    read(tlb: number, len: number): Uint8Array {
      const out = new Uint8Array(len);
      core.cache.deviceRead(tlb, out, coherent);
      return out;
    },
    write(tlb: number, data: Uint8Array) {
      core.cache.deviceWrite(tlb, data, coherent);
    },
  };
}

describe.each([
  ['coherent', true],
  ['non-coherent', false],
])('data integrity through bounce buffers (%s device)', (_name, coherent) => {
  const len = 3 * PAGE_SIZE + 100;

  it.each<DmaDataDirection>(['to-device', 'bidirectional'])('%s: the device reads what the CPU wrote (still dirty in its cache)', (dir) => {
    const { core, swiotlb } = machine({ size: 4 * MiB });
    const dev = deviceSide(coherent, core);
    const data = pattern(len, 1);
    core.cache.cpuWrite(HIGH, data, 'cacheable');
    const tlb = swiotlb.swiotlbTblMapSingle(vc4(), HIGH, len, 0, dir);
    expect(tlb).toBeLessThan(GiB);
    dev.afterMapOrSyncForDevice(tlb, len);
    expect(dev.read(tlb, len)).toEqual(data);
    swiotlb.swiotlbTblUnmapSingle(vc4(), tlb, len, dir);
  });

  it.each<DmaDataDirection>(['from-device', 'bidirectional'])('%s: the CPU reads what the device wrote after unmap', (dir) => {
    const { core, swiotlb } = machine({ size: 4 * MiB });
    const dev = deviceSide(coherent, core);
    const before = new Uint8Array(len);
    core.cache.cpuRead(HIGH, before, 'cacheable'); // the CPU holds clean lines of the buffer
    const tlb = swiotlb.swiotlbTblMapSingle(vc4(), HIGH, len, 0, dir);
    dev.afterMapOrSyncForDevice(tlb, len);
    const data = pattern(len, 2);
    dev.write(tlb, data);
    dev.beforeUnmapOrSyncForCpu(tlb, len);
    swiotlb.swiotlbTblUnmapSingle(vc4(), tlb, len, dir);
    const seen = new Uint8Array(len);
    core.cache.cpuRead(HIGH, seen, 'cacheable');
    expect(seen).toEqual(data);
  });

  it('to-device: unmap copies nothing back', () => {
    const { core, swiotlb } = machine({ size: 4 * MiB });
    const dev = deviceSide(coherent, core);
    const data = pattern(len, 3);
    core.memory.write(HIGH, data);
    const tlb = swiotlb.swiotlbTblMapSingle(vc4(), HIGH, len, 0, 'to-device');
    dev.write(tlb, pattern(len, 4)); // a misbehaving device writes a read-only buffer
    swiotlb.swiotlbTblUnmapSingle(vc4(), tlb, len, 'to-device');
    expect(core.memory.readBytes(HIGH, len)).toEqual(data);
  });

  it('from-device: a partial device write leaves the rest of the original intact', () => {
    const { core, swiotlb } = machine({ size: 4 * MiB });
    const dev = deviceSide(coherent, core);
    const orig = pattern(len, 5);
    core.memory.write(HIGH, orig);
    const tlb = swiotlb.swiotlbTblMapSingle(vc4(), HIGH, len, 0, 'from-device');
    const part = pattern(100, 6);
    dev.write(tlb + 200, part);
    dev.beforeUnmapOrSyncForCpu(tlb, len);
    swiotlb.swiotlbTblUnmapSingle(vc4(), tlb, len, 'from-device');
    const expected = orig.slice();
    expected.set(part, 200);
    expect(core.memory.readBytes(HIGH, len)).toEqual(expected);
  });

  it('syncs move data while the mapping lives, and partial syncs move only their range', () => {
    const { core, swiotlb } = machine({ size: 4 * MiB });
    const dev = deviceSide(coherent, core);
    const tlb = swiotlb.swiotlbTblMapSingle(vc4(), HIGH, len, 0, 'bidirectional');
    // device → CPU
    const first = pattern(len, 7);
    dev.write(tlb, first);
    dev.beforeUnmapOrSyncForCpu(tlb, len);
    swiotlb.swiotlbSyncSingleForCpu(vc4(), tlb, len, 'bidirectional');
    const seen = new Uint8Array(len);
    core.cache.cpuRead(HIGH, seen, 'cacheable');
    expect(seen).toEqual(first);
    // CPU → device, only a sub-range synced
    const upd = pattern(512, 8);
    core.cache.cpuWrite(HIGH + 4096, upd, 'cacheable');
    core.cache.cpuWrite(HIGH, pattern(16, 9), 'cacheable'); // outside the synced range
    swiotlb.swiotlbSyncSingleForDevice(vc4(), tlb + 4096, 512, 'bidirectional');
    dev.afterMapOrSyncForDevice(tlb + 4096, 512);
    const onDevice = dev.read(tlb, len);
    expect(onDevice.subarray(4096, 4096 + 512)).toEqual(upd);
    expect(onDevice.subarray(0, 16)).toEqual(first.subarray(0, 16));
    swiotlb.swiotlbTblUnmapSingle(vc4(), tlb, len, 'bidirectional', DMA_ATTR_SKIP_CPU_SYNC);
  });

  it('direction rules: for-cpu sync of to-device and for-device sync of from-device copy nothing', () => {
    const { core, swiotlb } = machine({ size: 4 * MiB });
    const dev = deviceSide(coherent, core);
    const orig = pattern(len, 10);
    core.memory.write(HIGH, orig);
    const t1 = swiotlb.swiotlbTblMapSingle(vc4(), HIGH, len, 0, 'to-device');
    dev.write(t1, pattern(len, 11));
    dev.beforeUnmapOrSyncForCpu(t1, len);
    swiotlb.swiotlbSyncSingleForCpu(vc4(), t1, len, 'to-device');
    expect(core.memory.readBytes(HIGH, len)).toEqual(orig);
    swiotlb.swiotlbTblUnmapSingle(vc4(), t1, len, 'to-device');

    const t2 = swiotlb.swiotlbTblMapSingle(vc4(), HIGH, len, 0, 'from-device');
    const fromDev = pattern(len, 12);
    dev.write(t2, fromDev);
    core.memory.write(HIGH, pattern(len, 13));
    swiotlb.swiotlbSyncSingleForDevice(vc4(), t2, len, 'from-device');
    expect(dev.read(t2, len)).toEqual(fromDev);
    dev.beforeUnmapOrSyncForCpu(t2, len);
    swiotlb.swiotlbTblUnmapSingle(vc4(), t2, len, 'from-device');
    expect(core.memory.readBytes(HIGH, len)).toEqual(fromDev);
  });

  it('SKIP_CPU_SYNC on unmap leaves the original untouched', () => {
    const { core, swiotlb } = machine({ size: 4 * MiB });
    const dev = deviceSide(coherent, core);
    const orig = pattern(len, 14);
    core.memory.write(HIGH, orig);
    const tlb = swiotlb.swiotlbTblMapSingle(vc4(), HIGH, len, 0, 'from-device');
    dev.write(tlb, pattern(len, 15));
    swiotlb.swiotlbTblUnmapSingle(vc4(), tlb, len, 'from-device', DMA_ATTR_SKIP_CPU_SYNC);
    expect(core.memory.readBytes(HIGH, len)).toEqual(orig);
  });
});

describe('the CPU cache on the bounce slot', () => {
  it('a missing invalidate of the slot on a non-coherent device returns stale bytes, as hardware would', () => {
    const { core, swiotlb } = machine({ size: 4 * MiB });
    const len = PAGE_SIZE;
    const tlb = swiotlb.swiotlbTblMapSingle(vc4(), HIGH, len, 0, 'from-device');
    const stale = new Uint8Array(len);
    core.cache.cpuRead(tlb, stale, 'cacheable'); // the CPU now holds lines of the slot
    core.cache.deviceWrite(tlb, pattern(len, 16), false);
    swiotlb.swiotlbTblUnmapSingle(vc4(), tlb, len, 'from-device');
    expect(core.memory.readBytes(HIGH, len)).toEqual(stale);
  });
});

describe('slot placement', () => {
  it('keeps the min_align_mask bits of the original and frees every slot again', () => {
    const { swiotlb } = machine({ size: MiB });
    const dev = vc4(0xfff);
    const orig = HIGH + 0x123;
    const tlb = swiotlb.swiotlbTblMapSingle(dev, orig, 5000, 0, 'to-device');
    expect(tlb % 4096).toBe(0x123);
    expect(swiotlb.stats().usedSlots).toBe(Math.ceil((5000 + 0x123) / IO_TLB_SIZE));
    swiotlb.swiotlbTblUnmapSingle(dev, tlb, 5000, 'to-device');
    expect(swiotlb.stats().usedSlots).toBe(0);
  });

  it('pads whole slots for min_align_mask bits above the slot size', () => {
    const { swiotlb } = machine({ size: MiB });
    const dev = vc4(0x3fff);
    const orig = HIGH + 0x2a10;
    const tlb = swiotlb.swiotlbTblMapSingle(dev, orig, 4096, 0, 'to-device');
    expect(tlb % 0x4000).toBe(0x2a10);
    swiotlb.swiotlbTblUnmapSingle(dev, tlb, 4096, 'to-device');
    expect(swiotlb.stats().usedSlots).toBe(0);
  });

  it('page-aligns mappings of a page or more, honours alloc_align_mask', () => {
    const { swiotlb } = machine({ size: MiB });
    const small = swiotlb.swiotlbTblMapSingle(vc4(), HIGH, 100, 0, 'to-device');
    const page = swiotlb.swiotlbTblMapSingle(vc4(), HIGH, 4096, 0, 'to-device');
    const aligned = swiotlb.swiotlbTblMapSingle(vc4(), HIGH, 100, 0xffff, 'to-device');
    expect(small % IO_TLB_SIZE).toBe(0);
    expect(page % PAGE_SIZE).toBe(0);
    expect(aligned % 0x10000).toBe(0);
    expect(page).not.toBe(small);
  });

  it('starts in the area of the mapping CPU', () => {
    const { core } = machine({ size: 0 });
    let cpu = 2;
    const s = new Swiotlb({ memory: core.memory, pages: core.pages, log: core.log, cpu: () => cpu }, { size: 4 * MiB, nareas: 4 });
    const pool = s.defaultMem!.defpool;
    const tlb = s.swiotlbTblMapSingle(vc4(), HIGH, 4096, 0, 'to-device');
    expect(pool.slotIndexOf(tlb)).toBe(2 * pool.areaNslabs);
    cpu = 0;
    expect(pool.slotIndexOf(s.swiotlbTblMapSingle(vc4(), HIGH, 4096, 0, 'to-device'))).toBe(0);
    expect(Array.from(pool.areaUsed)).toEqual([2, 0, 2, 0]);
  });
});

describe('statistics and the full message', () => {
  it('counts used and high-water slots', () => {
    const { swiotlb } = machine({ size: MiB });
    const a = swiotlb.swiotlbTblMapSingle(vc4(), HIGH, 8192, 0, 'to-device');
    const b = swiotlb.swiotlbTblMapSingle(vc4(), HIGH, 2048, 0, 'to-device');
    expect(swiotlb.stats()).toMatchObject({ totalSlots: 512, usedSlots: 5, maxUsedSlots: 5 });
    swiotlb.swiotlbTblUnmapSingle(vc4(), a, 8192, 'to-device');
    expect(swiotlb.stats()).toMatchObject({ usedSlots: 1, maxUsedSlots: 5 });
    swiotlb.swiotlbTblUnmapSingle(vc4(), b, 2048, 'to-device');
    swiotlb.resetHiwater();
    expect(swiotlb.stats()).toMatchObject({ usedSlots: 0, maxUsedSlots: 0 });
  });

  it('rate-limits the full message as printk_ratelimited does, and NO_WARN hides it', () => {
    const { core, swiotlb } = machine({ size: MiB });
    expect(swiotlb.swiotlbTblMapSingle(vc4(), HIGH, 300 * KiB, 0, 'to-device', DMA_ATTR_NO_WARN)).toBe(DMA_MAPPING_ERROR);
    expect(lines(core).filter((l) => l.includes('swiotlb buffer is full'))).toHaveLength(0);
    for (let i = 0; i < 12; i++) swiotlb.swiotlbTblMapSingle(vc4(), HIGH, 300 * KiB, 0, 'to-device');
    expect(lines(core).filter((l) => l.includes('swiotlb buffer is full'))).toHaveLength(10);
    expect(swiotlb.stats().fullErrors).toBe(13);
  });

  it('fails when the pool is exhausted, and succeeds again once slots are freed', () => {
    const { core, swiotlb } = machine({ size: MiB });
    const maps: number[] = [];
    for (let i = 0; i < 4; i++) maps.push(swiotlb.swiotlbTblMapSingle(vc4(), HIGH, 256 * KiB, 0, 'to-device'));
    expect(maps).not.toContain(DMA_MAPPING_ERROR);
    expect(swiotlb.swiotlbTblMapSingle(vc4(), HIGH, 2048, 0, 'to-device')).toBe(DMA_MAPPING_ERROR);
    expect(lines(core)).toContain('vc4-drm gpu: swiotlb buffer is full (sz: 2048 bytes), total 512 (slots), used 512 (slots)');
    swiotlb.swiotlbTblUnmapSingle(vc4(), maps[1]!, 256 * KiB, 'to-device');
    expect(swiotlb.swiotlbTblMapSingle(vc4(), HIGH, 2048, 0, 'to-device')).not.toBe(DMA_MAPPING_ERROR);
  });

  it('unmapping an address that is no bounce buffer does nothing', () => {
    const { swiotlb } = machine({ size: MiB });
    expect(swiotlb.swiotlbTblUnmapSingle(vc4(), HIGH, 4096, 'to-device')).toBe(false);
    expect(swiotlb.isSwiotlbBuffer(vc4(), HIGH)).toBe(false);
  });
});
