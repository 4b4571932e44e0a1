import { EPROBE_DEFER, KernelLog, MmioBus, Scheduler } from '@dmasim/core';
import { describe, expect, it } from 'vitest';
import { AMBA_CID, type AmbaDriver } from './amba';
import { createBusServices } from './di';
import { FwNode } from './fwnode';
import { PCI_SECONDARY_BUS, PCI_SUBORDINATE_BUS, pciDevfn } from './pci/config';
import { PciBridgeHw, PciFunctionHw, PciHostBridgeHw } from './pci/hw';
import { PCI_ANY_ID, PciHostBridge, type PciDev, type PciDriver, pciScanAndAdd } from './pci/pci-bus';
import { ofMatchDevice, type PlatformDriver } from './platform';
import { makeBus, platformDrv } from './test-helpers';

describe('platform bus', () => {
  it('matches by compatible first, picking the most specific entry, then id table, then name', () => {
    const b = makeBus();
    const node = new FwNode('gpu', { compatible: ['brcm,2711-v3d', 'brcm,v3d'] });
    expect(ofMatchDevice([{ compatible: 'brcm,v3d', data: 'generic' }, { compatible: 'brcm,2711-v3d', data: 'bcm2711' }], node)?.data).toBe('bcm2711');
    const byName: PlatformDriver = { name: 'serial8250', bus: b.platform };
    const byId: PlatformDriver = { name: 'idmatch', bus: b.platform, idTable: [{ name: 'rtc-pl031', data: 7 }] };
    const probedWith: unknown[] = [];
    const v3d = platformDrv(b, 'v3d', 'brcm,v3d', (d) => (probedWith.push(d.ofMatch?.compatible), 0));
    for (const drv of [byName, byId, v3d]) b.core.driverRegister(drv);
    const gpu = b.platform.createDevice(node);
    const serial = b.platform.createDevice(new FwNode('serial8250'));
    const rtc = b.platform.createDevice(new FwNode('rtc-pl031'));
    for (const d of [gpu, serial, rtc]) b.core.deviceAdd(d);
    expect([gpu.driverName, serial.driverName, rtc.driverName]).toEqual(['v3d', 'serial8250', 'idmatch']);
    expect(probedWith).toEqual(['brcm,v3d']);
    expect(rtc.idEntry?.data).toBe(7);
  });

  it('driver_override binds only the named driver; a disabled node never matches by compatible', () => {
    const b = makeBus();
    b.core.driverRegister(platformDrv(b, 'a', 'x,dev'));
    b.core.driverRegister(platformDrv(b, 'b', 'y,other'));
    const d = b.platform.createDevice(new FwNode('d', { compatible: ['x,dev'] }));
    d.driverOverride = 'b';
    b.core.deviceAdd(d);
    expect(d.driverName).toBe('b');
    const off = b.platform.createDevice(new FwNode('off', { compatible: ['x,dev'], status: 'disabled' }));
    b.core.deviceAdd(off);
    expect(off.state).toBe('no-driver');
  });
});

describe('AMBA bus', () => {
  const pl330: (b: ReturnType<typeof makeBus>, probed: string[]) => AmbaDriver = (b, probed) => ({
    name: 'dma-pl330',
    bus: b.amba,
    idTable: [{ id: 0x00041330, mask: 0x000fffff, data: 'pl330' }],
    probe: (dev, id) => (probed.push(`${dev.name}:${String(id.data)}`), 0),
  });

  it('reads the peripheral id from the id registers through MMIO and matches under the mask', () => {
    const s = new Scheduler();
    const log = new KernelLog(() => s.now);
    const mmio = new MmioBus(log);
    const regs = new Map<number, number>();
    const pid = 0x00241330; // revision 2 of the part: matches under the mask
    for (let i = 0; i < 4; i++) {
      regs.set(0xfe0 + 4 * i, (pid >>> (8 * i)) & 0xff);
      regs.set(0xff0 + 4 * i, (AMBA_CID >>> (8 * i)) & 0xff);
    }
    mmio.map('dma0', 0x7e007000, 0x1000, { read32: (o) => regs.get(o) ?? 0, write32: () => undefined });
    const b = { ...createBusServices({ log, sched: s, mmio }), log, sched: s };
    const probed: string[] = [];
    b.core.driverRegister(pl330(b, probed));
    const dev = b.amba.createDevice(new FwNode('dma0', { reg: [0x7e007000, 0x1000] }));
    b.core.deviceAdd(dev);
    expect(dev.periphid).toBe(pid);
    expect(probed).toEqual(['dma0:pl330']);
  });

  it('defers a device whose id cannot be read yet and matches it on a later retry', () => {
    const b = makeBus({ queueLateInitcall: false });
    b.core.deferredProbeInitcall();
    const probed: string[] = [];
    b.core.driverRegister(pl330(b, probed));
    const dev = b.amba.createDevice(new FwNode('dma1', { reg: [0x1000, 0x1000] }));
    let clockOn = false;
    dev.readIds = () => (clockOn ? { pid: 0x00041330, cid: AMBA_CID } : -EPROBE_DEFER);
    b.core.deviceAdd(dev);
    expect(dev.state).toBe('deferred');
    clockOn = true;
    // any successful bind elsewhere retriggers the deferred list
    b.core.driverRegister(platformDrv(b, 'clk', 'x,clk'));
    b.core.deviceAdd(b.platform.createDevice(new FwNode('clk', { compatible: ['x,clk'] })));
    b.sched.runUntilIdle();
    expect(probed).toEqual(['dma1:pl330']);
    expect(dev.state).toBe('bound');
  });

  it('a wrong component id is never a match (it keeps deferring, as the kernel maps it)', () => {
    const b = makeBus({ queueLateInitcall: false });
    const probed: string[] = [];
    b.core.driverRegister(pl330(b, probed));
    const dev = b.amba.createDevice(new FwNode('junk', { reg: [0, 0x1000] }));
    dev.readIds = () => ({ pid: 0x00041330, cid: 0x12345678 });
    b.core.deviceAdd(dev);
    expect(dev.periphid).toBe(0);
    expect(dev.state).toBe('deferred');
    expect(probed).toEqual([]);
  });

  it('uses a fixed arm,primecell-periphid without reading registers', () => {
    const b = makeBus();
    const probed: string[] = [];
    b.core.driverRegister(pl330(b, probed));
    const dev = b.amba.createDevice(new FwNode('dma2', { reg: [0, 0x1000], 'arm,primecell-periphid': 0x00041330 }));
    dev.readIds = () => { throw new Error('must not read'); };
    b.core.deviceAdd(dev);
    expect(probed).toEqual(['dma2:pl330']);
  });
});

describe('PCI bus', () => {
  /** Root bus: a NIC at 00:00.0 and a bridge at 00:01.0 with an NVMe (2 functions) and a nested bridge behind it. */
  function topology() {
    const host = new PciHostBridgeHw(0);
    const nic = new PciFunctionHw({ vendor: 0x11ab, device: 0x4380, classCode: 0x020000 });
    const bridge = new PciBridgeHw({ vendor: 0x1b36, device: 0x000c });
    const nvme = new PciFunctionHw({ vendor: 0x1b36, device: 0x0010, classCode: 0x010802 });
    const nvme1 = new PciFunctionHw({ vendor: 0x1b36, device: 0x0010, classCode: 0x010802 });
    const inner = new PciBridgeHw({ vendor: 0x1b36, device: 0x000c });
    const leaf = new PciFunctionHw({ vendor: 0x1b36, device: 0x0005, classCode: 0xff0000 });
    host.root.attach(0, 0, nic).attach(1, 0, bridge);
    bridge.secondary.attach(0, 0, nvme).attach(0, 1, nvme1).attach(3, 0, inner);
    inner.secondary.attach(2, 0, leaf);
    return { host, bridge, inner };
  }

  it('enumerates behind bridges, numbering buses depth first, with names and requester ids', () => {
    const b = makeBus();
    const { host, bridge, inner } = topology();
    const hb = new PciHostBridge(host, new FwNode('pcie0', { 'iommu-map': [{ ridBase: 0, iommu: 'smmu0', iommuBase: 0, length: 0x10000 }] }));
    const added: string[] = [];
    b.core.on('deviceAdded', (e) => added.push(e.device.name));
    const devs = pciScanAndAdd(b.core, b.pci, hb);
    expect(added).toEqual(['pci0000:00', '0000:00:00.0', '0000:00:01.0', '0000:01:00.0', '0000:01:00.1', '0000:01:03.0', '0000:02:02.0']);
    expect(devs.map((d) => d.requesterId)).toEqual([0x0000, 0x0008, 0x0100, 0x0101, 0x0118, 0x0210]);
    expect([bridge.config[PCI_SECONDARY_BUS], bridge.config[PCI_SUBORDINATE_BUS]]).toEqual([1, 2]);
    expect([inner.config[PCI_SECONDARY_BUS], inner.config[PCI_SUBORDINATE_BUS]]).toEqual([2, 2]);
    const leaf = devs.at(-1)!;
    expect(leaf.parent?.name).toBe('0000:01:03.0');
    expect(leaf.upstreamBridge?.upstreamBridge?.name).toBe('0000:00:01.0');
    expect(leaf.hostBridge.fwnode.get('iommu-map')?.[0]?.iommu).toBe('smmu0');
    // config cycles for a bus number nobody claims read all ones
    expect(host.configRead(5, pciDevfn(0, 0), 0, 4)).toBe(0xffffffff);
  });

  it('matches drivers by vendor/device id tables, wildcards and class masks', () => {
    const b = makeBus();
    const probed: string[] = [];
    const nvmeDrv: PciDriver = { name: 'nvme', bus: b.pci, idTable: [{ vendor: PCI_ANY_ID, device: PCI_ANY_ID, class: 0x010802, classMask: 0xffffff }], probe: (d, id) => (probed.push(`nvme ${d.name} ${id.class?.toString(16)}`), 0) };
    const nicDrv: PciDriver = { name: 'sky2', bus: b.pci, idTable: [{ vendor: 0x11ab, device: 0x4380 }], probe: (d: PciDev) => (probed.push(`sky2 ${d.name}`), 0) };
    b.core.driverRegister(nvmeDrv);
    b.core.driverRegister(nicDrv);
    const devs = pciScanAndAdd(b.core, b.pci, new PciHostBridge(topology().host, new FwNode('pcie0')));
    expect(probed).toEqual(['sky2 0000:00:00.0', 'nvme 0000:01:00.0 10802', 'nvme 0000:01:00.1 10802']);
    expect(devs.filter((d) => d.state === 'no-driver').map((d) => d.name)).toEqual(['0000:00:01.0', '0000:01:03.0', '0000:02:02.0']);
  });
});
