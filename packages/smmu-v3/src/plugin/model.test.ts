import 'reflect-metadata';
import { describe, expect, it } from 'vitest';
import { iommuModelTestRig, type IommuBoardEntry, type IommuTransactionFault } from '@dmasim/iommu-core';
import { armSmmuV3Model } from './model';

const entry = (keys: Record<string, unknown>, over: Partial<IommuBoardEntry> = {}): IommuBoardEntry => ({
  name: 'smmuv3', compatible: 'arm,smmu-v3', base: 0x9050000, size: 0x20000, masters: [], keys, ...over,
});

const machine = () => iommuModelTestRig('linux-6.x', { base: 0x40000000 }, 200);

describe('the SMMUv3 as an IOMMU model plugin', () => {
  it('accepts its keys and names each problem', () => {
    expect(armSmmuV3Model.checkBoardKeys({}, entry({}))).toEqual([]);
    expect(armSmmuV3Model.checkBoardKeys({ streamIdBits: 8, stage2: true, oasBits: 48 }, entry({}))).toEqual([]);
    expect(armSmmuV3Model.checkBoardKeys({ streamIdBits: 40, oasBits: 45, stage1: false, banks: 1, coherentWalk: 'yes' }, entry({}))).toEqual([
      { key: 'banks', message: expect.stringMatching(/^unknown key for a arm,smmu-v3; expected one of streamIdBits/) as unknown },
      { key: 'streamIdBits', message: 'expected an integer from 1 to 32', found: '40' },
      { key: 'oasBits', message: 'expected one of 32, 36, 40, 42, 44, 48, 52', found: '45' },
      { key: 'coherentWalk', message: 'expected true or false', found: '"yes"' },
      { key: 'stage1', message: 'an SMMUv3 needs stage 1 or stage 2: set stage2: true to turn stage 1 off', found: 'false' },
    ]);
  });

  it('builds QEMU virt’s SMMUv3: four named interrupts, 128 KiB of registers, and refuses a smaller window', () => {
    const { core, ctx } = machine();
    const hw = armSmmuV3Model.createHardware(ctx, entry({}, { irq: 74 }));
    expect(hw.fwnode.get('interrupts')).toEqual([74, 200, 201, 202]);
    expect(hw.fwnode.get('interrupt-names')).toEqual(['eventq', 'priq', 'cmdq-sync', 'gerror']);
    expect(hw.fwnode.get('#iommu-cells')).toBe(1);
    // IDR1: CMDQS 19, EVTQS 19, SIDSIZE 16
    expect(core.mmio.readl(0x9050004)).toBe((19 << 21) | (19 << 16) | 16);
    expect(() => armSmmuV3Model.createHardware(machine().ctx, entry({}, { size: 0x10000 }))).toThrow(/^size: an arm,smmu-v3 has 131072 bytes/);
  });

  it('probes through its initcall, reports the instance, and aborts a stream with no STE', () => {
    const { container, core, bus, iommu, ctx } = machine();
    const e = entry({});
    const hw = armSmmuV3Model.createHardware(ctx, e);
    const driver = armSmmuV3Model.createDriver({ container, core, bus, iommu, profile: 'linux-6.x', entries: [e] });
    expect(driver.initcalls.map((c) => `${c.level}:${c.name}`)).toEqual(['device:arm_smmu_driver_init']);
    for (const c of driver.initcalls) c.run();
    bus.core.createAndAddDevice(bus.platform.createDevice(hw.fwnode, null, '9050000.smmuv3'));
    core.sched.runUntilIdle();
    expect(core.log.lines.some((l) => l.text === 'arm-smmu-v3 9050000.smmuv3: ias 44-bit, oas 44-bit (features 0x00008305)')).toBe(true);
    expect(driver.report(e, (d) => d.name)).toEqual({ name: 'smmuv3', streamTable: '2-level', streams: [], asidsUsed: 0, vmidsUsed: 0, events: 0, domains: [] });
    expect(driver.stateKeys()).toEqual(['smmuv3:0']);

    const faults: IommuTransactionFault[] = [];
    const hop = hw.hop({ device: 'm0', ids: () => [7], fault: (f) => faults.push(f) });
    expect(hop.translate(0x40001000, 64, 'read')).toMatchObject({ ok: false, fault: 'iommu-fault' });
    expect(faults).toEqual([{ id: 7, iova: 0x40001000, access: 'read', kind: 'bad-streamid' }]);
    core.sched.runUntilIdle();
    expect(driver.report(e, (d) => d.name)).toMatchObject({ events: 1 });
    // a master with no stream id yet passes untranslated
    expect(hw.hop({ device: 'm1', ids: () => null, fault: () => undefined }).translate(0x1000, 64, 'write')).toEqual({ ok: true, addr: 0x1000, length: 64 });
  });
});
