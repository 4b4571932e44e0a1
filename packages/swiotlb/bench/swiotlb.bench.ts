/**
 * swiotlb benchmarks.
 *
 * - `swiotlb.bounce.64k`, `swiotlb.bounce.4k`: map + unmap TO_DEVICE of a buffer above the device's
 *   reach (one copy into the pool), as a ratio to "a raw copy of the same size into the same pool",
 *   both measured here. The raw copy is the very copy the bounce does, without swiotlb around it:
 *   `PhysicalMemory.copy` of the same source bytes (at HIGH) into the pool's memory at the slots the
 *   bounce uses. Those are not one slot: like the kernel, the area's search index moves past each
 *   allocation, so consecutive pairs walk the pool in steps of the (page-aligned) size and wrap at its
 *   end; the raw copy walks it the same way (checked before timing). Both sides therefore move the
 *   same bytes between the same backing chunks, and the ratio is the cost of swiotlb's bookkeeping
 *   (slot search and release, look-ups) on top of the copy.
 * - `swiotlb.fixed.map-unmap.4k`: map + unmap pairs of 4 KiB with the default pool half full (every
 *   other 4 KiB hole taken).
 * - `swiotlb.dynamic.lookup`: `isSwiotlbBuffer` with 10,000 live seed 004 dynamic bounce buffers.
 */
import type { BenchContext } from '@dmasim/bench-harness';
import { GiB, MiB, PAGE_SIZE, alignUp, createCoreServices } from '@dmasim/core';
import { DMA_MAPPING_ERROR, Swiotlb } from '../src/index';
import type { SwiotlbDeviceWithLimit } from '../src/index';

const dev: SwiotlbDeviceWithLimit = { name: 'gpu', driverName: 'vc4-drm', dma: { minAlignMask: 0 }, dmaPhysLimit: GiB - 1 };
const HIGH = 0x5000_0000;

function build(dynamic: false | 'per-buffer', perBufferOrder: 'fixed-first' | 'dynamic-first' = 'fixed-first'): { swiotlb: Swiotlb; core: ReturnType<typeof createCoreServices> } {
  const core = createCoreServices({ memory: [{ base: 0, size: 4 * GiB }], pages: { dmaZoneEnd: GiB } });
  const swiotlb = new Swiotlb({ memory: core.memory, pages: core.pages, log: core.log, cache: core.cache }, { dynamic, perBufferOrder, verbose: false });
  return { swiotlb, core };
}

async function bounce(ctx: BenchContext, size: number, id: string, target: number): Promise<void> {
  const { swiotlb, core } = build(false);
  const src = new Uint8Array(size).fill(0xa5);
  core.memory.write(HIGH, src);
  // fill the pool's backing memory once so the bounce writes land in allocated chunks, as the raw copy does
  const pool = swiotlb.defaultMem!.defpool;
  core.memory.fill(pool.start, pool.end - pool.start, 1);
  const bounced = await ctx.rate(
    `${id}.pairs`,
    () => {
      const t = swiotlb.swiotlbTblMapSingle(dev, HIGH, size, 0, 'to-device');
      if (t === DMA_MAPPING_ERROR) throw new Error('bench: map failed');
      swiotlb.swiotlbTblUnmapSingle(dev, t, size, 'to-device');
    },
    { unit: 'pairs/s', batch: size >= 65536 ? 50 : 500 },
  );
  // the raw copy visits the slots the bounce visits: check the walk on two fresh mappings
  const step = alignUp(size, PAGE_SIZE);
  const first = swiotlb.swiotlbTblMapSingle(dev, HIGH, size, 0, 'to-device');
  swiotlb.swiotlbTblUnmapSingle(dev, first, size, 'to-device');
  const second = swiotlb.swiotlbTblMapSingle(dev, HIGH, size, 0, 'to-device');
  swiotlb.swiotlbTblUnmapSingle(dev, second, size, 'to-device');
  const poolBytes = pool.end - pool.start;
  if (second - pool.start !== ((first - pool.start + step) % poolBytes)) throw new Error('bench: bounce slots do not walk the pool');
  const memory = core.memory;
  let off = (second - pool.start + step) % poolBytes;
  const raw = await ctx.rate(
    `${id}.raw`,
    () => {
      if (!memory.copy(pool.start + off, HIGH, size).ok) throw new Error('bench: raw copy failed');
      off += step;
      if (off + step > poolBytes) off = 0;
    },
    { unit: 'copies/s', batch: size >= 65536 ? 50 : 500 },
  );
  const ratio = bounced.value / raw.value;
  ctx.record({ id, value: ratio, unit: 'ratio', better: 'higher', target: `>= ${target}`, met: ratio >= target });
}

export default async (ctx: BenchContext): Promise<void> => {
  await bounce(ctx, 64 * 1024, 'swiotlb.bounce.64k', 0.8);
  await bounce(ctx, 4 * 1024, 'swiotlb.bounce.4k', 0.5);

  {
    const { swiotlb } = build(false);
    const maps: number[] = [];
    for (;;) {
      const t = swiotlb.swiotlbTblMapSingle(dev, HIGH, PAGE_SIZE, 0, 'to-device', 1 << 8);
      if (t === DMA_MAPPING_ERROR) break;
      maps.push(t);
    }
    for (let i = 0; i < maps.length; i += 2) swiotlb.swiotlbTblUnmapSingle(dev, maps[i]!, PAGE_SIZE, 'to-device');
    const half = swiotlb.stats();
    if (half.usedSlots * 2 !== half.totalSlots) throw new Error(`bench: pool not half full (${half.usedSlots}/${half.totalSlots})`);
    await ctx.rate(
      'swiotlb.fixed.map-unmap.4k',
      () => {
        const t = swiotlb.swiotlbTblMapSingle(dev, HIGH, PAGE_SIZE, 0, 'to-device');
        swiotlb.swiotlbTblUnmapSingle(dev, t, PAGE_SIZE, 'to-device');
      },
      { unit: 'pairs/s', batch: 1000, min: 1e6 },
    );
  }

  {
    const { swiotlb } = build('per-buffer', 'dynamic-first');
    const live = 10_000;
    const addrs: number[] = [];
    for (let i = 0; i < live; i++) {
      const t = swiotlb.swiotlbTblMapSingle(dev, HIGH + i * 2 * PAGE_SIZE, 2 * PAGE_SIZE, 0, 'to-device');
      if (t === DMA_MAPPING_ERROR) throw new Error('bench: dynamic map failed');
      addrs.push(t);
    }
    if (swiotlb.stats().dynamicLive !== live) throw new Error('bench: expected only dynamic buffers');
    let seed = 12345;
    let hits = 0;
    await ctx.rate(
      'swiotlb.dynamic.lookup',
      () => {
        seed = (seed * 1664525 + 1013904223) % 4294967296;
        const a = addrs[Math.floor((seed / 4294967296) * live)]!;
        if (swiotlb.isSwiotlbBuffer(dev, a + 5000)) hits++;
      },
      { unit: 'lookups/s', batch: 10_000, min: 5e6 },
    );
    if (hits === 0) throw new Error('bench: lookups found nothing');
  }
  void MiB;
};
