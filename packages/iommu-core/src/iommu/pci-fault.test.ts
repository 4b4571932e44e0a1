import { describe, expect, it } from 'vitest';
import { Device, FwNode } from '@dmasim/bus';
import { ENOSYS, KernelLog } from '@dmasim/core';
import { IommuCore } from './core';
import { reportIommuFault, iommuSetFaultHandler } from './fault';
import { DEV_IOMMU_SLOT, ofMapId } from './fwspec';
import type { PciFunctionInfo, PciePortType, PciTopology } from './pci';
import { FakeBus, FakeIommu } from './testing';
import { IOMMU_FAULT_WRITE } from './types';

/** A PCI tree built in the test: host bridge node with iommu-map, functions with their bridges. */
class TestPci implements PciTopology {
  readonly infos: PciFunctionInfo[] = [];
  readonly host = new FwNode('pcie0', { 'iommu-map': [{ ridBase: 0, iommu: 'smmu0', iommuBase: 0x10000, length: 0x10000 }] });

  add(name: string, busNumber: number, devfn: number, portType: PciePortType, upstream: PciFunctionInfo | null, extra: Partial<PciFunctionInfo> = {}): PciFunctionInfo {
    const info: PciFunctionInfo = { dev: new Device(name, new FwNode(name)), busNumber, devfn, portType, multifunction: false, acs: false, dmaAliasDevfns: [], upstream, ...extra };
    this.infos.push(info);
    return info;
  }
  lookup(dev: Device): PciFunctionInfo | null {
    return this.infos.find((i) => i.dev === dev) ?? null;
  }
  functions(): Iterable<PciFunctionInfo> {
    return this.infos;
  }
  hostBridgeNode(): FwNode {
    return this.host;
  }
}

function pciRig() {
  const log = new KernelLog();
  const pci = new TestPci();
  const core = new IommuCore({ log, pci });
  const bus = new FakeBus('pci');
  const smmu = new FakeIommu(core, { fwnode: 'smmu0' });
  core.iommuSubsysInit([bus]);
  core.iommuDeviceRegister(smmu.iommu);
  return { log, pci, core, bus, smmu };
}

describe('PCI grouping', () => {
  it('groups functions behind a PCIe-to-PCI bridge with the bridge, and isolates PCIe endpoints', () => {
    const { pci, core, bus } = pciRig();
    const rp = pci.add('rp', 0, 0x08, 'root-port', null, { acs: true, subordinateBus: 1 });
    const nic = pci.add('nic', 1, 0x00, 'endpoint', rp, { acs: true });
    const br = pci.add('br', 1, 0x08, 'pcie-to-pci', rp, { subordinateBus: 2 });
    const old1 = pci.add('old1', 2, 0x00, 'conventional', br);
    const old2 = pci.add('old2', 2, 0x08, 'conventional', br);
    for (const f of [rp, nic, br, old1, old2]) bus.addDevice(f.dev);
    const g = (f: PciFunctionInfo) => core.devIommuGroup(f.dev);
    expect(g(old1)).toBe(g(br));
    expect(g(old2)).toBe(g(br));
    expect(g(nic)).not.toBe(g(br));
    // Requester ids through iommu-map: the legacy device also carries the bridge's alias (bus 2, devfn 0).
    expect(old2.dev.getSlot(DEV_IOMMU_SLOT)?.fwspec?.ids).toEqual([0x10208, 0x10200]);
  });

  it('groups a DMA alias quirk and non-ACS functions of one slot', () => {
    const { pci, core, bus } = pciRig();
    const a = pci.add('a', 0, 0x10, 'endpoint', null, { dmaAliasDevfns: [0x18] });
    const b = pci.add('b', 0, 0x18, 'endpoint', null);
    const f0 = pci.add('f0', 0, 0x20, 'endpoint', null, { multifunction: true });
    const f1 = pci.add('f1', 0, 0x21, 'endpoint', null, { multifunction: true });
    const iso = pci.add('iso', 0, 0x28, 'endpoint', null, { acs: true });
    for (const f of [a, b, f0, f1, iso]) bus.addDevice(f.dev);
    const g = (f: PciFunctionInfo) => core.devIommuGroup(f.dev);
    expect(g(b)).toBe(g(a));
    expect(g(f1)).toBe(g(f0));
    expect(new Set([g(a), g(f0), g(iso)]).size).toBe(3);
  });
});

describe('ofMapId', () => {
  it('maps a masked requester id into the stream id range', () => {
    const np = new FwNode('pcie0', { 'iommu-map': [{ ridBase: 0x100, iommu: 'smmu0', iommuBase: 0x2000, length: 0x100 }], 'iommu-map-mask': 0xff00 });
    expect(ofMapId(np, 0x1f3, null)).toEqual({ ret: 0, target: 'smmu0', idOut: 0x2000 });
    const log = new KernelLog();
    expect(ofMapId(np, 0x300, log)).toEqual({ ret: 0, target: null, idOut: 0x300 });
    expect(log.lines[0]?.text).toBe('pcie0: no iommu-map translation for id 0x300 on (null)');
  });
});

describe('reportIommuFault', () => {
  it('runs the domain handler, else returns -ENOSYS with the trace line', () => {
    const log = new KernelLog();
    const core = new IommuCore({ log });
    const smmu = new FakeIommu(core, { fwnode: 'smmu0' });
    const dom = smmu.ops.domainAlloc('UNMANAGED');
    if (dom === null) throw new Error('setup');
    dom.log = log;
    const dev = new Device('sata', new FwNode('sata'));
    expect(reportIommuFault(dom, dev, 0x1234000, IOMMU_FAULT_WRITE)).toBe(-ENOSYS);
    expect(log.lines.at(-1)?.text).toBe('IOMMU:(null) sata iova=0x0000000001234000 flags=0x0001');
    const seen: number[] = [];
    iommuSetFaultHandler(dom, (_d, _dev, iova, flags, token) => {
      seen.push(iova, flags, token as number);
      return 0;
    }, 42);
    expect(reportIommuFault(dom, dev, 0x5000, 0)).toBe(0);
    expect(seen).toEqual([0x5000, 0, 42]);
  });

  it('refuses a fault handler on a domain whose cookie slot is taken', () => {
    const log = new KernelLog();
    const smmu = new FakeIommu(new IommuCore({ log }), { fwnode: 'smmu0' });
    const dom = smmu.ops.domainAlloc('DMA');
    if (dom === null) throw new Error('setup');
    dom.log = log;
    expect(dom.setCookie('dma-iova', {})).toBe(0);
    iommuSetFaultHandler(dom, () => 0);
    expect(log.warnCount).toBe(1);
    expect(reportIommuFault(dom, null, 0, 0)).toBe(-ENOSYS);
  });
});
