import { describe, expect, it } from 'vitest';
import * as R from '../hw/regs';
import { makeDriverRig, SMMU_BASE } from './test-setup';

const PFX = `arm-smmu ${SMMU_BASE.toString(16)}.iommu: `;

describe('arm-smmu probe: configuration read through MMIO', () => {
  it('logs the Juno PCIe MMU-401 the way its boot logs show it', () => {
    const rig = makeDriverRig({ hw: { model: 'mmu-401' } });
    expect(rig.smmuDev.state).toBe('bound');
    const lines = rig.lines().filter((l) => l.startsWith(PFX)).map((l) => l.slice(PFX.length));
    expect(lines).toEqual([
      'probing hardware configuration...',
      'SMMUv1 with:',
      '\tstage 2 translation',
      '\tcoherent table walk',
      '\tstream matching with 32 register groups',
      '\t4 context banks (4 stage-2 only)',
      '\tSupported page sizes: 0x60211000',
      '\tStage-2: 40-bit IPA -> 40-bit PA',
      '\tpreserved 0 boot mappings',
    ]);
    const smmu = rig.driver.instances[0]!;
    expect(smmu.cfg.numMappingGroups).toBe(32);
    expect(smmu.cfg.features.transS1).toBe(false);
    expect(rig.iommu.iommuFromFwnode('smmu0')).toBe(smmu.iommu);
  });

  it('linux-4.2: the 2015 banner of an MMU-401 (SMMUv1, LPAE page sizes, the SMR mask, masters counted)', () => {
    const rig = makeDriverRig({ hw: { model: 'mmu-401' }, profile: 'linux-4.2' });
    const lines = rig.lines().filter((l) => l.startsWith(PFX)).map((l) => l.slice(PFX.length));
    expect(lines).toEqual([
      'probing hardware configuration...',
      'SMMUv1 with:',
      '\tstage 2 translation',
      '\tcoherent table walk',
      '\tstream matching with 32 register groups, mask 0x7fff',
      '\t4 context banks (4 stage-2 only)',
      '\tSupported page sizes: 0x40201000',
      '\tStage-2: 40-bit IPA -> 40-bit PA',
      'registered 0 master devices',
    ]);
  });

  it('IOMMU_CAP_CACHE_COHERENCY: 6.x only with a coherent table walker (or a coherent master)', () => {
    for (const coherent of [true, false]) {
      const rig = makeDriverRig({ hw: { model: 'mmu-500', numContextBanks: 8, coherentWalk: coherent }, coherent });
      const dev = rig.master('gpu', [{ node: 'smmu0', args: [5] }]);
      expect(rig.iommu.deviceIommuCapable(dev, 'CACHE_COHERENCY'), `coherent walk: ${coherent}`).toBe(coherent);
    }
  });

  it('an MMU-500 walks AArch32 short descriptors too: Supported page sizes 0x61311000', () => {
    const rig = makeDriverRig({ hw: { model: 'mmu-500', numContextBanks: 8 } });
    expect(rig.lines()).toContain(`${PFX}\tSupported page sizes: 0x61311000`);
  });

  it('an MMU-500 reports stages 1, 2 and nested and its VA size', () => {
    const rig = makeDriverRig({ hw: { model: 'mmu-500', numContextBanks: 8, vaBits: 48, ipaBits: 44, paBits: 40 } });
    const text = rig.lines().join('\n');
    expect(text).toContain(`${PFX}SMMUv2 with:`);
    for (const l of ['\tstage 1 translation', '\tstage 2 translation', '\tnested translation', '\t8 context banks (0 stage-2 only)', '\tStage-1: 48-bit VA -> 44-bit IPA', '\tStage-2: 44-bit IPA -> 40-bit PA']) {
      expect(text).toContain(PFX + l);
    }
    // MMU-500 reports ATOSNS, so no "address translation ops" (the kernel's v2 rule).
    expect(text).not.toContain('address translation ops');
  });

  it('firmware overrides the CTTW bit, and says so', () => {
    const rig = makeDriverRig({ hw: { model: 'mmu-401', numContextBanks: 1, numStreamMatchRegisters: 2 }, coherent: false });
    const text = rig.lines().join('\n');
    expect(text).toContain(`${PFX}\tnon-coherent table walk`);
    expect(text).toContain(`${PFX}\t(IDR0.CTTW overridden by FW configuration)`);
    expect(rig.driver.instances[0]!.cfg.features.coherentWalk).toBe(false);
  });

  it('refuses an SMMUv2 with fewer context interrupts than banks, and a node without #global-interrupts', () => {
    const v2 = makeDriverRig({ hw: { model: 'mmu-500', numContextBanks: 4 }, contextIrqs: 2 });
    expect(v2.lines()).toContain(`${PFX}found only 2 context irq(s) but 4 required`);
    expect(v2.smmuDev.state).not.toBe('bound');
    expect(v2.driver.instances).toHaveLength(0);

    const bad = makeDriverRig({ hw: { model: 'mmu-401' }, skipProbe: true });
    bad.smmuDev.fwnode.delete('#global-interrupts');
    bad.bus.core.deviceAdd(bad.smmuDev);
    expect(bad.lines()).toContain(`${PFX}missing #global-interrupts property`);
  });

  it('reset enables the SMMU: fault reporting on, streams per disable_bypass, every entry and bank cleared', () => {
    for (const disableBypass of [true, false]) {
      const rig = makeDriverRig({ hw: { model: 'mmu-401', numStreamMatchRegisters: 4 }, disableBypass });
      const scr0 = rig.core.mmio.readl(SMMU_BASE + R.GR0_SCR0);
      expect(scr0 & R.SCR0_CLIENTPD).toBe(0);
      for (const bit of [R.SCR0_GFRE, R.SCR0_GFIE, R.SCR0_GCFGFRE, R.SCR0_GCFGFIE, R.SCR0_VMIDPNE, R.SCR0_PTM]) expect(scr0 & bit).toBe(bit);
      expect((scr0 & R.SCR0_USFCFG) !== 0).toBe(disableBypass);
      const expectType = disableBypass ? R.S2CR_TYPE_FAULT : R.S2CR_TYPE_BYPASS;
      for (let i = 0; i < 4; i++) {
        expect((rig.core.mmio.readl(SMMU_BASE + R.gr0S2cr(i)) >>> R.S2CR_TYPE_SHIFT) & 3).toBe(expectType);
        expect(rig.core.mmio.readl(SMMU_BASE + R.gr0Smr(i)) & R.SMR_VALID).toBe(0);
      }
      // An unknown stream now bypasses or faults, as the hardware was told.
      const t = rig.hw.translate(0x77, 0x1000, 'read');
      expect(t.ok).toBe(!disableBypass);
      // arm_smmu_test_smr_masks found the 15 implemented ID and MASK bits.
      expect(rig.driver.instances[0]!.streamidMask).toBe(0x7fff);
      expect(rig.driver.instances[0]!.smrMaskMask).toBe(0x7fff);
    }
  });

  it('remove turns translation off (CLIENTPD) and unregisters the IOMMU', () => {
    const rig = makeDriverRig({ hw: { model: 'mmu-401' } });
    rig.bus.core.deviceDel(rig.smmuDev);
    expect(rig.core.mmio.readl(SMMU_BASE + R.GR0_SCR0) & R.SCR0_CLIENTPD).toBe(R.SCR0_CLIENTPD);
    expect(rig.iommu.iommuFromFwnode('smmu0')).toBeNull();
  });
});
