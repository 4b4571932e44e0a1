/**
 * Small machines for the package's tests: core services, a DMA mapping context, an IOMMU core with
 * a TlbIommu, a FakeBus, and the generic (linux-6.x) or arm64 (linux-4.2) ops layer. No board.
 */
import { Device, FwNode } from '@dmasim/bus';
import { GiB, createCoreServices, type CoreServices } from '@dmasim/core';
import { DmaMappingContext } from '@dmasim/dma-mapping';
import { FakeBus, IommuCore } from '@dmasim/iommu-core';
import { Arm64DmaSetup } from '../arm64/arm64-setup';
import { GenericDmaSetup } from '../generic/generic-setup';
import { AtomicPool } from '../iommu-dma/atomic-pool';
import { IommuDma } from '../iommu-dma/iommu-dma';
import type { DmaIommuProfile } from '../profile';
import { TlbIommu } from './tlb-iommu';

export interface TestMachine {
  readonly core: CoreServices;
  readonly ctx: DmaMappingContext;
  readonly iommuCore: IommuCore;
  readonly smmu: TlbIommu;
  readonly bus: FakeBus;
  readonly dma: IommuDma;
}

function base(profile: DmaIommuProfile, strict: boolean, masters?: readonly string[]): TestMachine {
  const core = createCoreServices({ memory: [{ base: 0x8000_0000, size: 1 * GiB }] });
  const ctx = new DmaMappingContext({ memory: core.memory, cache: core.cache, pages: core.pages, log: core.log });
  const iommuCore = new IommuCore({ log: core.log }, { profile, strict });
  const smmu = new TlbIommu(iommuCore, core.cache, { fwnode: 'smmu0', ...(masters ? { masters } : {}) });
  const bus = new FakeBus('platform');
  const dma = new IommuDma({
    cache: core.cache,
    pages: core.pages,
    log: core.log,
    profile,
    sched: core.sched,
    atomicPool: AtomicPool.create(core.pages, core.cache),
  });
  return { core, ctx, iommuCore, smmu, bus, dma };
}

/** A linux-6.x machine: devices probed by the IOMMU core on add, DMA set up in the probe path. */
export function genericMachine(options: { strict?: boolean } = {}): TestMachine & { setup: GenericDmaSetup; addDevice(name: string, coherent?: boolean): Device } {
  const m = base('linux-6.x', options.strict ?? true);
  m.iommuCore.iommuSubsysInit([m.bus]);
  m.iommuCore.iommuDeviceRegister(m.smmu.iommu);
  const setup = new GenericDmaSetup({ dma: m.dma, ctx: m.ctx, iommu: m.iommuCore, log: m.core.log, sched: m.core.sched });
  const addDevice = (name: string, coherent = false): Device => {
    const dev = new Device(name, new FwNode(name, { iommus: [{ node: 'smmu0', args: [m.bus.devices.length] }] }));
    dev.dma.coherent = coherent;
    m.bus.addDevice(dev);
    setup.dmaConfigure(dev);
    return dev;
  };
  return { ...m, setup, addDevice };
}

/** A linux-4.2 machine with the arm64 layer; the caller registers the notifiers in the order it studies. */
export function arm64Machine(masters: readonly string[]): TestMachine & { setup: Arm64DmaSetup } {
  const m = base('linux-4.2', true, masters);
  const setup = new Arm64DmaSetup({ dma: m.dma, ctx: m.ctx, iommu: m.iommuCore, log: m.core.log });
  return { ...m, setup };
}
