/**
 * SMMU model benchmarks.
 *
 * - `smmu.translate.hit`: `translate` of a 4 KiB-mapped IOVA already in the IOTLB (stage 1, MMU-500),
 *   cycling over 64 pages so the look-up is not always the same key.
 * - `smmu.translate.miss`: `translate` that misses the IOTLB and walks 4 levels. The IOTLB holds one
 *   entry and the bench cycles over 4096 pages, so every call evicts and walks.
 */
import type { BenchContext } from '@dmasim/bench-harness';
import { createCoreServices, MiB } from '@dmasim/core';
import { LpaeTestTables, SmmuHardware } from '../src/index';
import * as R from '../src/hw/regs';

const BASE = 0x2b400000;
const SID = 7;

function build(iotlbEntries: number, pages: number): SmmuHardware {
  const core = createCoreServices({ memory: [{ base: 0, size: 512 * MiB }] });
  const smmu = new SmmuHardware({ model: 'mmu-500', iotlbEntries, memory: core.memory });
  smmu.mapInto(core.mmio, BASE);
  const pt = new LpaeTestTables({ memory: core.memory, tableBase: 64 * MiB, stage: 1 });
  for (let i = 0; i < pages; i++) pt.map(0x8000000000 + i * 4096, 256 * MiB + i * 4096, 4096);
  const cb = BASE + smmu.params.numPages * smmu.params.registerPageSize; // context bank 0
  const gr1 = BASE + smmu.params.registerPageSize;
  core.mmio.writel(gr1 + R.gr1Cba2r(0), R.CBA2R_VA64);
  core.mmio.writel(gr1 + R.gr1Cbar(0), R.CBAR_TYPE_S1_TRANS_S2_BYPASS << R.CBAR_TYPE_SHIFT);
  core.mmio.writel(cb + R.CB_TCR2, 5);
  core.mmio.writel(cb + R.CB_TCR, 16); // 48-bit VA, 4 KiB granule: a 4-level walk
  core.mmio.writeq(cb + R.CB_TTBR0_LO, pt.root + 2 ** 48);
  core.mmio.writel(cb + R.CB_SCTLR, R.SCTLR_M | R.SCTLR_CFIE | R.SCTLR_CFRE);
  core.mmio.writel(BASE + R.gr0S2cr(0), 0);
  core.mmio.writel(BASE + R.gr0Smr(0), (R.SMR_VALID | SID) >>> 0);
  core.mmio.writel(BASE + R.GR0_SCR0, R.SCR0_GFRE | R.SCR0_GFIE | R.SCR0_USFCFG);
  return smmu;
}

export default async (ctx: BenchContext): Promise<void> => {
  const hitSmmu = build(512, 64);
  let i = 0;
  let sink = 0;
  for (let p = 0; p < 64; p++) hitSmmu.translate(SID, 0x8000000000 + p * 4096, 'read');
  await ctx.rate(
    'smmu.translate.hit',
    () => {
      const r = hitSmmu.translate(SID, 0x8000000000 + i * 4096 + 8, 'read');
      if (r.ok) sink += r.phys;
      i = (i + 1) % 64;
    },
    { unit: 'translations/s', batch: 1000, min: 20e6, baseline: 'raw.loop' },
  );
  if (hitSmmu.counters.misses !== 64) throw new Error('hit bench missed the IOTLB');

  const missSmmu = build(1, 4096);
  let j = 0;
  await ctx.rate(
    'smmu.translate.miss',
    () => {
      const r = missSmmu.translate(SID, 0x8000000000 + j * 4096, 'write');
      if (r.ok) sink += r.phys;
      j = (j + 1) % 4096;
    },
    { unit: 'translations/s', batch: 1000, min: 2e6, baseline: 'raw.loop' },
  );
  if (missSmmu.counters.walkReads !== missSmmu.counters.walks * 4) throw new Error('miss bench did not walk 4 levels');
  if (sink < 0) console.log(sink);
};
