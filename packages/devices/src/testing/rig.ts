import { FwNode, PciHostBridge, PciHostBridgeHw, createBusServices, type BusServices, type Device, type DeviceDriver, type PropValue } from '@dmasim/bus';
import { BusWindowTranslation, GiB, TranslatingDmaPort, createCoreServices, type CoreServices, type DmaTranslation } from '@dmasim/core';
import { DmaMappingContext, type SwiotlbPort } from '@dmasim/dma-mapping';
import { IOVA_LINK_SLOT } from '../common/iova-link';
import { DEVICE_RESOURCES_SLOT } from '../common/resources';
import type { DeviceHardware, DeviceModel, WorkloadContext } from '../model';
import { TestIommu } from './test-iommu';

/**
 * A small machine for this package's tests and benchmarks, without a board: core and bus services,
 * a dma-mapping context, and devices wired the way the machine wires them (hardware on the MMIO bus
 * with a DMA port; the device's DMA ops either dma-direct or a TestIommu).
 */
export interface Rig {
  readonly core: CoreServices;
  readonly bus: BusServices;
  readonly dma: DmaMappingContext;
  readonly devices: Map<string, Device>;
  readonly hardware: Map<string, DeviceHardware>;
  readonly wctx: WorkloadContext;
}

export interface RigOptions {
  /** RAM size (default 2 GiB) and base (default 0). */
  readonly ram?: number;
  readonly ramBase?: number;
  /** End of ZONE_DMA (default none). */
  readonly dmaZoneEnd?: number;
  /** Build the machine's swiotlb (tests that need bouncing). */
  readonly swiotlb?: (core: CoreServices) => SwiotlbPort | null;
  readonly dmaDebug?: boolean;
}

export function makeRig(o: RigOptions = {}): Rig {
  const core = createCoreServices({ memory: [{ base: o.ramBase ?? 0, size: o.ram ?? 2 * GiB }], pages: { dmaZoneEnd: o.dmaZoneEnd ?? 0 } });
  const bus = createBusServices({ log: core.log, sched: core.sched, mmio: core.mmio }, { queueLateInitcall: false });
  const dma = new DmaMappingContext({ ...core, swiotlb: o.swiotlb?.(core) ?? null, dmaDebug: o.dmaDebug ?? false });
  const devices = new Map<string, Device>();
  return { core, bus, dma, devices, hardware: new Map(), wctx: { core, device: (n) => devices.get(n) } };
}

/** Registers a model's drivers. */
export function registerModel(rig: Rig, model: DeviceModel): DeviceDriver[] {
  const drvs = model.drivers({ core: rig.core, bus: rig.bus });
  for (const d of drvs) rig.bus.core.driverRegister(d);
  return drvs;
}

export interface RigDeviceOptions {
  readonly name: string;
  /** Platform `compatible`, or a PCI id `vvvv:dddd`. */
  readonly compatible?: string;
  readonly pciId?: string;
  readonly base: number;
  readonly irq: number;
  readonly coherent?: boolean;
  /** `dma-ranges` of the bus above (bus address → CPU address). */
  readonly dmaRanges?: readonly { bus: number; cpu: number; size: number }[];
  /** Put the device behind this IOMMU (its ops and the translation hop). */
  readonly iommu?: TestIommu;
  readonly options?: Readonly<Record<string, unknown>>;
  /** Extra firmware-node properties (of the device, or of its PCI host bridge). */
  readonly props?: Readonly<Record<string, PropValue>>;
  readonly hostProps?: Readonly<Record<string, PropValue>>;
  /** Translation hops in front of the bus window (an IOMMU the test built itself). */
  readonly hops?: readonly DmaTranslation[];
  /** Leave DMA setup to the driver core's dma_configure hooks (a real IOMMU stack installed by the test). */
  readonly dmaByHooks?: boolean;
}

/** Creates the hardware and the bus device, wires its DMA, adds it (probing it). */
export function addDevice(rig: Rig, model: DeviceModel, o: RigDeviceOptions): { dev: Device; hw: DeviceHardware } {
  const hops: DmaTranslation[] = [];
  if (o.iommu) hops.push(o.iommu);
  if (o.hops) hops.push(...o.hops);
  if (o.dmaRanges) hops.push(new BusWindowTranslation(o.dmaRanges));
  const port = new TranslatingDmaPort(rig.core.cache, o.coherent ?? false, hops);
  const hw = model.createHardware({ core: rig.core, name: o.name, dmaPort: port, mmioBase: o.base, irq: o.irq }, {
    name: o.name,
    ...(o.compatible !== undefined ? { compatible: o.compatible } : {}),
    ...(o.pciId !== undefined ? { pciId: o.pciId } : {}),
    ...(o.options !== undefined ? { options: o.options } : {}),
  });
  let dev: Device;
  if (hw.pciFunction !== undefined) {
    const hostHw = new PciHostBridgeHw();
    hostHw.root.attach(0, 0, hw.pciFunction);
    const host = new PciHostBridge(hostHw, new FwNode(`pcie-${o.name}`, { ...(o.coherent === true ? { 'dma-coherent': true } : {}), ...(o.hostProps ?? {}) }), rig.devices.size + 1);
    const found = rig.bus.pci.scanRootBus(host);
    const pdev = found[0];
    if (pdev === undefined) throw new Error(`PCI function of ${o.name} not found`);
    pdev.setSlot(DEVICE_RESOURCES_SLOT, { mmioBase: o.base, irq: o.irq });
    dev = pdev;
    configure(rig, dev, o);
    rig.bus.core.deviceAdd(host);
  } else {
    const fw = new FwNode(o.name, {
      compatible: [o.compatible ?? ''],
      reg: [o.base, hw.mmioSize],
      interrupts: [o.irq],
      ...(o.coherent === true ? { 'dma-coherent': true } : {}),
      ...(o.props ?? {}),
    });
    dev = rig.bus.platform.createDevice(fw);
    configure(rig, dev, o);
  }
  rig.devices.set(o.name, dev);
  rig.hardware.set(o.name, hw);
  rig.bus.core.deviceAdd(dev);
  return { dev, hw };
}

function configure(rig: Rig, dev: Device, o: RigDeviceOptions): void {
  dev.dma.coherent = o.coherent ?? false;
  if (o.dmaRanges) {
    dev.dma.rangeMap = o.dmaRanges.map((r) => ({ cpuStart: r.cpu, dmaStart: r.bus, size: r.size }));
    const end = Math.max(...o.dmaRanges.map((r) => r.bus + r.size));
    dev.dma.busDmaLimit = end - 1;
  }
  if (o.dmaByHooks === true) return;
  if (o.iommu) {
    rig.dma.configureDevice(dev, o.iommu.ops());
    dev.setSlot(IOVA_LINK_SLOT, o.iommu.iovaLink());
  } else {
    rig.dma.configureDevice(dev);
  }
}

export function makeIommu(rig: Rig, top = 2 ** 32): TestIommu {
  return new TestIommu(rig.core.cache, rig.core.pages, top);
}

/** The Raspberry Pi 4 `/soc` window: bus 0xc0000000.. shows CPU 0..1 GiB. */
export const RPI4_SOC_WINDOW = [{ bus: 0xc0000000, cpu: 0, size: 1 * GiB }] as const;
