import { Device } from '@dmasim/bus';
import type { DeviceReach, Swiotlb, SwiotlbDevice } from '@dmasim/swiotlb';
import type { SwiotlbPort } from './swiotlb-port';
import { dmaDirectPhysLimit, physToDma } from './translate';

/**
 * dma-direct's view of where a device reaches, for swiotlb (pass it as `reach` when building the
 * machine's swiotlb): the highest CPU address whose bus address passes dma_capable, and the bus
 * address of a physical one. Devices that are not bus Devices reach everything.
 */
export const dmaDirectReach: DeviceReach = {
  physLimit: (dev: SwiotlbDevice) => (dev instanceof Device ? dmaDirectPhysLimit(dev) : Number.MAX_SAFE_INTEGER),
  physToDma: (dev: SwiotlbDevice, phys: number) => (dev instanceof Device ? physToDma(dev, phys) : phys),
};

/** The machine's swiotlb as dma-direct calls it. */
export function swiotlbPortFor(tlb: Swiotlb): SwiotlbPort {
  return {
    isActive: (dev) => tlb.isSwiotlbActive(dev),
    isForceBounce: (dev) => tlb.isSwiotlbForceBounce(dev),
    tblMapSingle: (dev, orig, size, alignMask, dir, attrs) => tlb.swiotlbTblMapSingle(dev, orig, size, alignMask, dir, attrs),
    tblUnmapSingle: (dev, tlbAddr, size, dir, attrs) => {
      tlb.swiotlbTblUnmapSingle(dev, tlbAddr, size, dir, attrs);
    },
    syncSingleForCpu: (dev, tlbAddr, size, dir) => tlb.swiotlbSyncSingleForCpu(dev, tlbAddr, size, dir),
    syncSingleForDevice: (dev, tlbAddr, size, dir) => tlb.swiotlbSyncSingleForDevice(dev, tlbAddr, size, dir),
    isSwiotlbBuffer: (dev, phys) => tlb.isSwiotlbBuffer(dev, phys),
    maxMappingSize: (dev) => tlb.swiotlbMaxMappingSize(dev),
    alloc: (dev, size) => tlb.swiotlbAlloc(dev, size),
    free: (dev, phys, size) => tlb.swiotlbFree(dev, phys, size),
    forAlloc: (dev) => tlb.isSwiotlbForAlloc(dev),
  };
}
