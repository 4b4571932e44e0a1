import { describe, expect, it } from 'vitest';
import { ENOSPC, GFP_KERNEL } from '@dmasim/core';
import { IOMMU_READ, IOMMU_WRITE, iommuMap } from '@dmasim/iommu-core';
import * as R from '../hw/regs';
import type { ArmSmmuDomain } from './domain';
import { makeDriverRig, SMMU_BASE, type DriverRig } from './test-setup';

const PFX = `arm-smmu ${SMMU_BASE.toString(16)}.iommu: `;
const NAMES = ['lan', 'sata', 'slot0', 'slot1', 'slot2', 'slot3'];

/** Juno's PCIe SMMU (4 banks) with six masters, stream ids 0..5, added in order. */
function sixMasters(rig: DriverRig): ReturnType<DriverRig['master']>[] {
  return NAMES.map((n, i) => rig.master(n, [{ node: 'smmu0', args: [i] }]));
}

describe('arm-smmu: context bank exhaustion (6 masters, 4 banks)', () => {
  it('per-group default domains: 4 attach, 2 fail with -ENOSPC', () => {
    const rig = makeDriverRig({ hw: { model: 'mmu-401' } });
    const devs = sixMasters(rig);
    const smmu = rig.driver.instances[0]!;
    expect(smmu.contextBanksUsed).toBe(4);
    const attached = devs.filter((d) => rig.iommu.iommuGetDmaDomain(d) !== null);
    expect(attached.map((d) => d.name)).toEqual(NAMES.slice(0, 4));
    const banks = attached.map((d) => (rig.iommu.iommuGetDmaDomain(d) as ArmSmmuDomain).contextBank);
    expect(new Set(banks)).toEqual(new Set([0, 1, 2, 3]));
    // The two left over: the core reports the attach error, and they keep no stream map entry.
    for (const d of devs.slice(4)) {
      expect(rig.lines()).toContain(`test-dma-master ${d.name}: iommu configuration for device failed with -ENOSPC`);
      expect(rig.driver.masterCfg(d)).toBeUndefined();
    }
    // Straight to the driver: a fifth paging domain cannot get a bank either.
    const dom = rig.iommu.iommuPagingDomainAlloc(devs[0]!) as ArmSmmuDomain;
    expect(dom.ops.attachDev(dom, devs[0]!)).toBe(-ENOSPC);
    expect(smmu.streamMap.used).toBe(4);
  });

  it('6.x: the failed first attach of a default domain WARNs from iommu_setup_default_domain, at add and at bind', () => {
    const rig = makeDriverRig({ hw: { model: 'mmu-401' } });
    sixMasters(rig);
    const warnings = rig.lines().filter((l) => l === 'WARNING: CPU: 0 PID: 1 at drivers/iommu/iommu.c iommu_setup_default_domain');
    // two masters, each at device add and again when its driver binds
    expect(warnings).toHaveLength(4);
    expect(rig.lines()).toContain('Call trace:');
    expect(rig.lines()).toContain(' iommu_setup_default_domain');
  });

  it('with bypass allowed, the failed masters DMA untranslated: an IOVA is used as a physical address', () => {
    const rig = makeDriverRig({ hw: { model: 'mmu-401' }, disableBypass: false });
    sixMasters(rig);
    const buffer = rig.core.pages.allocPages(0, GFP_KERNEL)!;
    const iova = 0x0010_0000; // what the device was told to use, as if it were behind its own domain
    const before = new Uint8Array(4);
    rig.core.memory.read(iova, before);
    const t = rig.hw.translate(5, iova, 'write', 4);
    expect(t).toEqual({ ok: true, phys: iova, length: 4 });
    if (t.ok) rig.core.memory.write(t.phys, new Uint8Array([1, 2, 3, 4]));
    const atIova = new Uint8Array(4);
    const atBuffer = new Uint8Array(4);
    rig.core.memory.read(iova, atIova);
    rig.core.memory.read(buffer, atBuffer);
    expect([...atIova]).toEqual([1, 2, 3, 4]); // landed on whatever lives at that physical address
    expect([...atBuffer]).not.toEqual([1, 2, 3, 4]); // and not in the buffer
    expect(rig.hw.counters.bypasses).toBeGreaterThan(0);
    rig.irqs();
    expect(rig.driver.faults).toHaveLength(0);
  });

  it('with disable_bypass, the failed masters fault: Blocked unknown Stream ID', () => {
    const rig = makeDriverRig({ hw: { model: 'mmu-401' }, disableBypass: true });
    sixMasters(rig);
    const t = rig.hw.translate(5, 0x0010_0000, 'write', 4);
    expect(t.ok).toBe(false);
    const mark = rig.core.log.lines.length;
    rig.irqs();
    const lines = rig.lines(mark);
    expect(lines).toContain(`${PFX}Blocked unknown Stream ID 0x5; boot with "arm-smmu.disable_bypass=0" to allow, but this may have security implications`);
    expect(lines).toContain(`${PFX}\tGFSR 0x${R.SGFSR_USF.toString(16).padStart(8, '0')}, GFSYNR0 0x${R.SGFSYNR0_WNR.toString(16).padStart(8, '0')}, GFSYNR1 0x00000005, GFSYNR2 0x00000000`);
    expect(rig.core.mmio.readl(SMMU_BASE + R.GR0_SGFSR)).toBe(0);
  });

  it('one shared DMA domain per SMMU: all six share one bank', () => {
    const rig = makeDriverRig({ hw: { model: 'mmu-401' }, defaultDomainPolicy: 'per-iommu' });
    const devs = sixMasters(rig);
    const doms = new Set(devs.map((d) => rig.iommu.iommuGetDmaDomain(d)));
    expect(doms.size).toBe(1);
    const dom = [...doms][0] as ArmSmmuDomain;
    expect(dom.devices.size).toBe(6);
    expect(rig.driver.instances[0]!.contextBanksUsed).toBe(1);
    const page = rig.core.pages.allocPages(0, GFP_KERNEL)!;
    iommuMap(dom, 0x8000, page, 4096, IOMMU_READ | IOMMU_WRITE);
    for (let sid = 0; sid < 6; sid++) expect(rig.hw.translate(sid, 0x8004, 'read')).toEqual({ ok: true, phys: page + 4, length: 4092 });
  });
});

describe('arm-smmu: stream ids and groups', () => {
  it('masters sharing a stream id (Juno EHCI/OHCI) share one group and one SMR', () => {
    const rig = makeDriverRig({ hw: { model: 'mmu-401', numContextBanks: 1, numStreamMatchRegisters: 2 } });
    const ohci = rig.master('ohci', [{ node: 'smmu0', args: [0] }]);
    const ehci = rig.master('ehci', [{ node: 'smmu0', args: [0] }]);
    expect(rig.iommu.devIommuGroup(ohci)).toBe(rig.iommu.devIommuGroup(ehci));
    expect(rig.iommu.iommuGetDmaDomain(ehci)).toBe(rig.iommu.iommuGetDmaDomain(ohci));
    const sm = rig.driver.instances[0]!.streamMap;
    expect(sm.used).toBe(1);
    expect(sm.s2crs[0]!.count).toBe(2);
    expect(rig.core.mmio.readl(SMMU_BASE + R.gr0Smr(1)) & R.SMR_VALID).toBe(0);
    rig.bus.core.deviceDel(ohci);
    expect(sm.used).toBe(1);
    rig.bus.core.deviceDel(ehci);
    expect(sm.used).toBe(0);
    expect(rig.core.mmio.readl(SMMU_BASE + R.gr0Smr(0)) & R.SMR_VALID).toBe(0);
  });

  it('a two-cell specifier programs the SMR mask; stream-match-mask is the default mask', () => {
    const rig = makeDriverRig({ hw: { model: 'mmu-500', numContextBanks: 4 }, extraProps: { 'stream-match-mask': 0x7f00 } });
    rig.master('dma', [{ node: 'smmu0', args: [0x10, 0x3] }]);
    rig.master('nic', [{ node: 'smmu0', args: [0x20] }]);
    const smr = (i: number): number => rig.core.mmio.readl(SMMU_BASE + R.gr0Smr(i));
    expect(smr(0)).toBe((R.SMR_VALID | (0x3 << R.SMR_MASK_SHIFT) | 0x10) >>> 0);
    expect(smr(1)).toBe((R.SMR_VALID | (0x7f00 << R.SMR_MASK_SHIFT) | 0x20) >>> 0);
    expect(rig.hw.translate(0x13, 0, 'read').ok).toBe(false); // matched (by mask) into an empty domain: a context fault
    expect(rig.hw.counters.contextFaults).toBe(1);
  });

  it('2015: mmu-masters on the SMMU node, bus_set_iommu and add_device; platform devices get one group each', () => {
    const rig = makeDriverRig({
      hw: { model: 'mmu-400' },
      profile: 'linux-4.2',
      mmuMasters: [{ node: 'sata', streamIds: [0] }, { node: 'xgmac', streamIds: [1, 2] }],
    });
    expect(rig.lines()).toContain(`${PFX}registered 2 master devices`);
    const sata = rig.master('sata');
    expect(rig.driver.busInit([rig.bus.platform])).toBe(0);
    const xgmac = rig.master('xgmac');
    const other = rig.master('uart');
    expect(rig.iommu.devIommuGroup(sata)).not.toBeNull();
    expect(rig.iommu.devIommuGroup(xgmac)).not.toBe(rig.iommu.devIommuGroup(sata));
    expect(rig.iommu.devIommuGroup(other)).toBeNull();
    expect(rig.driver.masterCfg(xgmac)?.smendx).toHaveLength(2);
    // No default domain for platform groups in 2015: the arch code attaches its own domain.
    expect(rig.iommu.iommuGetDmaDomain(sata)).toBeNull();
    const dom = rig.iommu.iommuDomainAlloc(rig.host) as ArmSmmuDomain;
    expect(rig.iommu.iommuAttachDevice(dom, xgmac)).toBe(0);
    expect(dom.stage).toBe('s2');
    const idx = rig.driver.masterCfg(xgmac)!.smendx[1]!;
    expect(rig.core.mmio.readl(SMMU_BASE + R.gr0S2cr(idx))).toBe((R.S2CR_TYPE_TRANS << R.S2CR_TYPE_SHIFT) | dom.contextBank!);
    // Detach puts the entries back to bypass (2015 default).
    rig.iommu.iommuDetachDevice(dom, xgmac);
    expect((rig.core.mmio.readl(SMMU_BASE + R.gr0S2cr(idx)) >>> R.S2CR_TYPE_SHIFT) & 3).toBe(R.S2CR_TYPE_BYPASS);
  });

  it('2015: SMRs are taken at attach, one per master with no sharing, and given back at detach', () => {
    // Juno's USB SMMU: EHCI and OHCI both emit stream 0; two SMRs, one or two context banks
    const setup = (banks: number): { rig: DriverRig; ohci: ReturnType<DriverRig['master']>; ehci: ReturnType<DriverRig['master']> } => {
      const rig = makeDriverRig({
        hw: { model: 'mmu-401', numContextBanks: banks, numStreamMatchRegisters: 2 },
        profile: 'linux-4.2',
        mmuMasters: [{ node: 'ohci', streamIds: [0] }, { node: 'ehci', streamIds: [0] }],
      });
      expect(rig.driver.busInit([rig.bus.platform])).toBe(0);
      return { rig, ohci: rig.master('ohci'), ehci: rig.master('ehci') };
    };
    const valid = (rig: DriverRig): number => [0, 1].filter((i) => (rig.core.mmio.readl(SMMU_BASE + R.gr0Smr(i)) & R.SMR_VALID) !== 0).length;

    // One bank: add_device takes no SMR; the second attach fails for want of a bank before touching
    // the stream map, so EHCI's stream 0 still lands in OHCI's context
    const one = setup(1);
    expect(valid(one.rig)).toBe(0);
    const d1 = one.rig.iommu.iommuDomainAlloc(one.rig.host) as ArmSmmuDomain;
    const d2 = one.rig.iommu.iommuDomainAlloc(one.rig.host) as ArmSmmuDomain;
    expect(one.rig.iommu.iommuAttachDevice(d1, one.ohci)).toBe(0);
    expect(one.rig.iommu.iommuAttachDevice(d2, one.ehci)).toBe(-ENOSPC);
    expect(valid(one.rig)).toBe(1);
    expect(one.rig.hw.translate(0, 0x80000000, 'read').ok).toBe(false);
    expect(one.rig.hw.counters.contextFaults).toBe(1);
    one.rig.iommu.iommuDetachDevice(d1, one.ohci);
    expect(valid(one.rig)).toBe(0);
    expect(one.rig.hw.translate(0, 0x80000000, 'read')).toMatchObject({ ok: true, phys: 0x80000000 });

    // Two banks: both attach, each with its own SMR for id 0: a stream match conflict in hardware
    const two = setup(2);
    expect(two.rig.iommu.iommuAttachDevice(two.rig.iommu.iommuDomainAlloc(two.rig.host)!, two.ohci)).toBe(0);
    expect(two.rig.iommu.iommuAttachDevice(two.rig.iommu.iommuDomainAlloc(two.rig.host)!, two.ehci)).toBe(0);
    expect(valid(two.rig)).toBe(2);
    const t = two.rig.hw.translate(0, 0x1000, 'read');
    expect(t.ok ? null : t.fault.kind).toBe('stream-match-conflict');
  });

  it('later kernels with the legacy binding: identity default domains, streams bypass', () => {
    const rig = makeDriverRig({ hw: { model: 'mmu-401' }, mmuMasters: [{ node: 'sata', streamIds: [4] }] });
    expect(rig.lines()).toContain('arm-smmu: deprecated "mmu-masters" DT property in use; DMA API support unavailable');
    expect(rig.driver.busInit([rig.bus.platform])).toBe(0);
    const sata = rig.master('sata');
    expect(rig.iommu.iommuGetDmaDomain(sata)?.type).toBe('IDENTITY');
    expect(rig.hw.translate(4, 0x5000, 'read')).toEqual({ ok: true, phys: 0x5000, length: 4096 });
  });
});

describe('arm-smmu: capabilities', () => {
  it('answers DEFERRED_FLUSH (unmap only posts invalidations), so lazy DMA domains can use a flush queue', () => {
    const rig = makeDriverRig({ hw: { model: 'mmu-500', numContextBanks: 8 } });
    const dev = rig.master('nic', [{ node: 'smmu0', args: [1] }]);
    expect(rig.iommu.deviceIommuCapable(dev, 'DEFERRED_FLUSH')).toBe(true);
    expect(rig.iommu.deviceIommuCapable(dev, 'NOEXEC')).toBe(true);
    expect(rig.iommu.deviceIommuCapable(dev, 'DIRTY_TRACKING')).toBe(false);
  });
});
