/**
 * DMA directions, attributes and the mapping-error value. They are defined once, in @dmasim/swiotlb
 * (the lowest layer that needs them), and re-exported here so drivers import everything DMA from
 * @dmasim/dma-mapping.
 */
export {
  DMA_BIDIRECTIONAL,
  DMA_TO_DEVICE,
  DMA_FROM_DEVICE,
  DMA_NONE,
  DMA_DIRECTION_VALUE,
  validDmaDirection,
  DMA_ATTR_WEAK_ORDERING,
  DMA_ATTR_WRITE_COMBINE,
  DMA_ATTR_NO_KERNEL_MAPPING,
  DMA_ATTR_SKIP_CPU_SYNC,
  DMA_ATTR_FORCE_CONTIGUOUS,
  DMA_ATTR_ALLOC_SINGLE_PAGES,
  DMA_ATTR_NO_WARN,
  DMA_ATTR_PRIVILEGED,
  DMA_ATTR_MMIO,
  DMA_ATTR_MAY_SLEEP,
  hasAttr,
  DMA_MAPPING_ERROR,
} from '@dmasim/swiotlb';
export type { DmaDataDirection, DmaAttrs } from '@dmasim/swiotlb';
