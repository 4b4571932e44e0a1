/**
 * Rockchip IOMMU model benchmarks.
 *
 * - `rockchip.translate.hit`: `translate` of a mapped IOVA already in the IOTLB, cycling over 16
 *   pages (the IOTLB holds 32).
 * - `rockchip.translate.miss`: `translate` that misses the IOTLB and walks the two levels: the bench
 *   cycles over 4096 pages (4 page tables), so every call evicts and walks.
 */
import type { BenchContext } from '@dmasim/bench-harness';
import { createCoreServices, MiB } from '@dmasim/core';
import { RK_MMU_CMD_ENABLE_PAGING, RK_MMU_COMMAND, RK_MMU_DTE_ADDR, RkIommuHardware, rkMkDte, rkMkPte } from '../src/index';

const BASE = 0xff930300;
const IOVA = 0x10000000;
const DT = 0x100000;

function build(pages: number): RkIommuHardware {
  const core = createCoreServices({ memory: [{ base: 0, size: 64 * MiB }] });
  const hw = new RkIommuHardware({ name: 'mmu', memory: core.memory, irq: core.irqs.line(47) });
  hw.mapInto(core.mmio, BASE);
  for (let p = 0; p < pages; p++) {
    const iova = IOVA + p * 4096;
    const pt = DT + 4096 * (1 + Math.floor(p / 1024));
    core.memory.writeU32(DT + 4 * Math.floor(iova / (4 * MiB)), rkMkDte(pt));
    core.memory.writeU32(pt + 4 * (p % 1024), rkMkPte(16 * MiB + p * 4096, true, true));
  }
  core.mmio.writel(BASE + RK_MMU_DTE_ADDR, DT);
  core.mmio.writel(BASE + RK_MMU_COMMAND, RK_MMU_CMD_ENABLE_PAGING);
  return hw;
}

export default async (ctx: BenchContext): Promise<void> => {
  let sink = 0;
  const hit = build(16);
  let i = 0;
  await ctx.rate(
    'rockchip.translate.hit',
    () => {
      const r = hit.translate(IOVA + i * 4096 + 8, 'read');
      if (r.ok) sink += r.phys;
      i = (i + 1) % 16;
    },
    { unit: 'translations/s', batch: 1000, baseline: 'raw.loop' },
  );
  const miss = build(4096);
  let j = 0;
  await ctx.rate(
    'rockchip.translate.miss',
    () => {
      const r = miss.translate(IOVA + j * 4096, 'write');
      if (r.ok) sink += r.phys;
      j = (j + 1) % 4096;
    },
    { unit: 'translations/s', batch: 1000, baseline: 'raw.loop' },
  );
  if (sink === 0 || hit.faults + miss.faults > 0) throw new Error('a bench translation faulted');
};
