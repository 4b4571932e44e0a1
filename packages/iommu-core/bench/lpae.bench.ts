/**
 * ARM LPAE page-table benchmarks.
 *
 * - `lpae.map-unmap.4k`: `mapPages` of one 4 KiB page then `unmapPages` of it, 48-bit stage-1
 *   tables (a 4-level walk each way). The IOVA steps through 4096 pages spread over 8 leaf
 *   tables, so the tables exist after the first round (the kernel keeps them) and the walks do not
 *   always hit the same entries.
 * - `lpae.iova-to-phys`: one 4-level software walk of a mapped page.
 */
import type { BenchContext } from '@dmasim/bench-harness';
import { GiB, KernelLog, PageAllocator, PhysicalMemory } from '@dmasim/core';
import { IOMMU_READ, IOMMU_WRITE, allocIoPgtableOps, type IommuFlushOps } from '../src/io-pgtable/index';

export default async (ctx: BenchContext): Promise<void> => {
  const regions = [{ base: 0x8000_0000, size: 256 * 1024 * 1024 }];
  const env = { memory: new PhysicalMemory(regions), pages: new PageAllocator(regions), log: new KernelLog() };
  let flushes = 0;
  const tlb: IommuFlushOps = {
    tlbFlushAll: () => void flushes++,
    tlbFlushWalk: () => void flushes++,
    tlbAddPage: () => void flushes++,
  };
  const ops = allocIoPgtableOps('s1', { pgsizeBitmap: 0x40201000, ias: 48, oas: 48, coherentWalk: true, tlb }, null, env);
  if (ops === null) throw new Error('bench set-up: allocIoPgtableOps failed');
  const base = 5 * GiB;
  const prot = IOMMU_READ | IOMMU_WRITE;
  let i = 0;
  await ctx.rate(
    'lpae.map-unmap.4k',
    () => {
      const iova = base + (i % 4096) * 4096;
      i++;
      ops.mapPages(iova, 0x9000_0000 + (i % 4096) * 4096, 4096, 1, prot);
      ops.unmapPages(iova, 4096, 1);
    },
    { unit: 'pairs/s', batch: 1000, baseline: 'raw.loop', min: 2e6 },
  );
  ops.map(base, 0x9000_0000, 16 * 1024 * 1024, prot);
  let j = 0;
  let sink = 0;
  await ctx.rate(
    'lpae.iova-to-phys',
    () => {
      sink += ops.iovaToPhys(base + (j++ % 4096) * 4096);
    },
    { unit: 'lookups/s', batch: 1000, baseline: 'raw.loop' },
  );
  if (sink < 0 || flushes < 0) console.log(sink, flushes);
  ops.free();
};
