import { IOMMU_CACHE, IOMMU_PRIV, IOMMU_READ, IOMMU_WRITE } from '@dmasim/iommu-core';
import { DMA_ATTR_PRIVILEGED, hasAttr, type DmaAttrs, type DmaDataDirection } from '@dmasim/dma-mapping';

/**
 * dma_info_to_prot(): IOMMU page protection for a DMA direction. A coherent master gets cacheable
 * (snooping) mappings; DMA_NONE maps nothing (0).
 */
export function dmaInfoToProt(dir: DmaDataDirection, coherent: boolean, attrs: DmaAttrs = 0): number {
  let prot = coherent ? IOMMU_CACHE : 0;
  if (hasAttr(attrs, DMA_ATTR_PRIVILEGED)) prot |= IOMMU_PRIV;
  switch (dir) {
    case 'bidirectional':
      return prot | IOMMU_READ | IOMMU_WRITE;
    case 'to-device':
      return prot | IOMMU_READ;
    case 'from-device':
      return prot | IOMMU_WRITE;
    default:
      return 0;
  }
}

/** dma_direction_to_prot(): the 2015 name (no attributes). */
export function dmaDirectionToProt(dir: DmaDataDirection, coherent: boolean): number {
  return dmaInfoToProt(dir, coherent, 0);
}
