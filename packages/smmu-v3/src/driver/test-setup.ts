/**
 * Small machines for the package's tests and benchmarks: core services, the bus, an IommuCore, the
 * SMMUv3 of QEMU's `virt` (at 0x9050000, its four wired SPIs) and the arm-smmu-v3 driver probing
 * it through MMIO. Masters are platform devices with `iommus`, or PCI functions behind a host
 * bridge with an `iommu-map` (a small PCI topology, as the IOMMU core sees it).
 */
import { createBusServices, Device, FwNode, type BusServices, type PhandleArgs, type PlatformDevice, type PlatformDriver } from '@dmasim/bus';
import { createCoreServices, MiB, type CoreServices } from '@dmasim/core';
import { busNotifierHostOf, FakeBus, IommuCore, type IommuCoreOptions, type PciFunctionInfo, type PciTopology } from '@dmasim/iommu-core';
import { SmmuV3Hardware } from '../hw/smmu-v3';
import type { SmmuV3Options } from '../hw/params';
import { ArmSmmuV3Driver } from './arm-smmu-v3';
import type { ArmSmmuV3DriverOptions } from './types';

export const SMMUV3_BASE = 0x9050000;
/** GIC SPIs 74..77 (eventq, priq, cmdq-sync, gerror) as Linux numbers them. */
export const SMMUV3_IRQS = [106, 107, 108, 109] as const;

export interface V3RigOptions extends ArmSmmuV3DriverOptions, IommuCoreOptions {
  readonly hw?: SmmuV3Options;
  /** Extra or replaced properties of the SMMU node. */
  readonly props?: Record<string, unknown>;
  readonly memory?: number;
  readonly skipProbe?: boolean;
  /**
   * Installs the probe-time DMA configuration (default: only of_iommu_configure); a bench passes
   * the iommu-dma layer's hooks here so masters get DMA ops.
   */
  readonly installDma?: (core: CoreServices, bus: BusServices, iommu: IommuCore) => void;
}

/** A PCI topology of endpoints on bus 0 behind one host bridge whose `iommu-map` targets the SMMU. */
export class TestPciTopology implements PciTopology {
  readonly infos: PciFunctionInfo[] = [];
  readonly host = new FwNode('pcie@10000000', { 'iommu-map': [{ ridBase: 0, iommu: 'smmuv3', iommuBase: 0, length: 0x10000 }] });
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

export interface V3Rig {
  readonly core: CoreServices;
  readonly bus: BusServices;
  readonly iommu: IommuCore;
  readonly hw: SmmuV3Hardware;
  readonly driver: ArmSmmuV3Driver;
  readonly smmuDev: PlatformDevice;
  readonly pci: TestPciTopology;
  /** Adds a platform master bound to a do-nothing driver, with `iommus = <&smmuv3 sid>...`. */
  master(name: string, sids?: readonly number[]): PlatformDevice;
  /** Adds a PCI endpoint 0000:00:<slot>.0 (requester id slot * 8). */
  pciFunction(name: string, slot: number): Device;
  /** Runs pending interrupts. */
  irqs(): void;
  /** Log lines (text, debug left out) from index `from`. */
  lines(from?: number): string[];
}

export function makeV3Rig(o: V3RigOptions = {}): V3Rig {
  const core = createCoreServices({ memory: [{ base: 0x40000000, size: o.memory ?? 512 * MiB }] });
  const bus = createBusServices({ log: core.log, sched: core.sched, mmio: core.mmio });
  const pci = new TestPciTopology();
  const iommu = new IommuCore({ log: core.log, pci }, o);
  const pciBus = new FakeBus('pci');
  iommu.iommuSubsysInit([busNotifierHostOf(bus.platform), pciBus]);
  if (o.installDma) o.installDma(core, bus, iommu);
  else bus.core.dmaConfigure.add('of_iommu_configure', (dev) => iommu.iommuDmaConfigure(dev));
  const [eventq, priq, cmdqSync, gerror] = SMMUV3_IRQS.map((n) => core.irqs.line(n));
  const hw = new SmmuV3Hardware({ ...o.hw, name: 'smmuv3', memory: core.memory, irqs: { eventq: eventq!, priq: priq!, cmdqSync: cmdqSync!, gerror: gerror! } });
  hw.mapInto(core.mmio, SMMUV3_BASE);
  const driver = new ArmSmmuV3Driver({ log: core.log, mmio: core.mmio, irqs: core.irqs, memory: core.memory, pages: core.pages, iommu }, o);
  bus.core.driverRegister(driver.platformDriver(bus.platform));
  const masterDriver: PlatformDriver = { name: 'test-dma-master', bus: bus.platform, ofMatchTable: [{ compatible: 'test,dma-master' }], probe: () => 0 };
  bus.core.driverRegister(masterDriver);
  const props = {
    compatible: ['arm,smmu-v3'],
    reg: [SMMUV3_BASE, hw.size],
    interrupts: [...SMMUV3_IRQS],
    'interrupt-names': ['eventq', 'priq', 'cmdq-sync', 'gerror'],
    'dma-coherent': true,
    '#iommu-cells': 1,
    ...o.props,
  };
  const smmuDev = bus.platform.createDevice(new FwNode('smmuv3', props), null, `${SMMUV3_BASE.toString(16)}.smmuv3`);
  if (!o.skipProbe) bus.core.deviceAdd(smmuDev);
  return {
    core, bus, iommu, hw, driver, smmuDev, pci,
    master(name, sids) {
      const iommus: PhandleArgs[] | undefined = sids?.map((sid) => ({ node: 'smmuv3', args: [sid] }));
      const dev = bus.platform.createDevice(new FwNode(name, { compatible: ['test,dma-master'], 'dma-coherent': true, ...(iommus ? { iommus } : {}) }));
      bus.core.deviceAdd(dev);
      return dev;
    },
    pciFunction(name, slot) {
      const dev = new Device(name, new FwNode(name));
      pci.infos.push({ dev, busNumber: 0, devfn: slot * 8, portType: 'endpoint', multifunction: false, acs: false, dmaAliasDevfns: [], upstream: null });
      pciBus.addDevice(dev);
      return dev;
    },
    irqs: () => void core.sched.runUntilIdle(),
    lines: (from = 0) => core.log.lines.slice(from).filter((l) => l.level !== 'debug').map((l) => l.text),
  };
}
