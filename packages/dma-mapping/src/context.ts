import type { Device } from '@dmasim/bus';
import { Slot } from '@dmasim/bus';
import type { CpuCache, KernelLog, PageAllocator, PhysicalMemory } from '@dmasim/core';
import { DmaDebug, type DmaDebugOptions } from './debug/dma-debug';
import { DmaDirectOps } from './direct/dma-direct';
import type { SwiotlbPort } from './direct/swiotlb-port';
import type { DmaMapOps } from './ops/dma-map-ops';
import { dmaDummyOps } from './ops/dummy-ops';

export interface DmaMappingContextOptions {
  readonly memory: PhysicalMemory;
  readonly cache: CpuCache;
  readonly pages: PageAllocator;
  readonly log: KernelLog;
  /** The machine's swiotlb as dma-direct sees it; null = no swiotlb. */
  readonly swiotlb?: SwiotlbPort | null;
  /** `swiotlb=force`. */
  readonly swiotlbForce?: boolean;
  /** CONFIG_DMA_BOUNCE_UNALIGNED_KMALLOC (arm64, 6.5+): dma_kmalloc_needs_bounce in dma-direct. */
  readonly kmallocBounce?: boolean;
  /** CONFIG_DMA_API_DEBUG: false/absent = off, true = kernel defaults, or options. */
  readonly dmaDebug?: boolean | DmaDebugOptions;
}

/** Per-device: which ops the device's DMA goes through (dev->dma_ops). */
export const DMA_OPS_SLOT = new Slot<DmaMapOps>('dma-mapping.ops');
/** Per-device: the machine context whose memory, cache and dma-debug its DMA API calls use. */
export const DMA_CONTEXT_SLOT = new Slot<DmaMappingContext>('dma-mapping.context');

/**
 * One machine's DMA mapping state: memory, cache, page allocator, log, swiotlb, dma-debug, and the
 * dma-direct ops every device without an IOMMU uses. Devices are bound to it with `configureDevice`
 * (the arch_setup_dma_ops step); the DMA API functions find it through the device.
 */
export class DmaMappingContext {
  readonly memory: PhysicalMemory;
  readonly cache: CpuCache;
  readonly pages: PageAllocator;
  readonly log: KernelLog;
  readonly swiotlb: SwiotlbPort | null;
  /** null when dma-debug is not configured. */
  readonly debug: DmaDebug | null;
  readonly direct: DmaDirectOps;

  constructor(options: DmaMappingContextOptions) {
    this.memory = options.memory;
    this.cache = options.cache;
    this.pages = options.pages;
    this.log = options.log;
    this.swiotlb = options.swiotlb ?? null;
    const dbg = options.dmaDebug ?? false;
    this.debug = dbg === false ? null : new DmaDebug(options.log, { isRam: (a, l) => options.memory.isRam(a, l), ...(dbg === true ? {} : dbg) });
    this.direct = new DmaDirectOps({
      memory: this.memory,
      cache: this.cache,
      pages: this.pages,
      log: this.log,
      swiotlb: this.swiotlb,
      forceBounce: options.swiotlbForce ?? false,
      kmallocBounce: options.kmallocBounce ?? false,
    });
  }

  /** Binds a device to this machine and gives it ops (dma-direct unless told otherwise). */
  configureDevice(dev: Device, ops: DmaMapOps = this.direct): void {
    dev.setSlot(DMA_CONTEXT_SLOT, this);
    setDmaOps(dev, ops);
  }

  /** The bus layer's unbind hook: dma-debug's leak check. Returns the leaked count. */
  deviceUnbound(dev: Device): number {
    return this.debug?.deviceUnbound(dev) ?? 0;
  }
}

/** set_dma_ops(). */
export function setDmaOps(dev: Device, ops: DmaMapOps): void {
  dev.setSlot(DMA_OPS_SLOT, ops);
}

/** get_dma_ops(): the dummy ("none") ops for a device whose DMA was never configured. */
export function getDmaOps(dev: Device): DmaMapOps {
  return dev.getSlot(DMA_OPS_SLOT) ?? dmaDummyOps;
}

/** The machine context a device is bound to, if any. */
export function getDmaContext(dev: Device): DmaMappingContext | undefined {
  return dev.getSlot(DMA_CONTEXT_SLOT);
}

/** Whether the device can do DMA at all (ops other than the dummy ops). */
export function dmaCapableDevice(dev: Device): boolean {
  return getDmaOps(dev) !== dmaDummyOps;
}
