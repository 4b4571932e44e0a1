import type { DmaDataDirection } from '@dmasim/dma-mapping';
import { IOMMU_READ, IOMMU_WRITE } from '@dmasim/iommu-core';

/** __dma_direction_to_prot(): what the device may do with the pages of a mapping. */
export function armDmaDirectionToProt(dir: DmaDataDirection): number {
  switch (dir) {
    case 'bidirectional':
      return IOMMU_READ | IOMMU_WRITE;
    case 'to-device':
      return IOMMU_READ;
    case 'from-device':
      return IOMMU_WRITE;
    default:
      return 0;
  }
}
