import { describe, expect, it } from 'vitest';
import * as R from '../hw/regs';
import { IOMMU_READ, iommuMap, iommuUnmap } from '@dmasim/iommu-core';
import { cmdqEnt } from './cmdq';
import { makeV3Rig, SMMUV3_BASE } from './test-setup';

describe('arm-smmu-v3 command queue', () => {
  it('skips an illegal command the way the gerror handler does, and the sync still completes', () => {
    const r = makeV3Rig();
    const smmu = r.driver.instances[0]!;
    const mark = r.core.log.lines.length;
    // TLBI_EL2_ALL on an SMMU without EL2 (IDR0.HYP clear) is illegal
    expect(smmu.cmdq.issueCmdWithSync(cmdqEnt(R.CMDQ_OP_TLBI_EL2_ALL))).toBe(0);
    const prefix = 'arm-smmu-v3 9050000.smmuv3: ';
    expect(r.lines(mark)).toEqual([
      `${prefix}unexpected global error reported (0x00000001), this could be serious`,
      `${prefix}CMDQ error (cons 0x01000004): Illegal command`,
      `${prefix}skipping command in error state:`,
      `${prefix}\t0x0000000000000020`,
      `${prefix}\t0x0000000000000000`,
    ]);
    expect(r.core.mmio.readl(SMMUV3_BASE + R.CMDQ_CONS)).toBe(6);
  });

  it('times out a CMD_SYNC the SMMU never consumes', () => {
    const r = makeV3Rig();
    const smmu = r.driver.instances[0]!;
    r.core.mmio.writel(SMMUV3_BASE + R.CR0, R.CR0_SMMUEN | R.CR0_EVTQEN);
    const mark = r.core.log.lines.length;
    expect(smmu.cmdq.issueCmdWithSync(cmdqEnt(R.CMDQ_OP_TLBI_NSNH_ALL))).toBe(-110);
    expect(r.lines(mark)).toEqual(['arm-smmu-v3 9050000.smmuv3: CMD_SYNC timeout at 0x00000005 [hwprod 0x00000006, hwcons 0x00000004]']);
  });

  it('splits an unmap of many pages into range invalidations of NUM x 2^SCALE pages', () => {
    const r = makeV3Rig();
    const dev = r.master('sata', [1]);
    const domain = r.iommu.iommuGetDmaDomain(dev)!;
    const page = r.core.pages.allocPages(6)!;
    expect(iommuMap(domain, 0x100000, page, 37 * 4096, IOMMU_READ)).toBe(0);
    for (let i = 0; i < 37; i++) expect(r.hw.translate(1, 0x100000 + i * 4096, 'read').ok).toBe(true);
    const before = r.hw.counters.commands;
    expect(iommuUnmap(domain, 0x100000, 37 * 4096)).toBe(37 * 4096);
    // 37 pages: 5 at scale 0 (the low five bits), then 32 at scale 5, then the CMD_SYNC
    expect(r.hw.counters.commands - before).toBe(3);
    for (let i = 0; i < 37; i++) expect(r.hw.translate(1, 0x100000 + i * 4096, 'read').ok).toBe(false);
  });
});
