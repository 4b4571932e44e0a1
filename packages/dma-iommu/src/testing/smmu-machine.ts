/**
 * A small machine with real SMMU hardware for the package's tests and benchmarks: core and bus
 * services, an IommuCore, an `SmmuHardware` (MMU-500 by default) driven by the arm-smmu driver
 * through MMIO, and the generic (linux-6.x) iommu-dma layer hooked into the probe path. A master
 * added with `addMaster` is probed by the IOMMU core, gets its group's default DMA (or DMA_FQ)
 * domain on a context bank, and then iommu-dma ops: its DMA is translated by `hw.translate`.
 *
 * Not exported from the package (it imports `@dmasim/smmu`, which sits above this package).
 */
import { createBusServices, FwNode, type BusServices, type PlatformDevice, type PlatformDriver } from '@dmasim/bus';
import { createCoreServices, GiB, type CoreServices } from '@dmasim/core';
import { DmaMappingContext } from '@dmasim/dma-mapping';
import { busNotifierHostOf, IommuCore } from '@dmasim/iommu-core';
import { ArmSmmuDriver, SmmuHardware, type SmmuModel } from '@dmasim/smmu';
import { GenericDmaSetup } from '../generic/generic-setup';
import { AtomicPool } from '../iommu-dma/atomic-pool';
import { IommuDma } from '../iommu-dma/iommu-dma';

const SMMU_BASE = 0x2b50_0000;
const GLOBAL_IRQ = 40;
const CONTEXT_IRQ = 41;

export interface SmmuMachineOptions {
  /** Lazy (DMA_FQ default domains) when false; default true (strict DMA domains). */
  readonly strict?: boolean;
  readonly model?: 'mmu-500' | 'mmu-401';
  /** IOTLB entries of the hardware (default: the model's). */
  readonly iotlbEntries?: number;
  /** Give iommu-dma the atomic pool (tests of non-sleeping allocations); default false. */
  readonly atomicPool?: boolean;
}

export interface SmmuMachine {
  readonly core: CoreServices;
  readonly bus: BusServices;
  readonly ctx: DmaMappingContext;
  readonly iommu: IommuCore;
  readonly hw: SmmuHardware;
  readonly driver: ArmSmmuDriver;
  readonly dma: IommuDma;
  readonly setup: GenericDmaSetup;
  /** Adds a DMA master with stream id `sid` (bound to a do-nothing driver, so DMA is configured). */
  addMaster(name: string, sid: number, coherent?: boolean): PlatformDevice;
}

export function smmuMachine(options: SmmuMachineOptions = {}): SmmuMachine {
  const model: SmmuModel = options.model ?? 'mmu-500';
  const core = createCoreServices({ memory: [{ base: 0x8000_0000, size: 2 * GiB }] });
  const bus = createBusServices({ log: core.log, sched: core.sched, mmio: core.mmio });
  const iommu = new IommuCore({ log: core.log }, { profile: 'linux-6.x', strict: options.strict ?? true });
  iommu.iommuSubsysInit([busNotifierHostOf(bus.platform)]);
  const ctx = new DmaMappingContext({ memory: core.memory, cache: core.cache, pages: core.pages, log: core.log });
  const dma = new IommuDma({
    cache: core.cache,
    pages: core.pages,
    log: core.log,
    profile: 'linux-6.x',
    sched: core.sched,
    atomicPool: options.atomicPool ? AtomicPool.create(core.pages, core.cache) : null,
  });
  const setup = new GenericDmaSetup({ dma, ctx, iommu, log: core.log, sched: core.sched });
  setup.installInto(bus.core);

  // MMU-500 (SMMUv2) wants one context line per bank; MMU-401 (SMMUv1) shares one.
  const banks = 8;
  const ctxLines = Array.from({ length: model === 'mmu-500' ? banks : 1 }, (_, i) => core.irqs.line(CONTEXT_IRQ + i));
  const hw = new SmmuHardware({
    model,
    numContextBanks: banks,
    memory: core.memory,
    globalIrqs: [core.irqs.line(GLOBAL_IRQ)],
    contextIrqs: ctxLines,
    ...(options.iotlbEntries !== undefined ? { iotlbEntries: options.iotlbEntries } : {}),
  });
  hw.mapInto(core.mmio, SMMU_BASE);
  const driver = new ArmSmmuDriver({ log: core.log, mmio: core.mmio, irqs: core.irqs, memory: core.memory, pages: core.pages, iommu });
  bus.core.driverRegister(driver.platformDriver(bus.platform));
  const masterDriver: PlatformDriver = { name: 'dma-master', bus: bus.platform, ofMatchTable: [{ compatible: 'dmasim,dma-master' }], probe: () => 0 };
  bus.core.driverRegister(masterDriver);
  bus.core.deviceAdd(
    bus.platform.createDevice(
      new FwNode('smmu0', {
        compatible: [`arm,${model}`],
        reg: [SMMU_BASE, hw.size],
        interrupts: [GLOBAL_IRQ, ...ctxLines.map((l) => l.irq)],
        '#global-interrupts': 1,
        'dma-coherent': true,
      }),
      null,
      `${SMMU_BASE.toString(16)}.iommu`,
    ),
  );

  const addMaster = (name: string, sid: number, coherent = true): PlatformDevice => {
    const dev = bus.platform.createDevice(
      new FwNode(name, { compatible: ['dmasim,dma-master'], iommus: [{ node: 'smmu0', args: [sid] }], ...(coherent ? { 'dma-coherent': true } : {}) }),
    );
    bus.core.deviceAdd(dev);
    return dev;
  };
  return { core, bus, ctx, iommu, hw, driver, dma, setup, addMaster };
}
