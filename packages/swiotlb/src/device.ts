/**
 * What swiotlb needs of a device. swiotlb sits below the bus layer, so it does not import the bus
 * `Device`: it states the few fields it reads, and a bus Device (name, driverName, busName,
 * dma.minAlignMask, dma.segmentBoundaryMask) satisfies this structurally.
 */
import type { LogDevice } from '@dmasim/core/standalone';

export interface SwiotlbDeviceDma {
  /** dma_get_min_align_mask(): low address bits the bounce buffer must keep from the original (a 2^k - 1 mask). */
  readonly minAlignMask: number;
  /** dma_get_seg_boundary() as a limit (2^k - 1); absent means no boundary (ULONG_MAX). */
  readonly segmentBoundaryMask?: number;
}

/** A device as swiotlb sees it: a log prefix and its DMA parameters. */
export interface SwiotlbDevice extends LogDevice {
  readonly dma: SwiotlbDeviceDma;
}

/**
 * How the layer above tells swiotlb where a device can reach, as the kernel's swiotlb asks dma-direct:
 * the highest CPU physical address the device reaches (its mask, bus limit and dma-ranges window
 * folded into one limit), and optionally the device's DMA address of a physical address (identity
 * when absent) for the segment-boundary check. dma-mapping installs one; alone, every device reaches
 * everything unless it carries a `dmaPhysLimit` of its own.
 */
export interface DeviceReach {
  physLimit(dev: SwiotlbDevice): number;
  physToDma?(dev: SwiotlbDevice, phys: number): number;
}

/** A device that states its own limit (useful when swiotlb is used alone). */
export interface SwiotlbDeviceWithLimit extends SwiotlbDevice {
  readonly dmaPhysLimit?: number;
}

export const DEFAULT_REACH: DeviceReach = {
  physLimit: (dev) => (dev as SwiotlbDeviceWithLimit).dmaPhysLimit ?? Number.MAX_SAFE_INTEGER,
};
