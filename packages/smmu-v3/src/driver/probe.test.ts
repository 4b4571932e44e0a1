import { describe, expect, it } from 'vitest';
import { makeV3Rig, type V3Rig } from './test-setup';

const smmuLines = (r: V3Rig): string[] => r.lines().filter((l) => l.startsWith('arm-smmu-v3 '));

describe('arm-smmu-v3 probe', () => {
  it('prints what Linux 6.1 prints for the SMMUv3 of QEMU virt', () => {
    const r = makeV3Rig();
    expect(smmuLines(r)).toEqual([
      'arm-smmu-v3 9050000.smmuv3: ias 44-bit, oas 44-bit (features 0x00008305)',
      'arm-smmu-v3 9050000.smmuv3: allocated 65536 entries for cmdq',
      'arm-smmu-v3 9050000.smmuv3: allocated 32768 entries for evtq',
    ]);
    expect(r.hw.enabled).toBe(true);
    expect(r.driver.instances[0]?.sysfsName).toBe('smmu3.0x0000000009050000');
  });

  it('programs the queues and a 2-level stream table the SMMU then reads', () => {
    const r = makeV3Rig();
    const smmu = r.driver.instances[0]!;
    const bases = r.hw.queueBases();
    expect(bases.cmdq).toBe(smmu.cmdq.q.base);
    expect(bases.evtq).toBe(smmu.evtq.base);
    expect(bases.strtab).toBe(smmu.strtabCfg?.strtab);
    expect(smmu.strtabCfg?.numL1Ents).toBe(256);
    // reset issued CFGI_ALL + SYNC and TLBI_NSNH_ALL + SYNC
    expect(r.hw.counters.syncs).toBe(2);
    expect(r.hw.counters.commands).toBe(4);
  });

  it('uses a linear stream table when the SMMU offers one level', () => {
    const r = makeV3Rig({ hw: { twoLevelStreamTable: false, sidBits: 8 } });
    expect(smmuLines(r)[0]).toBe('arm-smmu-v3 9050000.smmuv3: ias 44-bit, oas 44-bit (features 0x00008304)');
    expect(r.driver.instances[0]?.strtabCfg?.l1Desc).toBeNull();
    const dev = r.master('sata', [3]);
    expect(r.iommu.iommuGetDmaDomain(dev)?.type).toBe('DMA');
  });

  it('warns when the firmware and IDR0.COHACC disagree', () => {
    const r = makeV3Rig({ props: { 'dma-coherent': false } });
    expect(smmuLines(r)).toContain('arm-smmu-v3 9050000.smmuv3: IDR0.COHACC overridden by FW configuration (false)');
    expect(smmuLines(r)).toContain('arm-smmu-v3 9050000.smmuv3: ias 44-bit, oas 44-bit (features 0x00008205)');
  });

  it('refuses a register window smaller than 128 KiB', () => {
    const r = makeV3Rig({ props: { reg: [0x9050000, 0x10000] } });
    expect(smmuLines(r)).toContain('arm-smmu-v3 9050000.smmuv3: MMIO region too small ([mem 0x09050000-0x0905ffff])');
    expect(r.driver.instances).toHaveLength(0);
  });

  it('logs a bad #iommu-cells and still brings the SMMU up', () => {
    const r = makeV3Rig({ props: { '#iommu-cells': 2 } });
    expect(smmuLines(r)[0]).toBe('arm-smmu-v3 9050000.smmuv3: invalid #iommu-cells value (2)');
    expect(r.driver.instances).toHaveLength(1);
  });

  it('reports the sizes of a stage-2 SMMU with 48-bit OAS and a small command queue', () => {
    const r = makeV3Rig({ hw: { stage1: false, stage2: true, oasBits: 48, cmdqShift: 10, evtqShift: 7 } });
    expect(smmuLines(r)).toEqual([
      'arm-smmu-v3 9050000.smmuv3: ias 48-bit, oas 48-bit (features 0x00008505)',
      'arm-smmu-v3 9050000.smmuv3: allocated 1024 entries for cmdq',
      'arm-smmu-v3 9050000.smmuv3: allocated 128 entries for evtq',
    ]);
  });

  it('refuses a command queue of 64 entries or fewer', () => {
    const r = makeV3Rig({ hw: { cmdqShift: 6 } });
    expect(smmuLines(r)).toContain('arm-smmu-v3 9050000.smmuv3: command queue size <= 64 entries not supported');
    expect(r.driver.instances).toHaveLength(0);
  });
});
