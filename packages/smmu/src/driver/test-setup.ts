/** Small machines for the driver tests: core services, the bus, an IommuCore and real SMMU hardware. */
import { createBusServices, FwNode, type BusServices, type MmuMaster, type PhandleArgs, type PlatformDevice, type PlatformDriver } from '@dmasim/bus';
import { createCoreServices, MiB, type CoreServices } from '@dmasim/core';
import { busNotifierHostOf, IommuCore, type BusNotifierHost, type IommuCoreOptions } from '@dmasim/iommu-core';
import { SmmuHardware, type SmmuHardwareOptions } from '../hw/smmu';
import { ArmSmmuDriver } from './arm-smmu';
import type { ArmSmmuDriverOptions } from './types';

export const SMMU_BASE = 0x2b500000;
export const GLOBAL_IRQ = 40;
export const CONTEXT_IRQ = 41;

export interface DriverRigOptions extends ArmSmmuDriverOptions, IommuCoreOptions {
  readonly hw: Omit<SmmuHardwareOptions, 'memory' | 'globalIrqs' | 'contextIrqs'>;
  readonly compatible?: string;
  /** Context interrupt lines described on the node (default: one, or one per bank on SMMUv2). */
  readonly contextIrqs?: number;
  readonly coherent?: boolean;
  readonly mmuMasters?: readonly MmuMaster[];
  readonly extraProps?: Record<string, number>;
  /** Leave the SMMU unprobed (tests that add it themselves). */
  readonly skipProbe?: boolean;
}

export interface DriverRig {
  readonly core: CoreServices;
  readonly bus: BusServices;
  readonly iommu: IommuCore;
  readonly host: BusNotifierHost;
  readonly hw: SmmuHardware;
  readonly driver: ArmSmmuDriver;
  readonly smmuDev: PlatformDevice;
  /** Adds a platform DMA master (bound to a do-nothing driver) with the given `iommus`. */
  master(name: string, iommus?: readonly PhandleArgs[]): PlatformDevice;
  /** Runs pending interrupts. */
  irqs(): void;
  /** Log lines (text, debug level left out) from index `from`. */
  lines(from?: number): string[];
}

export function makeDriverRig(o: DriverRigOptions): DriverRig {
  const core = createCoreServices({ memory: [{ base: 0, size: 256 * MiB }] });
  const bus = createBusServices({ log: core.log, sched: core.sched, mmio: core.mmio });
  const iommu = new IommuCore({ log: core.log }, o);
  const host = busNotifierHostOf(bus.platform);
  iommu.iommuSubsysInit([host]);
  if (iommu.profile === 'linux-6.x') bus.core.dmaConfigure.add('of_iommu_configure', (dev) => iommu.iommuDmaConfigure(dev));
  const model = o.hw.model;
  const nctx = o.contextIrqs ?? (model === 'mmu-500' || model === 'smmu-v2' ? (o.hw.numContextBanks ?? (model === 'mmu-500' ? 16 : 8)) : 1);
  const ctxLines = Array.from({ length: nctx }, (_, i) => core.irqs.line(CONTEXT_IRQ + i));
  const hw = new SmmuHardware({ ...o.hw, memory: core.memory, globalIrqs: [core.irqs.line(GLOBAL_IRQ)], contextIrqs: ctxLines });
  hw.mapInto(core.mmio, SMMU_BASE);
  const driver = new ArmSmmuDriver({ log: core.log, mmio: core.mmio, irqs: core.irqs, memory: core.memory, pages: core.pages, iommu }, o);
  bus.core.driverRegister(driver.platformDriver(bus.platform));
  const masterDriver: PlatformDriver = { name: 'test-dma-master', bus: bus.platform, ofMatchTable: [{ compatible: 'test,dma-master' }], probe: () => 0 };
  bus.core.driverRegister(masterDriver);
  const props: Record<string, unknown> = {
    compatible: [o.compatible ?? `arm,${model}`],
    reg: [SMMU_BASE, hw.size],
    interrupts: [GLOBAL_IRQ, ...ctxLines.map((l) => l.irq)],
    '#global-interrupts': 1,
    ...(o.coherent ?? true ? { 'dma-coherent': true } : {}),
    ...(o.mmuMasters ? { 'mmu-masters': o.mmuMasters } : {}),
    ...o.extraProps,
  };
  const smmuDev = bus.platform.createDevice(new FwNode('smmu0', props as ConstructorParameters<typeof FwNode>[1]), null, `${SMMU_BASE.toString(16)}.iommu`);
  if (!o.skipProbe) bus.core.deviceAdd(smmuDev);
  return {
    core, bus, iommu, host, hw, driver, smmuDev,
    master(name, iommus) {
      const dev = bus.platform.createDevice(new FwNode(name, { compatible: ['test,dma-master'], ...(iommus ? { iommus } : {}) }));
      bus.core.deviceAdd(dev);
      return dev;
    },
    irqs: () => void core.sched.runUntilIdle(),
    lines: (from = 0) => core.log.lines.slice(from).filter((l) => l.level !== 'debug').map((l) => l.text),
  };
}
