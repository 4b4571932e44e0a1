/**
 * struct io_tlb_mem: one swiotlb allocator. The machine has a default one; a device with a
 * restricted DMA pool gets its own. It owns its pools (the fixed pool first, plus pools grown on
 * demand in the merged dynamic design), the per-buffer dynamic bounce buffers of seed 004, and the
 * counters behind the statistics and the "buffer is full" message.
 */
import { pfnOf } from '@dmasim/core/standalone';
import type { PageRun } from './pages';
import type { IoTlbPool } from './pool';
import { PfnRangeMap } from './range-map';
import type { SwiotlbDevice } from './device';

/**
 * How swiotlb copes when its pools cannot serve a mapping:
 * - `false`: it fails (the behaviour seed 004 set out to fix);
 * - `'per-buffer'`: seed 004's design, a dedicated page allocation per bounce buffer;
 * - `'growing'`: the design Linux merged (CONFIG_SWIOTLB_DYNAMIC): a transient pool for the mapping
 *   at hand while a worker adds a whole new pool.
 */
export type SwiotlbDynamicMode = false | 'per-buffer' | 'growing';

/** A seed 004 dynamic bounce buffer (struct io_tlb_dyn_slot). */
export interface IoTlbDynSlot {
  readonly origAddr: number;
  readonly allocSize: number;
  readonly pages: PageRun;
  readonly dir: string;
}

export interface IoTlbMemInit {
  readonly defpool: IoTlbPool;
  readonly defpoolPages: PageRun | null;
  readonly dynamic: SwiotlbDynamicMode;
  readonly forceBounce: boolean;
  readonly forAlloc: boolean;
  /** Where grown pools must lie (the kernel's mem->phys_limit). */
  readonly physLimit: number;
  /** Areas each grown pool gets (default_nareas). */
  readonly defaultNareas: number;
  /** Slots a grown pool asks for (default_nslabs). */
  readonly defaultNslabs: number;
  /** Name for reports (`default` or the reserved-memory node name). */
  readonly name: string;
}

export class IoTlbMem {
  readonly defpool: IoTlbPool;
  readonly defpoolPages: PageRun | null;
  readonly dynamic: SwiotlbDynamicMode;
  readonly forceBounce: boolean;
  readonly forAlloc: boolean;
  readonly physLimit: number;
  readonly defaultNareas: number;
  readonly defaultNslabs: number;
  readonly name: string;
  /** Whether new pools may be added (growing mode, never for restricted pools). */
  canGrow: boolean;
  /** Searched in this order: newest pool first, as the kernel's RCU list is. */
  readonly pools: IoTlbPool[];
  /** Every pool but the default one, by PFN, with the pages it came from. */
  readonly extraPools = new PfnRangeMap<{ pool: IoTlbPool; pages: PageRun; owner: SwiotlbDevice | null }>();
  /** Seed 004: dynamic bounce buffers by PFN. */
  readonly dynSlots = new PfnRangeMap<IoTlbDynSlot>();
  /** Total slots over all non-transient pools (mem->nslabs). */
  nslabs: number;
  /** Slots in use over all pools, transient ones included (mem->total_used). */
  used = 0;
  /** High-water mark of `used` (mem->used_hiwater). */
  usedHiwater = 0;
  /** Slots in transient pools now (mem->transient_nslabs). */
  transientNslabs = 0;
  /** Mappings refused with "swiotlb buffer is full" (counted even when NO_WARN hid the message). */
  fullErrors = 0;
  /** Dynamic bounce buffers (per-buffer) or transient pools (growing) created so far. */
  dynamicBuffers = 0;
  /** Bytes now held by dynamic bounce buffers. */
  dynamicBytes = 0;
  /** Pools added by the grow worker. */
  grownPools = 0;
  /** A grow worker is queued and has not run yet. */
  dynAllocPending = false;
  /** The extra pool the last look-up found (and its owner), tried before the PFN map; dropped with the pool. */
  private lastPool: IoTlbPool | null = null;
  private lastOwner: SwiotlbDevice | null = null;

  constructor(init: IoTlbMemInit) {
    this.defpool = init.defpool;
    this.defpoolPages = init.defpoolPages;
    this.dynamic = init.dynamic;
    this.forceBounce = init.forceBounce;
    this.forAlloc = init.forAlloc;
    this.physLimit = init.physLimit;
    this.defaultNareas = init.defaultNareas;
    this.defaultNslabs = init.defaultNslabs;
    this.name = init.name;
    this.canGrow = init.dynamic === 'growing' && !init.forAlloc;
    this.pools = [init.defpool];
    this.nslabs = init.defpool.nslabs;
  }

  incUsed(nslots: number): void {
    this.used += nslots;
    if (this.used > this.usedHiwater) this.usedHiwater = this.used;
  }

  decUsed(nslots: number): void {
    this.used -= nslots;
  }

  /** The pool holding paddr as `dev` sees it (swiotlb_find_pool): shared pools, then dev's transient ones. */
  findPool(dev: SwiotlbDevice, paddr: number): IoTlbPool | null {
    const def = this.defpool;
    if (paddr >= def.start && paddr < def.end) return def;
    const last = this.lastPool;
    if (last !== null && paddr >= last.start && paddr < last.end) return this.lastOwner === null || this.lastOwner === dev ? last : null;
    const e = this.extraPools.find(paddr);
    if (e === undefined || !e.pool.contains(paddr)) return null;
    this.lastPool = e.pool;
    this.lastOwner = e.owner;
    if (e.owner !== null && e.owner !== dev) return null;
    return e.pool;
  }

  /** Removes an extra pool from the look-up (a transient pool whose mapping went away). */
  dropPool(pool: IoTlbPool): void {
    if (this.lastPool === pool) {
      this.lastPool = null;
      this.lastOwner = null;
    }
    this.extraPools.remove(pfnOf(pool.start));
  }

  findDyn(paddr: number): IoTlbDynSlot | undefined {
    return this.dynSlots.find(paddr);
  }

  /** is_swiotlb_buffer(): the fixed pool by range, everything else through the PFN trees. */
  isSwiotlbBuffer(dev: SwiotlbDevice, paddr: number): boolean {
    if (paddr >= this.defpool.start && paddr < this.defpool.end) return true;
    if (this.dynSlots.size > 0 && this.dynSlots.findPfn(pfnOf(paddr)) !== undefined) return true;
    return this.extraPools.size > 0 && this.findPool(dev, paddr) !== null;
  }
}
