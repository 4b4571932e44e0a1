import { dmaBitMask } from '@dmasim/core';
import type { FwNode } from './fwnode';

/**
 * A typed extension slot: higher layers (IOMMU group, fwspec, DMA ops, dma-iommu cookie, ...) hang
 * their per-device state on a Device without `bus` importing them. Each layer creates its own Slot
 * object; identity, not the name, is the key.
 */
export class Slot<T> {
  declare readonly _type: T;
  constructor(readonly name: string) {}
}

/** One entry of a device's DMA range map (the kernel's struct bus_dma_region). */
export interface BusDmaRegion {
  readonly cpuStart: number;
  readonly dmaStart: number;
  readonly size: number;
}

/**
 * DMA parameters of a device. Masks are held as bit widths (never as 64-bit patterns); use
 * `dmaMaskLimit` for the highest address a mask allows.
 */
export interface DmaParams {
  /** Streaming DMA mask as a bit width (dev->dma_mask); 32 by default for platform devices. */
  maskBits: number;
  /** Coherent DMA mask as a bit width (dev->coherent_dma_mask). */
  coherentMaskBits: number;
  /** Highest bus address the interconnect carries (dev->bus_dma_limit); 0 = no limit. */
  busDmaLimit: number;
  /** Translations from `dma-ranges` (dev->dma_range_map); null = identity. */
  rangeMap: readonly BusDmaRegion[] | null;
  /** dma_parms.max_segment_size; 64 KiB by default. */
  maxSegmentSize: number;
  /**
   * dma_parms.segment_boundary_mask as a limit (a boundary every mask+1 bytes). dma_get_seg_boundary()
   * gives ULONG_MAX (no boundary; Number.MAX_SAFE_INTEGER here) when the bus sets none, as for
   * platform devices; pci_setup_device() sets 0xffffffff.
   */
  segmentBoundaryMask: number;
  /** dma_parms.min_align_mask (swiotlb keeps these low address bits); 0 by default. */
  minAlignMask: number;
  /** dev->dma_coherent: the device snoops CPU caches. */
  coherent: boolean;
}

/** Lifecycle of a device in the driver core. */
export type DeviceState = 'created' | 'added' | 'probing' | 'bound' | 'deferred' | 'failed' | 'no-driver' | 'removed';

/** The minimum the bus layer needs to know about a bus, so Device does not import bus types. */
export interface DeviceBusRef {
  readonly name: string;
}

/** The minimum the bus layer needs to know about a driver. */
export interface DeviceDriverRef {
  readonly name: string;
}

/** dma_get_seg_boundary() of a device whose bus set no boundary: ULONG_MAX, as far as a safe integer reaches. */
export const SEG_BOUNDARY_NONE = Number.MAX_SAFE_INTEGER;

export function defaultDmaParams(): DmaParams {
  return {
    maskBits: 32,
    coherentMaskBits: 32,
    busDmaLimit: 0,
    rangeMap: null,
    maxSegmentSize: 64 * 1024,
    segmentBoundaryMask: SEG_BOUNDARY_NONE,
    minAlignMask: 0,
    coherent: false,
  };
}

/** dmaBitMask(n) for the widths a mask can have (0..64), computed once: the DMA API asks per mapping. */
const MASK_LIMITS: readonly number[] = Array.from({ length: 65 }, (_, bits) => dmaBitMask(bits));

function maskLimit(bits: number): number {
  return MASK_LIMITS[bits] ?? dmaBitMask(bits);
}

/** struct device. */
export class Device {
  bus: DeviceBusRef | null = null;
  driver: DeviceDriverRef | null = null;
  driverData: unknown = undefined;
  state: DeviceState = 'created';
  /** Why the last probe was deferred (dev->p->deferred_probe_reason), shown by the timeout. */
  deferredProbeReason: string | null = null;
  /** The last probe error (negative errno), 0 when none. */
  probeError = 0;
  /** dev->can_match: some driver matched this device at least once. */
  canMatch = false;
  /** dev->p->dead: device_del has started; no more probing. */
  dead = false;
  readonly dma: DmaParams = defaultDmaParams();
  /** Created on first use: most devices never get a slot, and a machine may hold many devices. */
  private slots: Map<Slot<unknown>, unknown> | null = null;

  constructor(
    /** dev_name(): unique in a machine. */
    readonly name: string,
    readonly fwnode: FwNode,
    readonly parent: Device | null = null,
  ) {}

  get driverName(): string | undefined {
    return this.driver?.name;
  }

  get busName(): string | undefined {
    return this.bus?.name;
  }

  /** Highest address the streaming mask allows. */
  get dmaMaskLimit(): number {
    return maskLimit(this.dma.maskBits);
  }

  get coherentDmaMaskLimit(): number {
    return maskLimit(this.dma.coherentMaskBits);
  }

  getSlot<T>(slot: Slot<T>): T | undefined {
    return this.slots?.get(slot) as T | undefined;
  }

  setSlot<T>(slot: Slot<T>, value: T): void {
    (this.slots ??= new Map()).set(slot, value);
  }

  clearSlot<T>(slot: Slot<T>): void {
    this.slots?.delete(slot);
  }
}
