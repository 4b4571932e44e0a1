/**
 * Dependency injection: `register(container, options)` builds the machine's swiotlb from the core
 * services in the container and registers it under `SwiotlbTokens.Swiotlb`.
 */
import { CoreTokens } from '@dmasim/core/standalone';
import type { CpuCache, KernelLog, PageAllocator, PhysicalMemory, Scheduler } from '@dmasim/core/standalone';
import type { createMachineContainer } from '@dmasim/core';
import type { DeviceReach } from './device';
import { Swiotlb } from './swiotlb';
import type { SwiotlbOptions } from './swiotlb';

/** The machine's DI container (tsyringe's, as core creates it). */
export type Container = ReturnType<typeof createMachineContainer>;

export const SwiotlbTokens = {
  Swiotlb: Symbol('dmasim.Swiotlb'),
} as const;

export interface SwiotlbRegisterOptions extends SwiotlbOptions {
  /** Where devices reach (dma-mapping passes its dma-direct view). */
  readonly reach?: DeviceReach;
}

export function register(container: Container, options: SwiotlbRegisterOptions = {}): Swiotlb {
  const swiotlb = new Swiotlb(
    {
      memory: container.resolve<PhysicalMemory>(CoreTokens.PhysicalMemory),
      pages: container.resolve<PageAllocator>(CoreTokens.PageAllocator),
      log: container.resolve<KernelLog>(CoreTokens.KernelLog),
      cache: container.isRegistered(CoreTokens.CpuCache) ? container.resolve<CpuCache>(CoreTokens.CpuCache) : null,
      scheduler: container.isRegistered(CoreTokens.Scheduler) ? container.resolve<Scheduler>(CoreTokens.Scheduler) : undefined,
      ...(options.reach === undefined ? {} : { reach: options.reach }),
    },
    options,
  );
  container.register(SwiotlbTokens.Swiotlb, { useValue: swiotlb });
  return swiotlb;
}

/** The swiotlb registered in a container. */
export function resolveSwiotlb(container: Container): Swiotlb {
  return container.resolve<Swiotlb>(SwiotlbTokens.Swiotlb);
}
