/**
 * Per-CPU range caches ("rcaches") of the IOVA allocator: magazines of cached pfns in front of the
 * tree, after Bonwick and Adams' magazine/vmem design as the kernel uses it.
 *
 * For each cached size order (0..IOVA_RANGE_CACHE_MAX_SIZE-1) there is one `IovaRcache`: every
 * simulated CPU has a `loaded` and a `prev` magazine, and full magazines spill into a shared depot.
 * A cached pfn stays an allocated node in the tree while it sits in a magazine; only when a
 * magazine is flushed are its ranges given back to the tree.
 */

/** log2 of the largest cached range size in pages, plus one: orders 0..5 (1..32 pages) are cached. */
export const IOVA_RANGE_CACHE_MAX_SIZE = 6;

/** Entries of one magazine: the kernel picks 127 so a magazine with its size word is 1 KiB. */
export const IOVA_MAG_SIZE = 127;

/** Delay, in milliseconds, after which the kernel trims an over-full depot. */
export const IOVA_DEPOT_DELAY_MS = 100;

/** Largest size (pages) that goes through the rcache. */
export const IOVA_RCACHE_MAX_PAGES = 2 ** (IOVA_RANGE_CACHE_MAX_SIZE - 1);

/** Range of bytes the rcache covers for a page size (the kernel's iova_rcache_range). */
export function iovaRcacheRange(pageSize = 4096): number {
  return pageSize * IOVA_RCACHE_MAX_PAGES;
}

/** A fixed-size stack of pfns. Float64Array keeps every pfn exact up to 2^53 and one element kind. */
export class IovaMagazine {
  size = 0;
  readonly pfns = new Float64Array(IOVA_MAG_SIZE);
}

/** One CPU's pair of magazines for one size order. */
export class IovaCpuRcache {
  loaded: IovaMagazine = new IovaMagazine();
  prev: IovaMagazine = new IovaMagazine();
}

/** The cache of one size order: per-CPU magazines and a depot (a LIFO stack) of full magazines. */
export class IovaRcache {
  readonly cpuRcaches: IovaCpuRcache[];
  readonly depot: IovaMagazine[] = [];

  constructor(cpus: number) {
    this.cpuRcaches = [];
    for (let i = 0; i < cpus; i++) this.cpuRcaches.push(new IovaCpuRcache());
  }
}

/** Order of each cacheable size 0..32 (ceil(log2(size))), so the hot path does no loop. */
export const RCACHE_ORDER_OF_SIZE: readonly number[] = (() => {
  const t: number[] = [0];
  for (let s = 1; s <= IOVA_RCACHE_MAX_PAGES; s++) {
    let o = 0;
    while (2 ** o < s) o++;
    t.push(o);
  }
  return t;
})();

/**
 * Takes a pfn <= limitPfn out of the magazine, searching from the most recently pushed entry down;
 * 0 when none qualifies (the caller then falls back to the tree). The hole is filled with the last
 * entry, as the kernel does.
 */
export function iovaMagazinePop(mag: IovaMagazine, limitPfn: number): number {
  const pfns = mag.pfns;
  let i = mag.size - 1;
  while (pfns[i]! > limitPfn) {
    if (i === 0) return 0;
    i--;
  }
  const pfn = pfns[i]!;
  const last = mag.size - 1;
  pfns[i] = pfns[last]!;
  mag.size = last;
  return pfn;
}

export function iovaMagazinePush(mag: IovaMagazine, pfn: number): void {
  mag.pfns[mag.size] = pfn;
  mag.size++;
}
