export { IovaBitmap } from './bitmap';
export {
  ARM_BITS_PER_LONG,
  ARM_DMA_IOMMU_ALIGNMENT,
  DmaIommuMapping,
  bitsInWholeLongs,
  getOrder,
  seedGrowth,
  simpleGrowth,
  type ArmMappingGrowth,
  type ArmMappingVariant,
  type DmaIommuIovaRange,
  type DmaIommuMappingInit,
} from './mapping';
export {
  ARM_BITS_PER_PAGE_BITMAP,
  armIommuCreateMapping,
  armIommuCreateMappingSimple,
  armIommuReleaseMapping,
  type ArmMappingOptions,
  type ArmSeedMappingOptions,
  type ArmSimpleMappingOptions,
} from './create';
export { armIommuAttachDevice, armIommuDetachDevice, toDmaIommuMapping } from './attach';
export { ArmIommuOps, type ArmIommuCoherentBuffer } from './ops';
export { armIommuOps, type ArmIommuOpsPair } from './ops-registry';
export { armDmaDirectionToProt } from './prot';
export { ARM_IOMMU_MAPPING_SLOT } from './slot';
export type { ArmIommuPages } from './buffer';
export type { ArmIommuApi, ArmIommuEnv } from './env';
