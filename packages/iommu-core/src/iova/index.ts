/**
 * The IOVA allocator of `@dmasim/iommu-core` (Linux drivers/iommu/iova.c). Usable on its own:
 * `import { IovaDomain } from '@dmasim/iommu-core'`.
 */
export { IovaDomain, Iova, IovaBugError, IOVA_ANCHOR, iovaSize } from './iova';
export type { IovaDomainOptions, IovaDomainStats } from './iova';
export {
  IOVA_RANGE_CACHE_MAX_SIZE,
  IOVA_MAG_SIZE,
  IOVA_DEPOT_DELAY_MS,
  IOVA_RCACHE_MAX_PAGES,
  iovaRcacheRange,
} from './rcache';
