import type { Device } from '@dmasim/bus';
import { DMA_MAPPING_ERROR, type DmaAttrs, type DmaDataDirection } from '@dmasim/dma-mapping';
import { IOMMU_MMIO } from '@dmasim/iommu-core';
import { IommuDmaDelegatingOps } from '../iommu-dma/delegating-ops';
import { iommuDmaMergeBoundary, type IommuDma } from '../iommu-dma/iommu-dma';
import { dmaInfoToProt } from '../iommu-dma/prot';

/**
 * iommu_dma_ops of current kernels (drivers/iommu/dma-iommu.c): every callback goes straight to
 * the generic layer, which does the CPU cache maintenance of non-coherent devices itself.
 */
export class IommuDmaOps extends IommuDmaDelegatingOps {
  constructor(dma: IommuDma) {
    super(dma, true);
  }

  /** iommu_dma_map_resource(): MMIO, never cached, never synced. */
  mapResource(dev: Device, physAddr: number, size: number, dir: DmaDataDirection, attrs: DmaAttrs): number {
    return this.dma.mapPhys(dev, physAddr, size, dmaInfoToProt(dir, false, attrs) | IOMMU_MMIO, dev.dmaMaskLimit);
  }

  /** iommu_dma_unmap_resource(): no translation check, no sync. */
  unmapResource(dev: Device, dmaHandle: number, size: number, _dir: DmaDataDirection, _attrs: DmaAttrs): void {
    const cookie = this.dma.cookieFor(dev);
    if (cookie === null || dmaHandle === DMA_MAPPING_ERROR) return;
    if (this.dma.profile === 'linux-4.2') this.dma.unmap2015(cookie, dmaHandle);
    else this.dma.unmapRange(cookie, dmaHandle, size);
  }

  getMergeBoundary(dev: Device): number {
    return iommuDmaMergeBoundary(dev);
  }
}
