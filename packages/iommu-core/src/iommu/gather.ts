/**
 * struct iommu_iotlb_gather: the IOVA range (and page size) whose TLB invalidation an unmap has
 * put off, so a caller can batch many unmaps behind one sync.
 */
export class IommuIotlbGather {
  /** Lowest IOVA gathered; Number.MAX_SAFE_INTEGER while empty (the kernel's ULONG_MAX). */
  start = Number.MAX_SAFE_INTEGER;
  /** Last byte gathered (inclusive); 0 while empty. */
  end = 0;
  /** Page size of the gathered invalidations; 0 while unknown. */
  pgsize = 0;
  /** Set when the caller will flush later through a flush queue (lazy mode). */
  queued = false;
  /** Table pages the unmap freed, released only after the TLB sync (the kernel's freelist). */
  readonly freelist: number[] = [];

  get empty(): boolean {
    return this.end === 0 && this.start === Number.MAX_SAFE_INTEGER;
  }
}

/** iommu_iotlb_gather_init(). */
export function iommuIotlbGatherInit(gather: IommuIotlbGather): void {
  gather.start = Number.MAX_SAFE_INTEGER;
  gather.end = 0;
  gather.pgsize = 0;
  gather.queued = false;
  // Setting length on an array, even to what it already is, is not free: most unmaps free no table.
  if (gather.freelist.length !== 0) gather.freelist.length = 0;
}

/** iommu_iotlb_gather_add_range(): grow the gathered range to cover [iova, iova+size). */
export function iommuIotlbGatherAddRange(gather: IommuIotlbGather, iova: number, size: number): void {
  const end = iova + size - 1;
  if (gather.start > iova) gather.start = iova;
  if (gather.end < end) gather.end = end;
}

/**
 * iommu_iotlb_gather_is_disjoint(): whether [iova, iova+size) neither overlaps nor touches the
 * gathered range (drivers that cannot invalidate a range with holes sync first).
 */
export function iommuIotlbGatherIsDisjoint(gather: IommuIotlbGather, iova: number, size: number): boolean {
  const start = iova;
  const end = iova + size - 1;
  return !gather.empty && (end + 1 < gather.start || start > gather.end + 1);
}
