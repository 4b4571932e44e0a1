/**
 * The IOMMU stack of the other packages, wired around this package's rig the way the machine wires
 * it: iommu-core's IOMMU API and IOVA allocator with a FakeIommu page table, dma-iommu's generic ops
 * (strict or lazy domains) installed in the driver core's probe path, dma-iommu's two-step IOVA API
 * handed to drivers, and a DmaPort hop that translates through the device's DMA domain (a miss is a
 * fault). Used by the integration tests and the benchmarks (it imports packages `src` may not).
 */
import { PciDev, busNotifyName, type BusNotifyAction, type BusType, type Device } from '@dmasim/bus';
import type { DmaPortFault, DmaTranslation } from '@dmasim/core';
import { GiB, PAGE_SIZE } from '@dmasim/core';
import { GenericDmaSetup, IommuDma, dmaIovaDestroy, dmaIovaFree, dmaIovaLink, dmaIovaSync, dmaIovaTryAlloc, dmaIovaUnlink } from '@dmasim/dma-iommu';
import { FakeIommu, IommuCore, iommuIovaToPhys, type BusNotifierBlock, type BusNotifierHost, type PciFunctionInfo, type PciTopology } from '@dmasim/iommu-core';
import { IOVA_LINK_SLOT, type IovaLinkApi } from '../src/common/iova-link';
import type { DeviceModel } from '../src/model';
import { addDevice, makeRig, registerModel, type Rig } from '../src/testing/rig';

/** The DmaPort hop of a device behind the IOMMU: its DMA domain's page table, a fault on a miss. */
export class DomainTranslation implements DmaTranslation {
  readonly faults: number[] = [];
  constructor(
    private readonly iommu: IommuCore,
    /** The device, found by name: the port is built before the device exists and used during its probe. */
    private readonly device: () => Device | undefined,
  ) {}
  translate(addr: number, len: number): { ok: true; addr: number; length: number } | { ok: false; fault: DmaPortFault; addr: number } {
    const dev = this.device();
    const domain = dev === undefined ? null : this.iommu.iommuGetDmaDomain(dev);
    const phys = domain ? iommuIovaToPhys(domain, addr) : 0;
    if (phys === 0) {
      this.faults.push(addr);
      return { ok: false, fault: 'iommu-fault', addr };
    }
    return { ok: true, addr: phys, length: Math.min(len, PAGE_SIZE - (addr % PAGE_SIZE)) };
  }
}

/**
 * The IOMMU core's view of a bus and of PCI (the machine does this adaptation for real boards): the
 * two packages declare notifier blocks separately (numbered vs named actions).
 */
function host(bus: BusType): BusNotifierHost {
  const wrapped = new Map<BusNotifierBlock, Parameters<BusType['registerNotifier']>[0]>();
  return {
    name: bus.name,
    forEachDevice: (fn) => {
      for (const d of bus.devices) {
        const r = fn(d);
        if (r !== 0) return r;
      }
      return 0;
    },
    registerNotifier: (nb) => {
      const block = {
        name: nb.name,
        priority: nb.priority,
        call: (action: BusNotifyAction, dev: Device) => nb.notifierCall(busNotifyName(action).replace('BUS_NOTIFY_', '') as Parameters<BusNotifierBlock['notifierCall']>[0], dev),
      };
      wrapped.set(nb, block);
      return bus.registerNotifier(block);
    },
    unregisterNotifier: (nb) => {
      const block = wrapped.get(nb);
      return block === undefined ? -2 : bus.unregisterNotifier(block);
    },
  };
}

function pciTopology(bus: BusType): PciTopology {
  const info = (dev: Device): PciFunctionInfo | null =>
    dev instanceof PciDev ? { dev, busNumber: dev.busNr, devfn: dev.devfn, portType: 'endpoint', multifunction: false, acs: false, dmaAliasDevfns: [], upstream: null } : null;
  return {
    lookup: info,
    functions: () => [...bus.devices].map(info).filter((x): x is PciFunctionInfo => x !== null),
    hostBridgeNode: (dev) => (dev instanceof PciDev ? dev.hostBridge.fwnode : null),
  };
}

export const twoStep: IovaLinkApi = { tryAlloc: dmaIovaTryAlloc, link: dmaIovaLink, sync: dmaIovaSync, unlink: dmaIovaUnlink, free: dmaIovaFree, destroy: dmaIovaDestroy };

export function machine(strict = true): { rig: Rig; iommu: IommuCore } {
  // RAM away from 0 so that physical address 0 never means "mapped"
  const rig = makeRig({ ramBase: 0x8000_0000, ram: 2 * GiB });
  const iommu = new IommuCore({ log: rig.core.log, pci: pciTopology(rig.bus.pci) }, { strict });
  const fake = new FakeIommu(iommu, { fwnode: 'smmu0' });
  iommu.iommuSubsysInit([host(rig.bus.platform), host(rig.bus.pci)]);
  iommu.iommuDeviceRegister(fake.iommu);
  const dma = new IommuDma({ cache: rig.core.cache, pages: rig.core.pages, log: rig.core.log, profile: 'linux-6.x', sched: rig.core.sched });
  new GenericDmaSetup({ dma, ctx: rig.dma, iommu, log: rig.core.log, sched: rig.core.sched }).installInto(rig.bus.core);
  return { rig, iommu };
}

export function behindIommu(m: { rig: Rig; iommu: IommuCore }, model: DeviceModel, name: string, coherent: boolean, id: { compatible?: string; pciId?: string }): { dev: Device; xlate: DomainTranslation } {
  registerModel(m.rig, model);
  const xlate = new DomainTranslation(m.iommu, () => m.rig.devices.get(name));
  const pci = id.pciId !== undefined;
  const { dev } = addDevice(m.rig, model, {
    name,
    ...id,
    base: 0x4000_0000 + m.rig.devices.size * 0x10000,
    irq: 80 + m.rig.devices.size,
    coherent,
    hops: [xlate],
    dmaByHooks: true,
    ...(pci ? { hostProps: { 'iommu-map': [{ ridBase: 0, iommu: 'smmu0', iommuBase: 0, length: 0x10000 }] } } : { props: { iommus: [{ node: 'smmu0', args: [m.rig.devices.size] }] } }),
  });
  dev.setSlot(IOVA_LINK_SLOT, twoStep);
  return { dev, xlate };
}

