/**
 * The dynamic design Linux merged (CONFIG_SWIOTLB_DYNAMIC, v6.6): when every pool is full, a worker
 * is queued to add a whole new pool, and the mapping at hand gets a transient pool of exactly its
 * size, owned by the device and freed when the mapping is unmapped.
 */
import { PAGE_SIZE, pfnOf } from '@dmasim/core/standalone';
import { IO_TLB_MAX_POOL_SLABS, IO_TLB_MIN_SLABS, IO_TLB_SEGSIZE, IO_TLB_SIZE } from './constants';
import type { SwiotlbContext } from './context';
import { PR_FMT } from './context';
import type { SwiotlbDevice } from './device';
import type { IoTlbMem } from './mem';
import { allocReachablePages, freePageRun } from './pages';
import type { PageRun } from './pages';
import { IoTlbPool } from './pool';
import type { PoolKind } from './pool';

/** limit_nareas(): an area must hold at least one segment. */
export function limitNareas(nareas: number, nslots: number): number {
  return nslots < nareas * IO_TLB_SEGSIZE ? Math.max(1, Math.floor(nslots / IO_TLB_SEGSIZE)) : nareas;
}

/**
 * swiotlb_alloc_pool(): a pool of up to `nslabs` slots below `physLimit`, halving the request on
 * failure until it would drop to `minslabs` or below.
 */
export function swiotlbAllocPool(
  ctx: SwiotlbContext,
  minslabs: number,
  nslabs: number,
  nareas: number,
  physLimit: number,
  kind: PoolKind,
): { pool: IoTlbPool; pages: PageRun } | null {
  let want = Math.min(nslabs, IO_TLB_MAX_POOL_SLABS);
  for (;;) {
    const pages = allocReachablePages(ctx.pages, want * IO_TLB_SIZE, physLimit);
    if (pages !== null) {
      const areas = limitNareas(nareas, want);
      const usable = want - (want % areas);
      return { pool: new IoTlbPool(pages.addr, usable, areas, kind), pages };
    }
    if (want <= minslabs) return null;
    want = Math.ceil(Math.floor(want / 2) / IO_TLB_SEGSIZE) * IO_TLB_SEGSIZE;
  }
}

/** swiotlb_dyn_alloc(): the worker that adds a regular pool to a growable allocator. */
export function swiotlbDynAlloc(ctx: SwiotlbContext, mem: IoTlbMem): void {
  mem.dynAllocPending = false;
  const got = swiotlbAllocPool(ctx, IO_TLB_MIN_SLABS, mem.defaultNslabs, mem.defaultNareas, mem.physLimit, 'grown');
  if (got === null) {
    ctx.log.ratelimited('swiotlb_dyn_alloc', 'warning', `${PR_FMT}Failed to allocate new pool`);
    return;
  }
  addPool(mem, got.pool, got.pages, null);
  mem.nslabs += got.pool.nslabs;
  mem.grownPools++;
}

/** add_mem_pool() / the per-device transient list: newest first, indexed by PFN. */
export function addPool(mem: IoTlbMem, pool: IoTlbPool, pages: PageRun, owner: SwiotlbDevice | null): void {
  if (!pool.transient) mem.pools.unshift(pool);
  mem.extraPools.insert(pfnOf(pool.start), Math.ceil(pages.size / PAGE_SIZE), { pool, pages, owner });
}

/** Tries a transient pool of exactly the request's size for `dev` (growing mode). Returns the slot index or -1. */
export function swiotlbTransientSlots(
  ctx: SwiotlbContext,
  dev: SwiotlbDevice,
  mem: IoTlbMem,
  origAddr: number,
  allocSize: number,
  allocAlignMask: number,
): { pool: IoTlbPool; index: number } | null {
  const nslabs = Math.ceil(allocSize / IO_TLB_SIZE);
  const got = swiotlbAllocPool(ctx, nslabs, nslabs, 1, ctx.reach.physLimit(dev), 'transient');
  if (got === null) return null;
  const index = got.pool.searchArea(dev, ctx.reach, 0, origAddr, allocSize, allocAlignMask);
  if (index < 0) {
    freePageRun(ctx.pages, got.pages);
    return null;
  }
  addPool(mem, got.pool, got.pages, dev);
  mem.transientNslabs += got.pool.nslabs;
  mem.dynamicBuffers++;
  mem.dynamicBytes += got.pages.size;
  return { pool: got.pool, index };
}

/** swiotlb_del_transient(): frees a transient pool when its one mapping goes away. */
export function swiotlbDelTransient(ctx: SwiotlbContext, mem: IoTlbMem, pool: IoTlbPool): void {
  const e = mem.extraPools.find(pool.start);
  mem.dropPool(pool);
  mem.decUsed(pool.nslabs);
  mem.transientNslabs -= pool.nslabs;
  if (e !== undefined) {
    mem.dynamicBytes -= e.pages.size;
    freePageRun(ctx.pages, e.pages);
  }
}
