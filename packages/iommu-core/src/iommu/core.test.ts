import { describe, expect, it } from 'vitest';
import { EBUSY, EINVAL, ENODEV, EPROBE_DEFER, KiB } from '@dmasim/core';
import { DEV_IOMMU_SLOT } from './fwspec';
import { iommuIovaToPhys, iommuMap } from './map';
import { master, rig } from './test-setup';
import type { FakeDomain } from './testing';
import { IOMMU_READ } from './types';

describe('malformed firmware (found by the board fuzzer)', () => {
  it('an iommus property that is not phandle+args fails of_iommu_configure with -EINVAL and is logged, not thrown', () => {
    const { core, bus, smmu, log } = rig();
    core.iommuSubsysInit([bus]);
    expect(core.iommuDeviceRegister(smmu.iommu)).toBe(0);
    const dev = master('m3', null);
    dev.fwnode.set('iommus', 65535 as unknown as []);
    expect(core.ofIommuConfigure(dev)).toBe(-EINVAL);
    expect(core.iommuDmaConfigure(dev)).toBe(0);
    expect(log.lines.map((l) => l.text)).toContain('m3: iommu configuration for device failed with -EINVAL');
  });
});

describe('default domains (later kernels: per-device probe)', () => {
  it('gives each device its own group and DMA domain, group ids in allocation order', () => {
    const { core, bus, smmu, log } = rig();
    core.iommuSubsysInit([bus]);
    expect(core.iommuDeviceRegister(smmu.iommu)).toBe(0);
    const a = master('sata', 'smmu0', 0);
    const b = master('xgmac', 'smmu0', 1);
    bus.addDevice(a);
    bus.addDevice(b);
    expect(core.devIommuGroup(a)?.id).toBe(0);
    expect(core.devIommuGroup(b)?.id).toBe(1);
    const da = core.iommuGetDmaDomain(a);
    const db = core.iommuGetDmaDomain(b);
    expect(da?.type).toBe('DMA');
    expect(da).not.toBe(db);
    expect(core.iommuGetDomainForDev(a)).toBe(da);
    expect((da as FakeDomain).attached.has(a)).toBe(true);
    expect(log.format()).toContain('[    0.000000] iommu: Default domain type: Translated');
    expect(log.lines.map((l) => l.text)).toContain('platform sata: Adding to iommu group 0');
  });

  it('shares one DMA domain per IOMMU instance under the per-iommu policy', () => {
    const { core, bus, smmu } = rig({ defaultDomainPolicy: 'per-iommu' });
    core.iommuSubsysInit([bus]);
    core.iommuDeviceRegister(smmu.iommu);
    const devs = ['a', 'b', 'c'].map((n, i) => master(n, 'smmu0', i));
    devs.forEach((d) => bus.addDevice(d));
    const groups = new Set(devs.map((d) => core.devIommuGroup(d)));
    const domains = new Set(devs.map((d) => core.iommuGetDmaDomain(d)));
    expect(groups.size).toBe(3);
    expect(domains.size).toBe(1);
    expect(core.sharedDefaultDomain(smmu.iommu)).toBe([...domains][0]);
  });

  it('fits six devices behind a 4-context IOMMU only with the per-iommu policy', () => {
    for (const [policy, expectedOk] of [['per-group', 4], ['per-iommu', 6]] as const) {
      const { core, bus, smmu } = rig({ defaultDomainPolicy: policy }, { contexts: 4 });
      core.iommuSubsysInit([bus]);
      core.iommuDeviceRegister(smmu.iommu);
      const devs = [0, 1, 2, 3, 4, 5].map((i) => master(`pcie${i}`, 'smmu0', i));
      devs.forEach((d) => bus.addDevice(d));
      expect(devs.filter((d) => core.iommuGetDmaDomain(d) !== null).length).toBe(expectedOk);
      expect(smmu.contextsInUse).toBeLessThanOrEqual(4);
    }
  });

  it('uses the identity type when asked, and falls back to DMA when the driver has none', () => {
    const pt = rig({ defaultDomainType: 'IDENTITY' });
    pt.core.iommuSubsysInit([pt.bus]);
    pt.core.iommuDeviceRegister(pt.smmu.iommu);
    const d = master('d', 'smmu0', 3);
    pt.bus.addDevice(d);
    expect(pt.core.iommuGetDmaDomain(d)?.type).toBe('IDENTITY');
    expect(pt.log.lines[0]?.text).toBe('iommu: Default domain type: Passthrough');

    const fb = rig({ defaultDomainType: 'IDENTITY' }, { supportsIdentity: false });
    fb.core.iommuSubsysInit([fb.bus]);
    fb.core.iommuDeviceRegister(fb.smmu.iommu);
    const e = master('e', 'smmu0', 3);
    fb.bus.addDevice(e);
    expect(fb.core.iommuGetDmaDomain(e)?.type).toBe('DMA');
    expect(fb.log.lines.some((l) => l.text.startsWith('iommu: Failed to allocate default IOMMU domain of type 4'))).toBe(true);
  });

  it('makes lazy (DMA_FQ) default domains when not strict', () => {
    const { core, bus, smmu, log } = rig({ strict: false });
    core.iommuSubsysInit([bus]);
    core.iommuDeviceRegister(smmu.iommu);
    const d = master('d', 'smmu0', 1);
    bus.addDevice(d);
    expect(core.iommuGetDmaDomain(d)?.type).toBe('DMA_FQ');
    expect(log.lines[1]?.text).toBe('iommu: DMA domain TLB invalidation policy: lazy mode');
  });

  it('puts devices sharing a stream id in one group through the driver deviceGroup', () => {
    const { core, bus, smmu } = rig({}, { groupByStreamId: true });
    core.iommuSubsysInit([bus]);
    core.iommuDeviceRegister(smmu.iommu);
    const ehci = master('ehci', 'smmu0', 0xd00);
    const ohci = master('ohci', 'smmu0', 0xd00);
    const other = master('dma', 'smmu0', 0xd01);
    [ehci, ohci, other].forEach((d) => bus.addDevice(d));
    expect(core.devIommuGroup(ehci)).toBe(core.devIommuGroup(ohci));
    expect(core.devIommuGroup(other)).not.toBe(core.devIommuGroup(ehci));
    expect(core.iommuGetDmaDomain(ohci)).toBe(core.iommuGetDmaDomain(ehci));
    expect(core.groups.map((g) => g.deviceCount)).toEqual([2, 1]);
  });

  it('releases groups and ids on removal, and reuses the lowest free id', () => {
    const { core, bus, smmu } = rig();
    core.iommuSubsysInit([bus]);
    core.iommuDeviceRegister(smmu.iommu);
    const a = master('a', 'smmu0', 1);
    const b = master('b', 'smmu0', 2);
    bus.addDevice(a);
    bus.addDevice(b);
    const dom = core.iommuGetDmaDomain(a);
    bus.removeDevice(a);
    expect(core.devIommuGroup(a)).toBeNull();
    expect(dom?.freed).toBe(true);
    const c = master('c', 'smmu0', 3);
    bus.addDevice(c);
    expect(core.devIommuGroup(c)?.id).toBe(0);
  });
});

describe('attach rules', () => {
  function twoInOneGroup() {
    const r = rig({}, { groupByStreamId: true });
    r.core.iommuSubsysInit([r.bus]);
    r.core.iommuDeviceRegister(r.smmu.iommu);
    const ehci = master('ehci', 'smmu0', 7);
    const ohci = master('ohci', 'smmu0', 7);
    const solo = master('solo', 'smmu0', 8);
    [ehci, ohci, solo].forEach((d) => r.bus.addDevice(d));
    return { ...r, ehci, ohci, solo };
  }

  it('refuses iommuAttachDevice for a device whose group has other devices', () => {
    const { core, ehci, solo } = twoInOneGroup();
    const dom = core.iommuPagingDomainAlloc(solo);
    if (typeof dom === 'number') throw new Error('no domain');
    expect(core.iommuAttachDevice(dom, ehci)).toBe(-EINVAL);
    expect(core.iommuAttachDevice(dom, solo)).toBe(0);
    expect(core.iommuGetDomainForDev(solo)).toBe(dom);
    // A second unmanaged domain while one is attached: busy.
    const other = core.iommuPagingDomainAlloc(solo);
    if (typeof other === 'number') throw new Error('no domain');
    expect(core.iommuAttachDevice(other, solo)).toBe(-EBUSY);
    core.iommuDetachDevice(dom, solo);
    expect(core.iommuGetDomainForDev(solo)).toBe(core.iommuGetDmaDomain(solo));
  });

  it('attaches and detaches a whole group', () => {
    const { core, ehci, ohci } = twoInOneGroup();
    const group = core.devIommuGroup(ehci);
    const dom = core.iommuPagingDomainAlloc(ehci);
    if (group === null || typeof dom === 'number') throw new Error('setup');
    expect(core.iommuAttachGroup(dom, group)).toBe(0);
    expect((dom as FakeDomain).attached).toEqual(new Set([ehci, ohci]));
    expect(iommuMap(dom, 0x1000, 0x5000, 4 * KiB, IOMMU_READ)).toBe(0);
    expect(iommuIovaToPhys(dom, 0x1000)).toBe(0x5000);
    core.iommuDetachGroup(dom, group);
    expect(core.iommuGetDomainForDev(ohci)).toBe(group.defaultDomain);
  });

  it('refuses a domain from another IOMMU driver, and a device without a group', () => {
    const a = rig();
    const b = rig();
    a.core.iommuSubsysInit([a.bus]);
    a.core.iommuDeviceRegister(a.smmu.iommu);
    const d = master('d', 'smmu0', 1);
    a.bus.addDevice(d);
    const foreign = b.smmu.ops.domainAlloc('UNMANAGED');
    if (foreign === null) throw new Error('setup');
    foreign.owner = b.smmu.ops;
    expect(a.core.iommuAttachDevice(foreign, d)).toBe(-EINVAL);
    expect(a.core.iommuAttachDevice(foreign, master('loose', null))).toBe(-ENODEV);
  });
});

describe('6.x probe: deferral until the IOMMU instance is registered', () => {
  it('defers through the dmaConfigure hook, then probes present devices on register', () => {
    const { core, bus, smmu } = rig();
    core.iommuSubsysInit([bus]);
    const sata = master('sata', 'smmu0', 0);
    const plain = master('uart', null);
    bus.addDevice(sata);
    bus.addDevice(plain);
    expect(core.devIommuGroup(sata)).toBeNull();
    expect(core.iommuDmaConfigure(sata)).toBe(-EPROBE_DEFER);
    expect(core.iommuDmaConfigure(plain)).toBe(0);
    expect(core.ofIommuConfigure(plain)).toBe(-ENODEV);

    expect(core.iommuDeviceRegister(smmu.iommu)).toBe(0);
    expect(core.devIommuGroup(sata)).not.toBeNull();
    expect(core.iommuGetDmaDomain(sata)?.type).toBe('DMA');
    // The retried probe now goes through.
    expect(core.iommuDmaConfigure(sata)).toBe(0);
    expect(core.devIommuGroup(plain)).toBeNull();
  });

  it('reports what the driver core says about a missing IOMMU after boot', () => {
    const { core, bus } = rig();
    core.deferredProbeCheckState = () => -ENODEV;
    core.iommuSubsysInit([bus]);
    const sata = master('sata', 'smmu9', 0);
    bus.addDevice(sata);
    expect(core.iommuDmaConfigure(sata)).toBe(0);
    expect(core.ofIommuConfigure(sata)).toBe(-ENODEV);
  });

  it('collects every stream id of a device in its fwspec', () => {
    const { core, bus, smmu } = rig();
    core.iommuSubsysInit([bus]);
    core.iommuDeviceRegister(smmu.iommu);
    const d = master('multi', 'smmu0', 4, 5);
    bus.addDevice(d);
    expect(d.getSlot(DEV_IOMMU_SLOT)?.fwspec?.ids).toEqual([4, 5]);
  });
});

describe('2015: busSetIommu and the priority-0 notifier', () => {
  it('adds devices present before and added after, ahead of a priority -100 notifier', () => {
    const { core, bus, smmu } = rig({ profile: 'linux-4.2' }, { masters: ['early', 'late'] });
    const early = master('early', null);
    bus.addDevice(early);
    const seen: string[] = [];
    bus.registerNotifier({
      name: 'arm64_iommu_attach',
      priority: -100,
      notifierCall: (action, dev) => {
        if (action === 'ADD_DEVICE') seen.push(`${dev.name}:${core.devIommuGroup(dev) === null ? 'no-group' : 'group'}`);
        return 0;
      },
    });
    expect(core.busSetIommu(bus, smmu.ops)).toBe(0);
    expect(core.busSetIommu(bus, smmu.ops)).toBe(-EBUSY);
    expect(core.devIommuGroup(early)?.id).toBe(0);
    const late = master('late', null);
    bus.addDevice(late);
    expect(core.devIommuGroup(late)?.id).toBe(1);
    expect(seen).toEqual(['late:group']);
    expect(bus.calls.filter((c) => c.endsWith(':late'))).toEqual(['iommu_bus_notifier:ADD_DEVICE:late', 'arm64_iommu_attach:ADD_DEVICE:late']);
  });

  it('leaves 2015 platform groups without a default domain, but direct attach works', () => {
    const { core, bus, smmu, log } = rig({ profile: 'linux-4.2' }, { masters: ['sata'] });
    core.busSetIommu(bus, smmu.ops);
    const sata = master('sata', null);
    bus.addDevice(sata);
    expect(core.iommuGetDomainForDev(sata)).toBeNull();
    expect(log.lines.map((l) => l.text)).toContain('iommu: Adding device sata to group 0');
    // The arm64 code of seed 002 allocates its own DMA domain from the ops and attaches it.
    const dom = smmu.ops.domainAlloc('DMA');
    if (dom === null) throw new Error('setup');
    expect(core.iommuAttachDevice(dom, sata)).toBe(0);
    expect(core.iommuGetDomainForDev(sata)).toBe(dom);
  });

  it('a device not behind the IOMMU ends the 2015 chain (add_device returned -ENODEV)', () => {
    const { core, bus, smmu } = rig({ profile: 'linux-4.2' }, { masters: [] });
    core.busSetIommu(bus, smmu.ops);
    let called = false;
    bus.registerNotifier({ name: 'later', priority: -100, notifierCall: () => ((called = true), 0) });
    bus.addDevice(master('uart', null));
    expect(called).toBe(false);
  });
});
