import 'reflect-metadata';
import { describe, expect, it } from 'vitest';
import { iommuModelTestRig, type IommuBoardEntry, type IommuDevicetreeNode, type IommuProfile, type IommuTransactionFault } from '@dmasim/iommu-core';
import { armSmmuModel } from './model';

const entry = (keys: Record<string, unknown>, over: Partial<IommuBoardEntry> = {}): IommuBoardEntry => ({
  name: 'smmu0',
  compatible: 'arm,mmu-500',
  base: 0x2b500000,
  size: 0x40000,
  masters: [],
  keys,
  ...over,
});

const machine = (profile: IommuProfile) => iommuModelTestRig(profile, { base: 0x80000000 });

describe('the ARM SMMU as an IOMMU model plugin', () => {
  it('accepts the SMMU keys within the model’s limits and names each problem', () => {
    expect(armSmmuModel.checkBoardKeys({ contextBanks: 8, streamMatchRegisters: 32 }, entry({}, { compatible: 'arm,mmu-401' }))).toEqual([]);
    const problems = armSmmuModel.checkBoardKeys({ contextBanks: 9, streamMatchRegisters: '4', coherentWalk: 1, banks: 2 }, entry({}, { compatible: 'arm,mmu-401' }));
    expect(problems).toEqual([
      { key: 'banks', message: expect.stringMatching(/^unknown key for a arm,mmu-401/) as unknown },
      { key: 'contextBanks', message: 'a arm,mmu-401 can have 1 to 8 context banks', found: '9' },
      { key: 'streamMatchRegisters', message: 'expected an integer', found: '"4"' },
      { key: 'coherentWalk', message: 'expected true or false', found: '1' },
    ]);
    expect(armSmmuModel.checkBoardKeys({}, entry({})).map((p) => p.key)).toEqual(['contextBanks', 'streamMatchRegisters']);
  });

  it('builds an MMU-500 with a global and one context interrupt per bank, its registers on the MMIO bus', () => {
    const { core, ctx } = machine('linux-6.x');
    const hw = armSmmuModel.createHardware(ctx, entry({ contextBanks: 4, streamMatchRegisters: 8 }, { irq: 40 }));
    expect(hw.fwnode.get('interrupts')).toEqual([40, 100, 101, 102, 103]);
    expect(hw.fwnode.get('#iommu-cells')).toBe(1);
    // sCR0 at offset 0 reads back through the bus, not the all-ones of an unmapped address
    expect(core.mmio.readl(0x2b500000)).not.toBe(0xffffffff);
    expect(() => armSmmuModel.createHardware(machine('linux-6.x').ctx, entry({ contextBanks: 128, streamMatchRegisters: 8 }, { size: 0x1000 }))).toThrow(/^size: this arm,mmu-500 with 128 context banks has \d+ bytes of registers/);
  });

  it('probes through its initcall and reports the instance; an unconfigured stream faults once bypass is disabled', () => {
    const { container, core, bus, iommu, ctx } = machine('linux-6.x');
    const e = entry({ contextBanks: 2, streamMatchRegisters: 4 });
    const hw = armSmmuModel.createHardware(ctx, e);
    const driver = armSmmuModel.createDriver({ container, core, bus, iommu, profile: 'linux-6.x', entries: [e] });
    expect(driver.initcalls.map((c) => `${c.level}:${c.name}`)).toEqual(['core:arm_smmu_init', 'late:arm_smmu_legacy_bus_init']);
    for (const c of driver.initcalls) c.run();
    bus.core.createAndAddDevice(bus.platform.createDevice(hw.fwnode, null, 'smmu0'));
    core.sched.runUntilIdle();
    expect(driver.report(e, (d) => d.name)).toEqual({ name: 'smmu0', contextBanks: 2, contextBanksUsed: 0, domains: [] });
    expect(driver.stateKeys()).toEqual(['smmu0:0']);

    const faults: IommuTransactionFault[] = [];
    const hop = hw.hop({ device: 'm0', ids: () => [7], fault: (f) => faults.push(f) });
    expect(hop.translate(0x1000, 64, 'read')).toMatchObject({ ok: false, fault: 'iommu-fault' });
    expect(faults).toEqual([expect.objectContaining({ id: 7, iova: 0x1000, access: 'read' })]);
    // a master with no stream id yet (a PCI function before enumeration) is not translated
    expect(hw.hop({ device: 'm1', ids: () => null, fault: () => undefined }).translate(0x1000, 64, 'write')).toEqual({ ok: true, addr: 0x1000, length: 64 });
  });
});

describe('an SMMU a device tree describes', () => {
  it('gets its preset counts, capped by the register window, and dma-coherent as coherentWalk', () => {
    const keys = (node: IommuDevicetreeNode) => armSmmuModel.devicetreeKeys!(node);
    expect(keys({ compatible: 'arm,mmu-401', regSize: 0x10000, dmaCoherent: true })).toEqual({ contextBanks: 4, streamMatchRegisters: 32, coherentWalk: true });
    expect(keys({ compatible: 'arm,smmu-v1', regSize: 0x10000, dmaCoherent: false })).toEqual({ contextBanks: 8, streamMatchRegisters: 16, coherentWalk: false });
    // a 16 KiB window holds two context-bank pages
    expect(keys({ compatible: 'arm,mmu-500', regSize: 0x4000, dmaCoherent: true })).toMatchObject({ contextBanks: 2 });
    // what it derives passes its own board checks
    expect(armSmmuModel.checkBoardKeys(keys({ compatible: 'arm,mmu-400', regSize: 0x10000, dmaCoherent: true }), { name: 's', compatible: 'arm,mmu-400', base: 0, size: 0x10000, masters: [], keys: {} })).toEqual([]);
  });
});
