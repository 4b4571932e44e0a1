/**
 * SMMUv3 benchmarks, with the same shapes and baselines as the SMMUv2 ids so the figures compare:
 *
 * - `smmuv3.translate.hit`: `translate` of a 4 KiB-mapped IOVA already in the IOTLB (stage 1 through
 *   an STE and CD), cycling over 64 pages.
 * - `smmuv3.translate.miss`: a 1-entry IOTLB and 4096 pages, so every call walks 4 levels.
 * - `dma-iommu.map-unmap.strict.smmuv3`: dma_map_page + dma_unmap_page of 4 KiB through the generic
 *   iommu-dma ops, a strict DMA domain of the arm-smmu-v3 driver: each unmap issues TLBI_NH_VA and
 *   CMD_SYNC through the command queue.
 */
import type { BenchContext } from '@dmasim/bench-harness';
import { KiB } from '@dmasim/core';
import { DMA_TO_DEVICE, DmaMappingContext, dmaMapPage, dmaUnmapPage } from '@dmasim/dma-mapping';
import { GenericDmaSetup, IommuDma } from '@dmasim/dma-iommu';
import { makeV3HwRig } from '../src/hw/testing/v3-test-rig';
import { makeV3Rig } from '../src/driver/test-setup';

const SID = 7;
const IOVA = 0x8000000000;

function hwRig(iotlbEntries: number, pages: number) {
  const r = makeV3HwRig({ iotlbEntries });
  for (let i = 0; i < pages; i++) r.tables.map(IOVA + i * 4096, 0x8000000 + i * 4096, 4096);
  r.ste(SID, 's1', 1);
  return r;
}

export default async (ctx: BenchContext): Promise<void> => {
  let sink = 0;
  const hit = hwRig(256, 64);
  for (let p = 0; p < 64; p++) hit.hw.translate(SID, IOVA + p * 4096, 'read');
  let i = 0;
  await ctx.rate(
    'smmuv3.translate.hit',
    () => {
      const r = hit.hw.translateFast(SID, IOVA + i * 4096 + 8, 'read');
      if (r.fault === null) sink += r.phys;
      i = (i + 1) % 64;
    },
    { unit: 'translations/s', batch: 1000, baseline: 'raw.loop' },
  );
  if (hit.hw.counters.misses !== 64) throw new Error('hit bench missed the IOTLB');

  const miss = hwRig(1, 4096);
  let j = 0;
  await ctx.rate(
    'smmuv3.translate.miss',
    () => {
      const r = miss.hw.translateFast(SID, IOVA + j * 4096, 'write');
      if (r.fault === null) sink += r.phys;
      j = (j + 1) % 4096;
    },
    { unit: 'translations/s', batch: 1000, baseline: 'raw.loop' },
  );
  if (miss.hw.counters.walkReads !== miss.hw.counters.walks * 4) throw new Error('miss bench did not walk 4 levels');

  const m = makeV3Rig({
    strict: true,
    installDma: (core, bus, iommu) => {
      const dmaCtx = new DmaMappingContext({ memory: core.memory, cache: core.cache, pages: core.pages, log: core.log });
      const dma = new IommuDma({ cache: core.cache, pages: core.pages, log: core.log, profile: 'linux-6.x', sched: core.sched });
      new GenericDmaSetup({ dma, ctx: dmaCtx, iommu, log: core.log, sched: core.sched }).installInto(bus.core);
    },
  });
  const dev = m.master('nic', [0x11]);
  if (m.iommu.iommuGetDmaDomain(dev)?.type !== 'DMA') throw new Error('bench device has no strict DMA domain');
  const page = m.core.pages.allocPages(0)!;
  const syncs = m.hw.counters.syncs;
  let n = 0;
  await ctx.rate(
    'dma-iommu.map-unmap.strict.smmuv3',
    () => {
      const addr = dmaMapPage(dev, page, 0, 4 * KiB, DMA_TO_DEVICE);
      dmaUnmapPage(dev, addr, 4 * KiB, DMA_TO_DEVICE);
      n++;
    },
    { unit: 'pairs/s', batch: 1000, baseline: 'raw.loop' },
  );
  if (m.hw.counters.syncs - syncs < n) throw new Error('strict unmap did not sync through the command queue');
  if (sink < 0) console.log(sink);
};
