/**
 * The IOVA allocator: the counterpart of Linux drivers/iommu/iova.c.
 *
 * An `IovaDomain` hands out ranges of pfns (in units of the domain's granule) from an ordered set
 * of allocated ranges, searching top-down from a caller's limit, with the kernel's two cached
 * starting nodes (one for searches limited to 32-bit addresses, one for the rest), its retry over
 * the range above the cached node, and its fast-fail hint for exhausted 32-bit space. In front of it
 * sit per-CPU magazine caches (see rcache.ts) used by `allocIovaFast` / `freeIovaFast`.
 *
 * The ordered set is a B+ tree (iova-tree.ts) keyed by each range's `pfnHi`. Keying by the top pfn
 * means `reserveIova`, which may grow an existing range downward, never changes a key; it also puts
 * the anchor (which sits above every usable pfn) last, so every real node has a successor.
 *
 * Everything here is synchronous and deterministic: the per-CPU caches belong to simulated CPUs
 * chosen by an index, and the depot trimming the kernel runs from delayed work is run on request.
 */
import { IovaTree } from './iova-tree';
import { alignDownPow2, alignUp, ffs, isPowerOfTwo, roundupPowOfTwo } from './math';
import {
  IOVA_RANGE_CACHE_MAX_SIZE,
  IOVA_MAG_SIZE,
  IOVA_RCACHE_MAX_PAGES,
  IovaMagazine,
  IovaRcache,
  RCACHE_ORDER_OF_SIZE,
  iovaMagazinePop,
  iovaMagazinePush,
} from './rcache';

/**
 * pfn of the anchor node. The kernel uses ~0UL; the largest safe integer plays that part here, so
 * usable pfns are those below it.
 */
export const IOVA_ANCHOR = Number.MAX_SAFE_INTEGER;

/** An allocated (or reserved) range of pfns, both ends inclusive, as the kernel's `struct iova`. */
export class Iova {
  constructor(
    public pfnLo: number,
    public pfnHi: number,
  ) {}
}

/** Number of pfns in a range (the kernel's iova_size). */
export function iovaSize(iova: Iova): number {
  return iova.pfnHi - iova.pfnLo + 1;
}

/** Thrown where the kernel would BUG(): a misuse that would kill the real kernel. */
export class IovaBugError extends Error {
  override readonly name = 'IovaBugError';
}

export interface IovaDomainOptions {
  /** Simulated CPUs, each with its own magazines; default 1. */
  cpus?: number;
  /** The kernel's PAGE_SIZE, the largest granule allowed; default 4096. */
  pageSize?: number;
  /** Set up the range caches at construction (the kernel's iova_domain_init_rcaches); default true. */
  rcaches?: boolean;
  /** Receives the text of each WARN the kernel would print; default: none (counted in stats). */
  warn?: (message: string) => void;
  /**
   * Called when the kernel would schedule its depot-trimming work (IOVA_DEPOT_DELAY_MS later).
   * A machine hooks this to its scheduler and calls `runDepotWork()` when the delay has passed.
   */
  onDepotWorkScheduled?: () => void;
}

export interface IovaDomainStats {
  /** Ranges in the tree (allocated, reserved and cached), anchor excluded. */
  nodes: number;
  /** Ranges sitting in magazines (per-CPU and depot): allocated in the tree but free for reuse. */
  cached: number;
  /** Ranges in use by callers or reserved: `nodes - cached`. */
  inUse: number;
  /** Full magazines waiting in the depots, all sizes. */
  depotMagazines: number;
  /** Tree-path allocations that succeeded / failed (each retry after a flush counts once more). */
  treeAllocs: number;
  treeAllocFailures: number;
  /** `allocIovaFast` calls served by a magazine / that had to go to the tree. */
  rcacheHits: number;
  rcacheMisses: number;
  /** Times `allocIovaFast` flushed every cache to retry. */
  rcacheFlushes: number;
  /** WARNs raised (double free, nonsensical reserve, ...). */
  warnings: number;
}

/**
 * `struct iova_domain`: an allocator of pfn ranges between `startPfn` and a caller's limit.
 *
 * ```ts
 * const iovad = new IovaDomain(4096, 1);
 * const iova = iovad.allocIova(4, 0xfffff, true); // 4 pages, size-aligned, below 4 GiB
 * iovad.freeIova(iova!.pfnLo);
 * ```
 */
export class IovaDomain {
  /** pfn granularity in bytes (a power of two no larger than the page size). */
  granule = 4096;
  /** Lowest pfn handed out. */
  startPfn = 1;
  /** First pfn at or above 4 GiB: 2^(32 - iovaShift). */
  dma32BitPfn = 2 ** 20;
  /** Size of the last failed allocation: 32-bit-limited requests this big or bigger fail at once. */
  max32AllocSize = 2 ** 20;
  /** Node where the next search with a limit above 4 GiB starts. */
  cachedNode: Iova;
  /** Node where the next search limited to 4 GiB starts. */
  cached32Node: Iova;
  /** The node above every usable pfn. */
  readonly anchor: Iova = new Iova(IOVA_ANCHOR, IOVA_ANCHOR);

  private readonly tree: IovaTree<Iova>;
  private readonly pageSize: number;
  private readonly warnHook: ((message: string) => void) | undefined;
  private readonly depotHook: (() => void) | undefined;
  private shift = 12;

  private rcachesArr: IovaRcache[] | null = null;
  private readonly cpuCount: number;
  private cpu = 0;
  private cachedCount = 0;
  private depotPending = false;

  private nTreeAllocs = 0;
  private nTreeFailures = 0;
  private nRcacheHits = 0;
  private nRcacheMisses = 0;
  private nFlushes = 0;
  private nWarnings = 0;

  constructor(granule: number, startPfn: number, options: IovaDomainOptions = {}) {
    const cpus = options.cpus ?? 1;
    if (!Number.isInteger(cpus) || cpus < 1) throw new RangeError(`IovaDomain: cpus must be a positive integer, got ${cpus}`);
    this.cpuCount = cpus;
    this.pageSize = options.pageSize ?? 4096;
    this.warnHook = options.warn;
    this.depotHook = options.onDepotWorkScheduled;
    this.tree = new IovaTree<Iova>(this.anchor);
    this.cachedNode = this.anchor;
    this.cached32Node = this.anchor;
    this.initIovaDomain(granule, startPfn);
    if (options.rcaches ?? true) this.iovaDomainInitRcaches();
  }

  /**
   * (Re)initialises the domain as the kernel's init_iova_domain: an empty tree holding only the
   * anchor, both cached nodes on the anchor, the 32-bit hint reset. Range caches are not touched.
   */
  initIovaDomain(granule: number, startPfn: number): void {
    if (!isPowerOfTwo(granule) || granule > this.pageSize) {
      throw new IovaBugError(`kernel BUG in init_iova_domain: granule ${granule} must be a power of two <= PAGE_SIZE ${this.pageSize}`);
    }
    if (!Number.isSafeInteger(startPfn) || startPfn < 0 || startPfn >= IOVA_ANCHOR) {
      throw new RangeError(`IovaDomain: startPfn must be a non-negative safe integer, got ${startPfn}`);
    }
    this.granule = granule;
    this.shift = ffs(granule);
    this.startPfn = startPfn;
    this.dma32BitPfn = 2 ** (32 - this.shift);
    this.max32AllocSize = this.dma32BitPfn;
    this.tree.clear();
    this.tree.insert(this.anchor);
    this.cachedNode = this.anchor;
    this.cached32Node = this.anchor;
  }

  /** Sets up the per-CPU range caches (the kernel's iova_domain_init_rcaches); returns 0. */
  iovaDomainInitRcaches(): number {
    if (this.rcachesArr !== null) return 0;
    const arr: IovaRcache[] = [];
    for (let i = 0; i < IOVA_RANGE_CACHE_MAX_SIZE; i++) arr.push(new IovaRcache(this.cpuCount));
    this.rcachesArr = arr;
    return 0;
  }

  /** Whether the range caches are set up. */
  get hasRcaches(): boolean {
    return this.rcachesArr !== null;
  }

  /** Number of simulated CPUs. */
  get cpus(): number {
    return this.cpuCount;
  }

  /** CPU whose magazines `allocIovaFast` / `freeIovaFast` use when no cpu argument is given. */
  get currentCpu(): number {
    return this.cpu;
  }

  set currentCpu(cpu: number) {
    this.checkCpu(cpu);
    this.cpu = cpu;
  }

  // ---------------------------------------------------------------------------------------------
  // Inline helpers of include/linux/iova.h

  /** log2 of the granule. */
  iovaShift(): number {
    return this.shift;
  }

  /** granule - 1 (as a number; use `iovaOffset` rather than masking). */
  iovaMask(): number {
    return this.granule - 1;
  }

  /** Offset of an address within its granule. */
  iovaOffset(addr: number): number {
    return addr % this.granule;
  }

  /** Size rounded up to the granule. */
  iovaAlign(size: number): number {
    return alignUp(size, this.granule);
  }

  /** Size rounded down to the granule. */
  iovaAlignDown(size: number): number {
    return size - (size % this.granule);
  }

  /** Bus address of the start of a range. */
  iovaDmaAddr(iova: Iova): number {
    return iova.pfnLo * this.granule;
  }

  /** pfn of an address. */
  iovaPfn(addr: number): number {
    return Math.floor(addr / this.granule);
  }

  // ---------------------------------------------------------------------------------------------
  // Tree allocator

  /**
   * Allocates `size` pfns at or below `limitPfn` (inclusive), searching top-down; with
   * `sizeAligned` the start is aligned to size rounded up to a power of two. Returns null when no
   * range was found (or the 32-bit fast-fail hint says none will be).
   */
  allocIova(size: number, limitPfn: number, sizeAligned = false): Iova | null {
    if (!(size >= 1) || !Number.isSafeInteger(size) || !(limitPfn >= 0)) return null;
    // the tree search treats the limit as exclusive, as the kernel's internal helper does
    const limit = (limitPfn < IOVA_ANCHOR - 1 ? limitPfn : IOVA_ANCHOR - 1) + 1;
    const align = sizeAligned ? roundupPowOfTwo(size) : 1;

    if (limit <= this.dma32BitPfn && size >= this.max32AllocSize) {
      this.nTreeFailures++;
      return null;
    }

    const tree = this.tree;
    let curr: Iova = limit <= this.dma32BitPfn ? this.cached32Node : this.cachedNode;
    const retryPfn = curr.pfnHi;
    tree.ceil(retryPfn); // cursor on the starting node
    let high = limit;
    let low = this.startPfn;
    let retried = false;
    let newPfn = 0;

    for (;;) {
      // Walk down from `curr`: try just below each node until the candidate clears the node below.
      for (;;) {
        if (curr.pfnLo < high) high = curr.pfnLo;
        newPfn = alignDownPow2(high - size, align);
        const below = tree.cursorPrev();
        if (below === null) break;
        curr = below;
        if (newPfn > curr.pfnHi || newPfn < low) break;
      }
      if (high >= size && newPfn >= low) break;
      // Failed below the cached node: search once more, over the part above it.
      if (!retried && retryPfn < limit) {
        retried = true;
        high = limit;
        low = retryPfn + 1;
        curr = this.iovaFindLimit(limit);
        continue;
      }
      this.max32AllocSize = size;
      this.nTreeFailures++;
      return null;
    }

    const iova = new Iova(newPfn, newPfn + size - 1);
    if (!tree.insert(iova)) {
      this.warn(`WARNING: iova_insert_rbtree: range [${iova.pfnLo}, ${iova.pfnHi}] already present`);
      return null;
    }
    if (iova.pfnHi < this.dma32BitPfn) this.cached32Node = iova;
    else this.cachedNode = iova;
    this.nTreeAllocs++;
    return iova;
  }

  /**
   * Node from which the retry walks down: the anchor for limits above 4 GiB (as the kernel's crude
   * shortcut), otherwise the lowest node reaching to `limit` (exclusive) or above. Leaves the tree
   * cursor on the node returned.
   */
  private iovaFindLimit(limit: number): Iova {
    return this.tree.ceil(limit > this.dma32BitPfn ? IOVA_ANCHOR : limit) ?? this.anchor;
  }

  /** The range containing `pfn` (any pfn inside it, not only its start), or null. */
  findIova(pfn: number): Iova | null {
    const iova = this.tree.ceil(pfn);
    if (iova === null || iova.pfnLo > pfn || iova === this.anchor) return null;
    return iova;
  }

  /** Frees the range containing `pfn`; does nothing when there is none (as the kernel). */
  freeIova(pfn: number): void {
    const iova = this.findIova(pfn);
    if (iova !== null) this.removeIova(iova);
  }

  /**
   * Frees a range returned by `allocIova` or `reserveIova` (the kernel's __free_iova). The kernel
   * does not check; here a range that is not in the tree is a WARN and nothing changes.
   */
  __freeIova(iova: Iova): void {
    this.removeIova(iova);
  }

  private removeIova(free: Iova): void {
    if (free.pfnHi >= IOVA_ANCHOR) return;
    const tree = this.tree;
    if (tree.remove(free.pfnHi) === null) {
      this.warn(`WARNING: __free_iova: range [${free.pfnLo}, ${free.pfnHi}] is not allocated`);
      return;
    }
    // Keep the cached nodes on live nodes: a freed node at or above one of them moves it to the
    // freed node's successor (the anchor at the latest), so the freed space is found by the next
    // search.
    const next = tree.lastSuccessor ?? this.anchor;
    const dma32 = this.dma32BitPfn;
    const c32 = this.cached32Node;
    if (free.pfnHi === c32.pfnHi || (free.pfnHi < dma32 && free.pfnLo >= c32.pfnLo)) this.cached32Node = next;
    if (free.pfnLo < dma32) this.max32AllocSize = dma32;
    if (free.pfnLo >= this.cachedNode.pfnLo) this.cachedNode = next;
  }

  /**
   * Marks [pfnLo, pfnHi] as not to be allocated. Overlapping ranges are merged as the kernel does:
   * the lowest overlapping range grows down to `pfnLo`, ranges above it are used as they are, and
   * a new range covers what remains above the last overlap. Returns the range covering the top of
   * the request, or null (with a WARN) for nonsensical pfns.
   */
  reserveIova(pfnLo: number, pfnHi: number): Iova | null {
    if (
      !Number.isSafeInteger(pfnLo) ||
      !Number.isSafeInteger(pfnHi) ||
      pfnLo < 0 ||
      pfnHi < pfnLo ||
      pfnHi >= IOVA_ANCHOR
    ) {
      this.warn(`WARNING: reserve_iova: nonsensical range [${pfnLo}, ${pfnHi}]`);
      return null;
    }
    let lo = pfnLo;
    // The first node that can overlap is the lowest one ending at or above `lo`; if it does not
    // overlap, none above it does either.
    let iova = this.tree.ceil(lo);
    while (iova !== null) {
      if (!(lo <= iova.pfnHi && pfnHi >= iova.pfnLo) || iova === this.anchor) break;
      if (lo < iova.pfnLo) iova.pfnLo = lo;
      if (pfnHi > iova.pfnHi) lo = iova.pfnHi + 1;
      if (lo >= iova.pfnLo && pfnHi <= iova.pfnHi) return iova;
      iova = this.tree.higher(iova.pfnHi);
    }
    const added = new Iova(lo, pfnHi);
    if (!this.tree.insert(added)) {
      this.warn(`WARNING: iova_insert_rbtree: range [${lo}, ${pfnHi}] already present`);
      return null;
    }
    return added;
  }

  /**
   * Tears the domain down (the kernel's put_iova_domain): drops the range caches and every range.
   * The object is left as an empty domain without caches; `iovaDomainInitRcaches()` re-enables them.
   */
  putIovaDomain(): void {
    this.rcachesArr = null;
    this.cachedCount = 0;
    this.depotPending = false;
    this.tree.clear();
    this.tree.insert(this.anchor);
    this.cachedNode = this.anchor;
    this.cached32Node = this.anchor;
    this.max32AllocSize = this.dma32BitPfn;
  }

  /** Every range in ascending order (anchor excluded); for inspection and tests. */
  ranges(): Iova[] {
    const out: Iova[] = [];
    this.tree.forEach((v) => {
      if (v !== this.anchor) out.push(v);
    });
    return out;
  }

  // ---------------------------------------------------------------------------------------------
  // Range caches

  /**
   * Allocates `size` pages and returns the first pfn, 0 on failure. Sizes below 32 pages are
   * rounded up to a power of two; up to 32 pages a magazine of the chosen CPU is tried first. When
   * the tree has no room and `flushRcache` is set, every CPU's magazines and the depots are given
   * back to the tree and the allocation is tried once more.
   */
  allocIovaFast(size: number, limitPfn: number, flushRcache: boolean, cpu: number = this.cpu): number {
    if (!(size >= 1)) return 0;
    if (size < IOVA_RCACHE_MAX_PAGES) size = roundupPowOfTwo(size);

    const rcaches = this.rcachesArr;
    if (rcaches !== null && size <= IOVA_RCACHE_MAX_PAGES) {
      const rcache = rcaches[RCACHE_ORDER_OF_SIZE[size]!]!;
      const cpuRcache = rcache.cpuRcaches[cpu];
      if (cpuRcache === undefined) this.checkCpu(cpu);
      else {
        // a cached pfn must end at or below limitPfn
        const pfnLimit = limitPfn + 1 - size;
        let mag = cpuRcache.loaded;
        let found = true;
        if (mag.size === 0) {
          if (cpuRcache.prev.size !== 0) {
            cpuRcache.loaded = cpuRcache.prev;
            cpuRcache.prev = mag;
            mag = cpuRcache.loaded;
          } else {
            const full = rcache.depot.pop();
            if (full !== undefined) {
              cpuRcache.loaded = full;
              mag = full;
            } else found = false;
          }
        }
        if (found) {
          const pfn = iovaMagazinePop(mag, pfnLimit);
          if (pfn !== 0) {
            this.cachedCount--;
            this.nRcacheHits++;
            return pfn;
          }
        }
      }
    }
    this.nRcacheMisses++;

    let iova = this.allocIova(size, limitPfn, true);
    if (iova === null) {
      if (!flushRcache) return 0;
      this.nFlushes++;
      if (rcaches !== null) {
        for (let c = 0; c < this.cpuCount; c++) this.freeCpuCachedIovas(c);
        this.freeGlobalCachedIovas();
      }
      iova = this.allocIova(size, limitPfn, true);
      if (iova === null) return 0;
    }
    return iova.pfnLo;
  }

  /**
   * Frees `size` pages at `pfn` allocated by `allocIovaFast`: into the CPU's magazine when the size
   * is cached, otherwise (or without caches) back to the tree.
   */
  freeIovaFast(pfn: number, size: number, cpu: number = this.cpu): void {
    const rcaches = this.rcachesArr;
    if (rcaches !== null && size <= IOVA_RCACHE_MAX_PAGES && size >= 1) {
      const rcache = rcaches[RCACHE_ORDER_OF_SIZE[Math.ceil(size)]!]!;
      const cpuRcache = rcache.cpuRcaches[cpu];
      if (cpuRcache === undefined) {
        this.checkCpu(cpu);
        return;
      }
      let mag = cpuRcache.loaded;
      if (mag.size === IOVA_MAG_SIZE) {
        if (cpuRcache.prev.size !== IOVA_MAG_SIZE) {
          cpuRcache.loaded = cpuRcache.prev;
          cpuRcache.prev = mag;
          mag = cpuRcache.loaded;
        } else {
          // both full: the loaded one goes to the depot and an empty one takes its place
          rcache.depot.push(mag);
          mag = new IovaMagazine();
          cpuRcache.loaded = mag;
          this.scheduleDepotWork();
        }
      }
      iovaMagazinePush(mag, pfn);
      this.cachedCount++;
      return;
    }
    this.freeIova(pfn);
  }

  /** Gives every range cached by one CPU back to the tree (also what CPU hot-unplug does). */
  freeCpuCachedIovas(cpu: number): void {
    this.checkCpu(cpu);
    const rcaches = this.rcachesArr;
    if (rcaches === null) return;
    for (const rcache of rcaches) {
      const cpuRcache = rcache.cpuRcaches[cpu]!;
      this.magazineFreePfns(cpuRcache.loaded);
      this.magazineFreePfns(cpuRcache.prev);
    }
  }

  /** Gives every range held in the depots back to the tree. */
  freeGlobalCachedIovas(): void {
    const rcaches = this.rcachesArr;
    if (rcaches === null) return;
    for (const rcache of rcaches) {
      let mag = rcache.depot.pop();
      while (mag !== undefined) {
        this.magazineFreePfns(mag);
        mag = rcache.depot.pop();
      }
    }
  }

  /** Whether depot trimming is due (the kernel's delayed work is scheduled). */
  get depotWorkPending(): boolean {
    return this.depotPending;
  }

  /**
   * Runs the depot trimming the kernel does from delayed work: while a depot holds more full
   * magazines than there are CPUs, one is emptied back into the tree. Returns how many were.
   */
  runDepotWork(): number {
    this.depotPending = false;
    const rcaches = this.rcachesArr;
    if (rcaches === null) return 0;
    let trimmed = 0;
    for (const rcache of rcaches) {
      while (rcache.depot.length > this.cpuCount) {
        this.magazineFreePfns(rcache.depot.pop()!);
        trimmed++;
      }
    }
    return trimmed;
  }

  private scheduleDepotWork(): void {
    if (this.depotPending) return;
    this.depotPending = true;
    if (this.depotHook) this.depotHook();
  }

  private magazineFreePfns(mag: IovaMagazine): void {
    for (let i = 0; i < mag.size; i++) {
      const pfn = mag.pfns[i]!;
      const iova = this.findIova(pfn);
      if (iova === null) {
        this.warn(`WARNING: iova_magazine_free_pfns: cached pfn ${pfn} is not in the tree`);
        continue;
      }
      this.removeIova(iova);
    }
    this.cachedCount -= mag.size;
    mag.size = 0;
  }

  // ---------------------------------------------------------------------------------------------
  // Statistics

  stats(): IovaDomainStats {
    let depot = 0;
    if (this.rcachesArr !== null) for (const r of this.rcachesArr) depot += r.depot.length;
    const nodes = this.tree.size - 1;
    return {
      nodes,
      cached: this.cachedCount,
      inUse: nodes - this.cachedCount,
      depotMagazines: depot,
      treeAllocs: this.nTreeAllocs,
      treeAllocFailures: this.nTreeFailures,
      rcacheHits: this.nRcacheHits,
      rcacheMisses: this.nRcacheMisses,
      rcacheFlushes: this.nFlushes,
      warnings: this.nWarnings,
    };
  }

  /** Cached entries per size order 0..5: [per-CPU loaded+prev for each CPU..., depot]. */
  rcacheOccupancy(): { order: number; perCpu: number[]; depot: number }[] {
    const out: { order: number; perCpu: number[]; depot: number }[] = [];
    const rcaches = this.rcachesArr;
    if (rcaches === null) return out;
    rcaches.forEach((rcache, order) => {
      out.push({
        order,
        perCpu: rcache.cpuRcaches.map((c) => c.loaded.size + c.prev.size),
        depot: rcache.depot.reduce((n, m) => n + m.size, 0),
      });
    });
    return out;
  }

  private checkCpu(cpu: number): void {
    if (!Number.isInteger(cpu) || cpu < 0 || cpu >= this.cpuCount) {
      throw new RangeError(`IovaDomain: cpu ${cpu} out of range 0..${this.cpuCount - 1}`);
    }
  }

  private warn(message: string): void {
    this.nWarnings++;
    if (this.warnHook) this.warnHook(message);
  }
}
