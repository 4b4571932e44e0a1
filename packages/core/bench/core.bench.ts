import type { BenchContext, BenchResult } from '@dmasim/bench-harness';
import { GiB, KiB, MiB, MEMORY_CHUNK_SIZE, PageAllocator, PhysicalMemory, Scheduler } from '@dmasim/core';

/** Ratio of the raw `Uint8Array.set` baseline the physical-memory copy must reach. */
const COPY_TARGET_RATIO = 0.7;

/**
 * Physical-memory copy bandwidth in GB/s, related to the raw baseline of the same size. The source and
 * destination are written first (real bytes move, not the sparse zero path) and chunk-aligned, as page
 * buffers are.
 */
async function memoryCopy(ctx: BenchContext, id: string, baseline: string, size: number, batch: number): Promise<BenchResult> {
  const memory = new PhysicalMemory([{ base: 0, size: 1 * GiB }]);
  const src = 64 * MiB;
  const dst = 256 * MiB;
  memory.fill(src, size, 0x5a);
  memory.fill(dst, size, 0xa5);
  const min = COPY_TARGET_RATIO * ctx.baseline(baseline);
  const r = await ctx.rate(
    id,
    () => {
      memory.copy(dst, src, size);
    },
    { unit: 'GB/s', batch, opsPerCall: size / 1e9, baseline, min },
  );
  r.target = `ratio >= ${COPY_TARGET_RATIO} (>= ${min.toFixed(2)} GB/s)`;
  if (memory.compare(dst, new Uint8Array(size).fill(0x5a)) !== -1) throw new Error(`${id}: copy did not move the bytes`);
  return r;
}

export default async function coreBench(ctx: BenchContext): Promise<void> {
  if (MEMORY_CHUNK_SIZE > 64 * KiB) throw new Error('bench assumes 64 KiB chunks or smaller');
  await memoryCopy(ctx, 'core.memory.copy.64k', 'raw.copy.64k', 64 * KiB, 4);
  await memoryCopy(ctx, 'core.memory.copy.1m', 'raw.copy.1m', 1 * MiB, 1);

  // order-0 alloc+free pairs, the per-CPU list's fast path, on a 4 GiB board
  const pages = new PageAllocator([{ base: 0, size: 4 * GiB }], { dmaZoneEnd: 1 * GiB });
  // keep some pages live so the buddy lists are not trivially empty or full
  for (let i = 0; i < 1000; i++) pages.allocPages(i % 3);
  await ctx.rate(
    'core.pages.alloc-free',
    () => {
      const a = pages.allocPages(0);
      if (a === null) throw new Error('allocator exhausted');
      pages.freePages(a, 0);
    },
    { unit: 'pairs/s', batch: 1000, min: 2e6 },
  );

  // 10,000 timed events scheduled at spread-out times (many ties), then run
  let sink = 0;
  const bump = () => {
    sink++;
  };
  await ctx.time(
    'core.sched.10k-events',
    () => {
      const sched = new Scheduler({ seed: 1 });
      for (let i = 0; i < 10_000; i++) sched.schedule((i * 7919) % 1000, bump);
      sched.runUntilIdle();
    },
    { unit: 'ms', max: 10 },
  );
  if (sink === 0) throw new Error('scheduler bench ran nothing');
}
