import { CoreTokens, type createMachineContainer } from '@dmasim/core';
import type { CpuCache, KernelLog, PageAllocator, PhysicalMemory } from '@dmasim/core';
import type { InjectionToken } from 'tsyringe';
import { SwiotlbTokens, type Swiotlb } from '@dmasim/swiotlb';
import { DmaMappingContext } from './context';
import type { DmaDebug, DmaDebugOptions } from './debug/dma-debug';
import type { DmaDirectOps } from './direct/dma-direct';
import { swiotlbPortFor } from './direct/swiotlb-adapter';

type Container = ReturnType<typeof createMachineContainer>;

export const DmaMappingTokens = {
  Context: Symbol('dmasim.DmaMappingContext') as InjectionToken<DmaMappingContext>,
  DirectOps: Symbol('dmasim.DmaDirectOps') as InjectionToken<DmaDirectOps>,
  /** Registered only when dma-debug is on. */
  DmaDebug: Symbol('dmasim.DmaDebug') as InjectionToken<DmaDebug>,
} as const;

export interface DmaMappingRegisterOptions {
  /** CONFIG_DMA_API_DEBUG (board `kernel.dmaDebug`). */
  readonly dmaDebug?: boolean | DmaDebugOptions;
  /** `swiotlb=force`. */
  readonly swiotlbForce?: boolean;
  /** CONFIG_DMA_BOUNCE_UNALIGNED_KMALLOC (arm64, 6.5+). */
  readonly kmallocBounce?: boolean;
  /**
   * The machine's swiotlb; by default the one registered under SwiotlbTokens.Swiotlb, if any (build
   * it with `reach: dmaDirectReach` so it knows where devices reach). null: no swiotlb.
   */
  readonly swiotlb?: Swiotlb | null;
}

/**
 * Builds the machine's DMA mapping context from the core services (and swiotlb) in the container and
 * registers it. Devices are then bound with `ctx.configureDevice(dev, ops)` by the arch layer.
 */
export function register(container: Container, options: DmaMappingRegisterOptions = {}): DmaMappingContext {
  let tlb: Swiotlb | null = options.swiotlb ?? null;
  if (options.swiotlb === undefined && container.isRegistered(SwiotlbTokens.Swiotlb)) tlb = container.resolve<Swiotlb>(SwiotlbTokens.Swiotlb);
  const ctx = new DmaMappingContext({
    memory: container.resolve<PhysicalMemory>(CoreTokens.PhysicalMemory),
    cache: container.resolve<CpuCache>(CoreTokens.CpuCache),
    pages: container.resolve<PageAllocator>(CoreTokens.PageAllocator),
    log: container.resolve<KernelLog>(CoreTokens.KernelLog),
    swiotlb: tlb === null ? null : swiotlbPortFor(tlb),
    swiotlbForce: options.swiotlbForce ?? false,
    kmallocBounce: options.kmallocBounce ?? false,
    dmaDebug: options.dmaDebug ?? false,
  });
  container.register(DmaMappingTokens.Context, { useValue: ctx });
  container.register(DmaMappingTokens.DirectOps, { useValue: ctx.direct });
  if (ctx.debug !== null) container.register(DmaMappingTokens.DmaDebug, { useValue: ctx.debug });
  return ctx;
}

/** The DMA mapping context registered in a container. */
export function resolveDmaMapping(container: Container): DmaMappingContext {
  return container.resolve(DmaMappingTokens.Context);
}
