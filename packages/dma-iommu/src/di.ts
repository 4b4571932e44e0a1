import { BusTokens, type DriverCore } from '@dmasim/bus';
import { CoreTokens, type CpuCache, type KernelLog, type PageAllocator, type Scheduler } from '@dmasim/core';
import { DmaMappingTokens, type DmaMappingContext } from '@dmasim/dma-mapping';
import { IommuTokens, busNotifierHostOf, type IommuCore } from '@dmasim/iommu-core';
import type { DependencyContainer, InjectionToken } from 'tsyringe';
import { Arm64DmaSetup } from './arm64/arm64-setup';
import { GenericDmaSetup } from './generic/generic-setup';
import { AtomicPool, DEFAULT_DMA_COHERENT_POOL_SIZE } from './iommu-dma/atomic-pool';
import { IommuDma } from './iommu-dma/iommu-dma';
import { DEFAULT_DMA_IOMMU_PROFILE, type DmaIommuProfile } from './profile';

export const DmaIommuTokens = {
  IommuDma: Symbol('dmasim.IommuDma') as InjectionToken<IommuDma>,
  /** Registered when `arch` is `arm64`. */
  Arm64Setup: Symbol('dmasim.Arm64DmaSetup') as InjectionToken<Arm64DmaSetup>,
  /** Registered when `arch` is `generic`. */
  GenericSetup: Symbol('dmasim.GenericDmaSetup') as InjectionToken<GenericDmaSetup>,
} as const;

export interface DmaIommuRegisterOptions {
  /** Board `kernel.profile`; default linux-6.x. */
  readonly profile?: DmaIommuProfile;
  /** Which ops layer wires devices: `arm64` (seed 002) or `generic`. The `arm` layer registers itself. */
  readonly arch?: 'arm64' | 'generic';
  /** Bytes of the atomic pool; 0 = none. Default 256 KiB. */
  readonly atomicPoolSize?: number;
  /** Hook the layer into the registered DriverCore (creation path for arm64, probe path for generic). Default true. */
  readonly hookDriverCore?: boolean;
  /** iommu.forcedac (generic). */
  readonly forceDac?: boolean;
}

export interface DmaIommuServices {
  readonly dma: IommuDma;
  readonly arm64: Arm64DmaSetup | null;
  readonly generic: GenericDmaSetup | null;
}

/**
 * Registers the iommu-dma layer of a machine and, when `arch` says so, the arm64 or generic ops
 * layer, built from the core services, the DMA mapping context and the IOMMU core already in the
 * container. The arm64 layer's notifiers are registered on the platform and AMBA buses here (its
 * arch_initcall); the generic layer hooks the probe path.
 */
export function register(container: DependencyContainer, options: DmaIommuRegisterOptions = {}): DmaIommuServices {
  const cache = container.resolve<CpuCache>(CoreTokens.CpuCache);
  const pages = container.resolve<PageAllocator>(CoreTokens.PageAllocator);
  const log = container.resolve<KernelLog>(CoreTokens.KernelLog);
  const sched = container.isRegistered(CoreTokens.Scheduler, true) ? container.resolve<Scheduler>(CoreTokens.Scheduler) : null;
  const poolSize = options.atomicPoolSize ?? DEFAULT_DMA_COHERENT_POOL_SIZE;
  const dma = new IommuDma({
    cache,
    pages,
    log,
    sched,
    profile: options.profile ?? DEFAULT_DMA_IOMMU_PROFILE,
    atomicPool: poolSize > 0 ? AtomicPool.create(pages, cache, poolSize) : null,
  });
  container.register(DmaIommuTokens.IommuDma, { useValue: dma });
  if (options.arch === undefined) return { dma, arm64: null, generic: null };
  const ctx = container.resolve<DmaMappingContext>(DmaMappingTokens.Context);
  const iommu = container.resolve<IommuCore>(IommuTokens.IommuCore);
  const driverCore = container.isRegistered(BusTokens.DriverCore, true) ? container.resolve<DriverCore>(BusTokens.DriverCore) : null;
  const hook = options.hookDriverCore ?? true;
  if (options.arch === 'arm64') {
    const arm64 = new Arm64DmaSetup({ dma, ctx, iommu, log });
    container.register(DmaIommuTokens.Arm64Setup, { useValue: arm64 });
    if (driverCore !== null && hook) {
      const buses = ['platform', 'amba'].map((n) => driverCore.bus(n)).filter((b) => b !== undefined);
      arm64.arm64IommuDmaInit(buses.map((b) => busNotifierHostOf(b)));
      arm64.installInto(driverCore);
    }
    return { dma, arm64, generic: null };
  }
  const generic = new GenericDmaSetup({ dma, ctx, iommu, log, sched, forceDac: options.forceDac ?? false });
  container.register(DmaIommuTokens.GenericSetup, { useValue: generic });
  if (driverCore !== null && hook) generic.installInto(driverCore);
  return { dma, arm64: null, generic };
}
