import { modulo } from '@dmasim/core/standalone';
/**
 * iommu_pgsize: how iommu_map / iommu_unmap cut a range into runs of one page size.
 *
 * The page size is the largest supported size that fits in `size` and to which both iova and paddr
 * are aligned. The count is how many of those pages to map in one call: all of `size`, unless a
 * larger supported size could be used further on (iova and paddr equally offset inside it, and
 * `size` reaches past the next boundary by at least one larger page), in which case the run stops
 * at that boundary so the next call can use the larger size.
 */


/** Holds the count of the last iommuPgsize call (reused so the hot path allocates nothing). */
export interface PgsizeCount {
  count: number;
}

/**
 * `pgsizes` is the supported page sizes in ascending order (the bitmap as a list). Returns the page
 * size, and sets `out.count`; returns 0 when no size fits (the kernel BUG()s there; callers check
 * alignment to the smallest size first, so that cannot happen through them).
 */
export function iommuPgsize(pgsizes: readonly number[], iova: number, paddr: number, size: number, out: PgsizeCount): number {
  let idx = -1;
  for (let i = pgsizes.length - 1; i >= 0; i--) {
    const ps = pgsizes[i]!;
    if (ps <= size && modulo(iova, ps) === 0 && modulo(paddr, ps) === 0) {
      idx = i;
      break;
    }
  }
  if (idx < 0) {
    out.count = 0;
    return 0;
  }
  const pgsize = pgsizes[idx]!;
  let span = size;
  const next = pgsizes[idx + 1];
  if (next !== undefined) {
    const iovaOff = modulo(iova, next);
    if (iovaOff === modulo(paddr, next)) {
      const offset = next - iovaOff;
      if (offset + next <= size) span = offset;
    }
  }
  out.count = Math.floor(span / pgsize);
  return pgsize;
}

/** The sizes in a page-size bitmap held as a number (powers of two from 2^0 to 2^52), ascending. */
export function pgsizeBitmapToList(bitmap: number): number[] {
  const out: number[] = [];
  let rest = bitmap;
  for (let bit = 0; bit <= 52 && rest > 0; bit++) {
    const v = 2 ** bit;
    if (Math.floor(bitmap / v) % 2 === 1) {
      out.push(v);
      rest -= v;
    }
  }
  return out;
}

/** The bitmap of a list of page sizes. */
export function pgsizeListToBitmap(sizes: readonly number[]): number {
  let bitmap = 0;
  for (const s of sizes) bitmap += s;
  return bitmap;
}
