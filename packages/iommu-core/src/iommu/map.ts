/**
 * iommu_map / iommu_unmap and friends: split a range into the largest pages the domain's
 * page-size bitmap, the alignment of both addresses and the remaining size allow, and hand runs of
 * equal pages to the driver's mapPages / unmapPages.
 *
 * The bitmap can hold sizes above 2^31 (1 GiB blocks, 4 TiB at 64K granule), so it is never
 * combined with bitwise operators: it is decoded once into a list of page sizes, and the split
 * itself is io-pgtable's `iommuPgsize` (the same rule the page tables apply to a multi-page map).
 */
import { EINVAL, ENODEV, hex, modulo } from '@dmasim/core';
import { iommuPgsize, pgsizeBitmapToList, type PgsizeCount } from '../io-pgtable/pgsize';
import type { IommuDomain, MappedOut } from './domain';
import { IommuIotlbGather, iommuIotlbGatherInit } from './gather';

const pgsizeListCache = new Map<number, readonly number[]>();
let lastBitmap = -1;
let lastList: readonly number[] = [];

/** The page sizes of a bitmap, ascending, decoded once per distinct bitmap. */
export function pgsizeList(bitmap: number): readonly number[] {
  // A machine's domains nearly always share one bitmap: answer it without a Map look-up (the keys
  // are beyond 2^31, so the Map hashes a boxed number each time).
  if (bitmap === lastBitmap) return lastList;
  let list = pgsizeListCache.get(bitmap);
  if (list === undefined) {
    list = pgsizeBitmapToList(bitmap);
    pgsizeListCache.set(bitmap, list);
  }
  lastBitmap = bitmap;
  lastList = list;
  return list;
}

/** The smallest page size of a bitmap (1 << __ffs(bitmap)); 0 for an empty bitmap. */
export function minPagesz(bitmap: number): number {
  return pgsizeList(bitmap)[0] ?? 0;
}

/** Page count of the last pickPgsize() call (the kernel's `size_t *count`), reused to avoid allocation. */
const pgcount: PgsizeCount = { count: 0 };

function pickPgsize(bitmap: number, iova: number, paddr: number, size: number): number {
  const pgsize = iommuPgsize(pgsizeList(bitmap), iova, paddr, size, pgcount);
  // The kernel BUG()s here; the callers' alignment checks make it unreachable.
  if (pgsize === 0) throw new Error(`iommu_pgsize: no page size fits iova ${hex(iova)} pa ${hex(paddr)} size ${hex(size)}`);
  return pgsize;
}

/** %pa: a phys_addr_t, 0x and 16 hex digits. */
function fmtPa(paddr: number): string {
  return hex(paddr, 16);
}

const mappedOut: MappedOut = { mapped: 0 };

/** iommu_map_nosync(): map without the driver's iotlb_sync_map. 0 or -errno. */
export function iommuMapNosync(domain: IommuDomain, iova: number, paddr: number, size: number, prot: number): number {
  const ops = domain.ops;
  if (!domain.isPaging) return -EINVAL;
  if (domain.pgsizeBitmap === 0) {
    domain.log?.warn('drivers/iommu/iommu.c iommu_map_nosync', 'iommu: domain has no page sizes');
    return -ENODEV;
  }
  const minSz = minPagesz(domain.pgsizeBitmap);
  if (modulo(iova, minSz) !== 0 || modulo(paddr, minSz) !== 0 || modulo(size, minSz) !== 0) {
    domain.log?.err(`iommu: unaligned: iova ${hex(iova)} pa ${fmtPa(paddr)} size ${hex(size)} min_pagesz ${hex(minSz)}`);
    return -EINVAL;
  }
  const origIova = iova;
  const origPaddr = paddr;
  const origSize = size;
  let ret = 0;
  while (size > 0) {
    const pgsize = pickPgsize(domain.pgsizeBitmap, iova, paddr, size);
    mappedOut.mapped = 0;
    ret = ops.mapPages(domain, iova, paddr, pgsize, pgcount.count, prot, mappedOut);
    const mapped = mappedOut.mapped;
    // Pages may have been mapped even when the driver failed: count them so they are unwound.
    size -= mapped;
    if (ret !== 0) break;
    iova += mapped;
    paddr += mapped;
  }
  if (ret !== 0) iommuUnmap(domain, origIova, origSize - size);
  else {
    const ev = domain.events;
    if (ev !== null && ev.listenerCount('map') > 0) ev.emit('map', { domain, iova: origIova, paddr: origPaddr, size: origSize });
  }
  return ret;
}

/** iommu_sync_map(). */
export function iommuSyncMap(domain: IommuDomain, iova: number, size: number): number {
  return domain.ops.iotlbSyncMap ? domain.ops.iotlbSyncMap(domain, iova, size) : 0;
}

/**
 * iommu_map(): map `size` bytes at `iova` to `paddr` with `prot` (IOMMU_READ | IOMMU_WRITE ...),
 * in the largest pages that fit. Returns 0 or -errno; on failure nothing stays mapped.
 */
export function iommuMap(domain: IommuDomain, iova: number, paddr: number, size: number, prot: number): number {
  let ret = iommuMapNosync(domain, iova, paddr, size, prot);
  if (ret !== 0) return ret;
  ret = iommuSyncMap(domain, iova, size);
  if (ret !== 0) iommuUnmap(domain, iova, size);
  return ret;
}

function unmapRange(domain: IommuDomain, iova: number, size: number, gather: IommuIotlbGather): number {
  const ops = domain.ops;
  if (!domain.isPaging) return 0;
  if (domain.pgsizeBitmap === 0) {
    domain.log?.warn('drivers/iommu/iommu.c __iommu_unmap', 'iommu: domain has no page sizes');
    return 0;
  }
  const minSz = minPagesz(domain.pgsizeBitmap);
  if (modulo(iova, minSz) !== 0 || modulo(size, minSz) !== 0) {
    domain.log?.err(`iommu: unaligned: iova ${hex(iova)} size ${hex(size)} min_pagesz ${hex(minSz)}`);
    return 0;
  }
  let unmapped = 0;
  // Keep going until `size` bytes (or more: a block may be bigger) are gone, or a hole stops us.
  while (unmapped < size) {
    const pgsize = pickPgsize(domain.pgsizeBitmap, iova, iova, size - unmapped);
    const unmappedPage = ops.unmapPages(domain, iova, pgsize, pgcount.count, gather);
    if (unmappedPage === 0) break;
    iova += unmappedPage;
    unmapped += unmappedPage;
  }
  const ev = domain.events;
  if (ev !== null && ev.listenerCount('unmap') > 0) ev.emit('unmap', { domain, iova: iova - unmapped, size, unmapped });
  return unmapped;
}

const unmapGather = new IommuIotlbGather();

/** iommu_unmap(): unmap and sync the IOTLB. Returns the bytes unmapped (0 on error or a hole). */
export function iommuUnmap(domain: IommuDomain, iova: number, size: number): number {
  iommuIotlbGatherInit(unmapGather);
  const ret = unmapRange(domain, iova, size, unmapGather);
  iommuIotlbSync(domain, unmapGather);
  return ret;
}

/**
 * iommu_unmap_fast(): unmap without the IOTLB sync; the invalidation is left in `gather` for the
 * caller's iommuIotlbSync (strict mode) or flush queue (lazy mode).
 */
export function iommuUnmapFast(domain: IommuDomain, iova: number, size: number, gather: IommuIotlbGather): number {
  return unmapRange(domain, iova, size, gather);
}

/** iommu_iotlb_sync(): run the driver's sync for what `gather` holds, then empty it. */
export function iommuIotlbSync(domain: IommuDomain, gather: IommuIotlbGather): void {
  if (domain.ops.iotlbSync) domain.ops.iotlbSync(domain, gather);
  const ev = domain.events;
  if (ev !== null && gather.end >= gather.start && ev.listenerCount('tlbInvalidate') > 0) ev.emit('tlbInvalidate', { domain, scope: 'range', start: gather.start, end: gather.end });
  iommuIotlbGatherInit(gather);
}

/** iommu_flush_iotlb_all(). */
export function iommuFlushIotlbAll(domain: IommuDomain): void {
  if (domain.ops.flushIotlbAll) domain.ops.flushIotlbAll(domain);
  const ev = domain.events;
  if (ev !== null && ev.listenerCount('tlbInvalidate') > 0) ev.emit('tlbInvalidate', { domain, scope: 'all', start: 0, end: 0 });
}

/** iommu_iova_to_phys(): 0 for an untranslated IOVA; identity domains translate 1:1. */
export function iommuIovaToPhys(domain: IommuDomain, iova: number): number {
  if (domain.type === 'IDENTITY') return iova;
  if (domain.type === 'BLOCKED') return 0;
  return domain.ops.iovaToPhys(domain, iova);
}

/** One physically contiguous piece for iommuMapSg. */
export interface IommuSgEntry {
  readonly phys: number;
  readonly length: number;
}

/**
 * iommu_map_sg(): map the entries back to back from `iova`, merging physically contiguous ones into
 * one mapping. Returns the bytes mapped, or -errno with everything unwound.
 */
export function iommuMapSg(domain: IommuDomain, iova: number, sg: readonly IommuSgEntry[], prot: number): number {
  let mapped = 0;
  let start = 0;
  let len = 0;
  for (let i = 0; i <= sg.length; i++) {
    const s = sg[i];
    if (len > 0 && (s === undefined || s.phys !== start + len)) {
      const ret = iommuMapNosync(domain, iova + mapped, start, len, prot);
      if (ret !== 0) {
        iommuUnmap(domain, iova, mapped);
        return ret;
      }
      mapped += len;
      len = 0;
    }
    if (s === undefined) break;
    if (len > 0) len += s.length;
    else {
      start = s.phys;
      len = s.length;
    }
  }
  const ret = iommuSyncMap(domain, iova, mapped);
  if (ret !== 0) {
    iommuUnmap(domain, iova, mapped);
    return ret;
  }
  return mapped;
}
