/**
 * The swiotlb of one machine (kernel/dma/swiotlb.c): the default allocator in low memory, restricted
 * DMA pools per device, and the calls dma-direct makes: map, unmap and the two syncs of a single
 * bounce buffer, is_swiotlb_buffer, the maximum mapping size, and allocations from restricted pools.
 *
 * It knows a device only through `SwiotlbDevice` and the `DeviceReach` hook (where a device can
 * reach), so it works alone and under dma-mapping alike. Translating the bounce address to a DMA
 * address and checking it (the rest of the kernel's swiotlb_map) and cache maintenance of the slot
 * for non-coherent devices are dma-direct's part.
 */
import { EINVAL, EventEmitter, GiB, MiB, PAGE_SIZE, alignUp, hex, ilog2, isPowerOfTwo, roundupPowOfTwo, modulo } from '@dmasim/core/standalone';
import type { SwiotlbEvents } from './events';
import type { CpuCache, KernelLog, PageAllocator, PhysicalMemory, Scheduler } from '@dmasim/core/standalone';
import { BounceCopier } from './bounce';
import {
  DMA_ATTR_NO_WARN,
  DMA_ATTR_SKIP_CPU_SYNC,
  DMA_MAPPING_ERROR,
  INVALID_PHYS_ADDR,
  IO_TLB_DEFAULT_NSLABS,
  IO_TLB_DEFAULT_SIZE,
  IO_TLB_MAX_MAPPING,
  IO_TLB_SEGSIZE,
  IO_TLB_SHIFT,
  IO_TLB_SIZE,
  hasAttr,
  nrSlots,
} from './constants';
import type { DmaAttrs, DmaDataDirection } from './constants';
import type { SwiotlbContext } from './context';
import { PR_FMT } from './context';
import { DEFAULT_REACH } from './device';
import type { DeviceReach, SwiotlbDevice } from './device';
import { swiotlbDynMap, swiotlbDynUnmap } from './dynamic';
import { limitNareas, swiotlbDelTransient, swiotlbDynAlloc, swiotlbTransientSlots } from './grow';
import { IoTlbMem } from './mem';
import type { IoTlbDynSlot, SwiotlbDynamicMode } from './mem';
import { allocContiguous } from './pages';
import type { PageRun } from './pages';
import { IoTlbPool, swiotlbAlignOffset } from './pool';

export interface SwiotlbDeps {
  readonly memory: PhysicalMemory;
  readonly pages: PageAllocator;
  readonly log: KernelLog;
  /** The CPU cache the bounce copies go through; null copies memory to memory. */
  readonly cache?: CpuCache | null;
  /** Where devices reach; installed by dma-mapping. */
  readonly reach?: DeviceReach;
  /** Runs the grow worker later; without one it runs right after the mapping that queued it. */
  readonly scheduler?: Scheduler;
  /** The mapping CPU (default 0). */
  readonly cpu?: () => number;
}

export interface SwiotlbOptions {
  /** Bytes of the default pool (default 64 MiB); 0 for no swiotlb at all. Rounded up to whole segments. */
  readonly size?: number;
  /** Put the default pool here (memory the board has reserved) instead of taking it from the page allocator. */
  readonly base?: number;
  /**
   * Areas of the default pool: the kernel passes num_possible_cpus() (swiotlb_adjust_nareas), rounds
   * it up to a power of two and prints `area num N.`; absent: one area and no line (kernels before
   * areas existed).
   */
  readonly nareas?: number;
  /**
   * swiotlb_adjust_size() from the arch before init (arm64's small pool for kmalloc bouncing): takes
   * effect only while the size is the default 64 MiB, as a `swiotlb=` size wins.
   */
  readonly adjustSize?: number;
  /** What to do when the pools are full (see SwiotlbDynamicMode); default false. */
  readonly dynamic?: SwiotlbDynamicMode;
  /**
   * Per-buffer mode only: seed 004 as posted tries a dedicated buffer first and falls back to the
   * pool ('dynamic-first', the default); 'fixed-first' uses the pool while it can and allocates
   * only when it cannot.
   */
  readonly perBufferOrder?: 'fixed-first' | 'dynamic-first';
  /** Highest address the default pool and grown pools may use (default: the end of ZONE_DMA, else 4 GiB). */
  readonly physLimit?: number;
  /** swiotlb=force: every mapping bounces (dma-direct reads isSwiotlbForceBounce). */
  readonly force?: boolean;
  /** Print the "mapped [mem ...]" line (SWIOTLB_VERBOSE); default true. */
  readonly verbose?: boolean;
}

/** A restricted-dma-pool reserved-memory node. */
export interface RestrictedDmaPool {
  readonly name: string;
  readonly base: number;
  readonly size: number;
  /** Properties of the node that disqualify it (`reusable`, `no-map`, ...). */
  readonly properties?: readonly string[];
}

export interface SwiotlbStats {
  readonly totalSlots: number;
  readonly usedSlots: number;
  readonly maxUsedSlots: number;
  readonly transientSlots: number;
  readonly pools: number;
  readonly grownPools: number;
  /** Dynamic bounce buffers created so far (per-buffer buffers, or transient pools when growing). */
  readonly dynamicBuffers: number;
  /** Dynamic bounce buffers (or transient pools) alive now. */
  readonly dynamicLive: number;
  readonly dynamicBytes: number;
  readonly fullErrors: number;
}

const DISQUALIFYING_PROPS = ['reusable', 'linux,cma-default', 'linux,dma-default', 'no-map'];

/**
 * round_up_default_nslabs(): with areas, the pool holds at least one segment per area and a pool that
 * is not a power of two slots grows to the next one.
 */
export function roundUpDefaultNslabs(nslabs: number, nareas: number): number {
  if (nslabs < IO_TLB_SEGSIZE * nareas) return roundupPowOfTwo(IO_TLB_SEGSIZE * nareas);
  return isPowerOfTwo(nslabs) ? nslabs : roundupPowOfTwo(nslabs);
}

export class Swiotlb {
  /** Bounce buffers taken and released, and full errors, for traces (observational only). */
  readonly events = new EventEmitter<SwiotlbEvents>();
  readonly options: Required<Omit<SwiotlbOptions, 'base' | 'physLimit' | 'nareas' | 'adjustSize'>> & { base?: number; physLimit: number; nareas?: number; adjustSize?: number };
  /** io_tlb_default_mem; null when swiotlb has no memory. */
  readonly defaultMem: IoTlbMem | null;
  private readonly ctx: SwiotlbContext;
  private readonly deviceMem = new WeakMap<SwiotlbDevice, IoTlbMem | null>();
  private deviceMemCount = 0;
  private readonly restricted = new Map<string, { rmem: RestrictedDmaPool; mem: IoTlbMem | null }>();
  private readonly pendingWork: (() => void)[] = [];
  private readonly warnedOverflow = new Set<string>();
  /** The bounce copier (also in ctx), kept here for the hot path. */
  private readonly copier: BounceCopier;
  /** The pool the last successful findSlots took slots from. */
  private foundPool: IoTlbPool | null = null;

  constructor(private readonly deps: SwiotlbDeps, options: SwiotlbOptions = {}) {
    const dmaZone = deps.pages.stats().find((z) => z.name === 'DMA');
    const defaultLimit = dmaZone !== undefined && dmaZone.managedPages > 0 ? dmaZone.end - 1 : 4 * GiB - 1;
    this.options = {
      size: options.size ?? IO_TLB_DEFAULT_SIZE,
      dynamic: options.dynamic ?? false,
      perBufferOrder: options.perBufferOrder ?? 'dynamic-first',
      force: options.force ?? false,
      verbose: options.verbose ?? true,
      physLimit: options.physLimit ?? defaultLimit,
      ...(options.base === undefined ? {} : { base: options.base }),
      ...(options.nareas === undefined ? {} : { nareas: options.nareas }),
      ...(options.adjustSize === undefined ? {} : { adjustSize: options.adjustSize }),
    };
    this.ctx = {
      memory: deps.memory,
      pages: deps.pages,
      log: deps.log,
      reach: deps.reach ?? DEFAULT_REACH,
      copier: (this.copier = new BounceCopier(deps.memory, deps.cache ?? null)),
      cpu: deps.cpu ?? (() => 0),
      queueWork: (label, fn) => {
        if (deps.scheduler !== undefined) deps.scheduler.schedule(0, fn, label);
        else this.pendingWork.push(fn);
      },
    };
    this.defaultMem = this.swiotlbInit();
  }

  // ---- setup ----------------------------------------------------------------------------------

  /**
   * swiotlb_init_remap(): the default pool in low memory, after the arch's swiotlb_adjust_size() and
   * swiotlb_adjust_nareas(num_possible_cpus()), with their messages in the kernel's order.
   */
  private swiotlbInit(): IoTlbMem | null {
    const o = this.options;
    if (o.size <= 0) return null;
    let nslabs = alignUp(nrSlots(o.size), IO_TLB_SEGSIZE);
    if (o.adjustSize !== undefined && nslabs === IO_TLB_DEFAULT_NSLABS) {
      // swiotlb_adjust_size: whole slots, whole segments; the line gives the size before the segment rounding
      const size = alignUp(o.adjustSize, IO_TLB_SIZE);
      nslabs = alignUp(size / IO_TLB_SIZE, IO_TLB_SEGSIZE);
      this.deps.log.info(`${PR_FMT}SWIOTLB bounce buffer size adjusted to ${Math.floor(size / MiB)}MB`);
    }
    let defaultNareas = 1;
    if (o.nareas !== undefined) {
      // swiotlb_adjust_nareas: a power of two, and a pool of at least one segment per area
      defaultNareas = roundupPowOfTwo(Math.max(1, o.nareas));
      this.deps.log.info(`${PR_FMT}area num ${defaultNareas}.`);
      const rounded = roundUpDefaultNslabs(nslabs, defaultNareas);
      if (rounded !== nslabs) {
        nslabs = rounded;
        this.deps.log.info(`${PR_FMT}SWIOTLB bounce buffer size roundup to ${Math.floor((nslabs * IO_TLB_SIZE) / MiB)}MB`);
      }
    }
    const bytes = nslabs * IO_TLB_SIZE;
    let start: number;
    let pages: PageRun | null = null;
    if (o.base !== undefined) {
      if (!this.deps.memory.isRam(o.base, bytes)) {
        this.deps.log.warning(`${PR_FMT}No low mem`);
        return null;
      }
      start = o.base;
    } else {
      pages = allocContiguous(this.deps.pages, bytes, o.physLimit);
      if (pages === null) {
        this.deps.log.warning(`${PR_FMT}No low mem`);
        return null;
      }
      start = pages.addr;
    }
    const nareas = limitNareas(defaultNareas, nslabs);
    nslabs -= nslabs % nareas;
    const pool = new IoTlbPool(start, nslabs, nareas, 'default');
    if (o.verbose) {
      // swiotlb_print_info: %pa of mem->start and mem->end, which is one past the last byte
      this.deps.log.info(`${PR_FMT}mapped [mem ${hex(start, 16)}-${hex(pool.end, 16)}] (${Math.floor((nslabs * IO_TLB_SIZE) / MiB)}MB)`);
    }
    return new IoTlbMem({
      defpool: pool,
      defpoolPages: pages,
      dynamic: o.dynamic,
      forceBounce: o.force,
      forAlloc: false,
      physLimit: o.physLimit,
      defaultNareas: nareas,
      defaultNslabs: nslabs,
      name: 'default',
    });
  }

  /** dev->dma_io_tlb_mem. */
  memOf(dev: SwiotlbDevice): IoTlbMem | null {
    if (this.deviceMemCount === 0) return this.defaultMem;
    const m = this.deviceMem.get(dev);
    return m === undefined ? this.defaultMem : m;
  }

  /** Points a device at an allocator (null: none); undefined restores the default. */
  setDeviceMem(dev: SwiotlbDevice, mem: IoTlbMem | null | undefined): void {
    const had = this.deviceMem.has(dev);
    if (mem === undefined) {
      if (had) {
        this.deviceMem.delete(dev);
        this.deviceMemCount--;
      }
      return;
    }
    if (!had) this.deviceMemCount++;
    this.deviceMem.set(dev, mem);
  }

  /** Runs queued grow work (only needed when no scheduler was given and work was queued outside a mapping). */
  runPendingWork(): void {
    const work = this.pendingWork;
    while (work.length > 0) work.shift()!();
  }

  // ---- queries --------------------------------------------------------------------------------

  isSwiotlbActive(dev: SwiotlbDevice): boolean {
    const mem = this.memOf(dev);
    return mem !== null && mem.nslabs > 0;
  }

  isSwiotlbForceBounce(dev: SwiotlbDevice): boolean {
    return this.memOf(dev)?.forceBounce ?? false;
  }

  isSwiotlbForAlloc(dev: SwiotlbDevice): boolean {
    return this.memOf(dev)?.forAlloc ?? false;
  }

  /** is_swiotlb_buffer(): whether paddr is a bounce buffer of dev's allocator. */
  isSwiotlbBuffer(dev: SwiotlbDevice, paddr: number): boolean {
    const mem = this.deviceMemCount === 0 ? this.defaultMem : this.memOf(dev);
    return mem !== null && mem.isSwiotlbBuffer(dev, paddr);
  }

  /** swiotlb_find_pool(): the pool holding paddr (null for a seed 004 dynamic buffer or none). */
  swiotlbFindPool(dev: SwiotlbDevice, paddr: number): IoTlbPool | null {
    return this.memOf(dev)?.findPool(dev, paddr) ?? null;
  }

  /** swiotlb_max_mapping_size(): one segment, less what min_align_mask may cost. */
  swiotlbMaxMappingSize(dev: SwiotlbDevice): number {
    const mask = dev.dma.minAlignMask;
    const minAlign = mask === 0 ? 0 : alignUp(mask, IO_TLB_SIZE);
    return IO_TLB_MAX_MAPPING - minAlign;
  }

  stats(dev?: SwiotlbDevice): SwiotlbStats {
    const mem = dev === undefined ? this.defaultMem : this.memOf(dev);
    if (mem === null) {
      return { totalSlots: 0, usedSlots: 0, maxUsedSlots: 0, transientSlots: 0, pools: 0, grownPools: 0, dynamicBuffers: 0, dynamicLive: 0, dynamicBytes: 0, fullErrors: 0 };
    }
    const transientPools = mem.extraPools.size - (mem.pools.length - 1);
    return {
      totalSlots: mem.nslabs,
      usedSlots: mem.used,
      maxUsedSlots: mem.usedHiwater,
      transientSlots: mem.transientNslabs,
      pools: mem.pools.length,
      grownPools: mem.grownPools,
      dynamicBuffers: mem.dynamicBuffers,
      dynamicLive: mem.dynSlots.size + transientPools,
      dynamicBytes: mem.dynamicBytes,
      fullErrors: mem.fullErrors,
    };
  }

  /** Writing 0 to debugfs io_tlb_used_hiwater. */
  resetHiwater(dev?: SwiotlbDevice): void {
    const mem = dev === undefined ? this.defaultMem : this.memOf(dev);
    if (mem !== null) mem.usedHiwater = mem.used;
  }

  // ---- slot search ----------------------------------------------------------------------------

  /**
   * swiotlb_find_slots(): every area of every pool, then (growing mode) a transient pool. Returns the
   * first slot's index in `this.foundPool`, or -1 (no result object: this runs on every mapping).
   */
  private findSlots(dev: SwiotlbDevice, mem: IoTlbMem, origAddr: number, allocSize: number, allocAlignMask: number): number {
    const ctx = this.ctx;
    const growing = mem.dynamic === 'growing';
    if (growing && allocSize > IO_TLB_MAX_MAPPING) return -1;
    const cpu = ctx.cpu();
    const pools = mem.pools;
    const rounds = growing ? mem.defaultNareas : mem.defpool.nareas;
    for (let i = 0; i < rounds; i++) {
      for (let p = 0; p < pools.length; p++) {
        const pool = pools[p]!;
        if (i >= pool.nareas) continue;
        const index = pool.searchArea(dev, ctx.reach, (cpu + i) % pool.nareas, origAddr, allocSize, allocAlignMask);
        if (index >= 0) {
          mem.incUsed(nrSlots(allocSize));
          this.foundPool = pool;
          return index;
        }
      }
    }
    return mem.canGrow ? this.findTransientSlots(dev, mem, origAddr, allocSize, allocAlignMask) : -1;
  }

  /** Growing mode with every pool full: queue the grow worker and take a transient pool for this mapping. */
  private findTransientSlots(dev: SwiotlbDevice, mem: IoTlbMem, origAddr: number, allocSize: number, allocAlignMask: number): number {
    const ctx = this.ctx;
    if (!mem.dynAllocPending) {
      mem.dynAllocPending = true;
      ctx.queueWork('swiotlb_dyn_alloc', () => swiotlbDynAlloc(ctx, mem));
    }
    const t = swiotlbTransientSlots(ctx, dev, mem, origAddr, allocSize, allocAlignMask);
    if (t === null) return -1;
    mem.incUsed(nrSlots(allocSize));
    this.foundPool = t.pool;
    return t.index;
  }

  // ---- map / unmap / sync ---------------------------------------------------------------------

  /**
   * swiotlb_tbl_map_single(): takes a bounce buffer for [origAddr, origAddr + mappingSize), copies the
   * original into it whatever the direction (so a partial device write leaves the rest intact), and
   * returns its physical address, or DMA_MAPPING_ERROR.
   */
  swiotlbTblMapSingle(dev: SwiotlbDevice, origAddr: number, mappingSize: number, allocAlignMask: number, dir: DmaDataDirection, attrs: DmaAttrs = 0): number {
    const mem = this.memOf(dev);
    if (mem === null || mem.nslabs === 0) return this.noBounceBuffer(dev);
    if (allocAlignMask > PAGE_SIZE - 1) {
      this.ctx.log.warnOnce('kernel/dma/swiotlb.c swiotlb_tbl_map_single', `Alloc alignment may prevent fulfilling requests with max mapping_size`, dev);
    }
    const fullOffset = swiotlbAlignOffset(dev, allocAlignMask, origAddr);
    const size = alignUp(mappingSize + fullOffset, allocAlignMask + 1);
    const dynamicFirst = mem.dynamic === 'per-buffer' && !mem.forAlloc && this.options.perBufferOrder === 'dynamic-first';
    if (!dynamicFirst) {
      // the usual case: slots from the pools
      const tlbAddr = this.mapFromPools(dev, mem, origAddr, mappingSize, size, allocAlignMask, fullOffset);
      if (tlbAddr !== DMA_MAPPING_ERROR) return tlbAddr;
    }
    return this.mapOtherwise(dev, mem, origAddr, mappingSize, size, allocAlignMask, fullOffset, dir, attrs, dynamicFirst);
  }

  /** Takes slots for the mapping from the pools and bounces the original in; DMA_MAPPING_ERROR when none are free. */
  private mapFromPools(dev: SwiotlbDevice, mem: IoTlbMem, origAddr: number, mappingSize: number, size: number, allocAlignMask: number, fullOffset: number): number {
    const found = this.findSlots(dev, mem, origAddr, size, allocAlignMask);
    if (found < 0) return DMA_MAPPING_ERROR;
    const pool = this.foundPool!;
    const padSlots = Math.floor(fullOffset / IO_TLB_SIZE);
    const index = found + padSlots;
    pool.setOrig(index, padSlots, nrSlots(size) - padSlots, origAddr);
    const tlbAddr = pool.slotAddr(index) + (fullOffset - padSlots * IO_TLB_SIZE);
    if (this.pendingWork.length > 0) this.runPendingWork();
    this.bouncePool(dev, pool, tlbAddr, mappingSize, true);
    if (this.events.listenerCount('bounce') > 0) this.events.emit('bounce', { device: dev, orig: origAddr, tlb: tlbAddr, size: mappingSize, usedSlots: mem.used, totalSlots: mem.nslabs });
    return tlbAddr;
  }

  /**
   * The rest of swiotlb_tbl_map_single(): seed 004's dedicated buffer (before the pools when it goes
   * first, after them otherwise), then the "buffer is full" error.
   */
  private mapOtherwise(
    dev: SwiotlbDevice,
    mem: IoTlbMem,
    origAddr: number,
    mappingSize: number,
    size: number,
    allocAlignMask: number,
    fullOffset: number,
    dir: DmaDataDirection,
    attrs: DmaAttrs,
    dynamicFirst: boolean,
  ): number {
    const perBuffer = mem.dynamic === 'per-buffer' && !mem.forAlloc;
    let tlbAddr = DMA_MAPPING_ERROR;
    if (perBuffer) tlbAddr = swiotlbDynMap(this.ctx, dev, mem, origAddr, size, allocAlignMask, dir);
    if (tlbAddr === DMA_MAPPING_ERROR && dynamicFirst) {
      tlbAddr = this.mapFromPools(dev, mem, origAddr, mappingSize, size, allocAlignMask, fullOffset);
      if (tlbAddr !== DMA_MAPPING_ERROR) return tlbAddr;
    }
    this.runPendingWork();
    if (tlbAddr === DMA_MAPPING_ERROR) {
      mem.fullErrors++;
      if (this.events.listenerCount('full') > 0) this.events.emit('full', { device: dev, size, usedSlots: mem.used, totalSlots: mem.nslabs });
      if (!hasAttr(attrs, DMA_ATTR_NO_WARN)) {
        this.ctx.log.ratelimited(
          'swiotlb_tbl_map_single',
          'warning',
          `swiotlb buffer is full (sz: ${size} bytes), total ${mem.nslabs} (slots), used ${mem.used} (slots)`,
          dev,
        );
      }
      return DMA_MAPPING_ERROR;
    }
    this.bounceDyn(dev, mem.findDyn(tlbAddr), tlbAddr, mappingSize, true);
    if (this.events.listenerCount('bounce') > 0) this.events.emit('bounce', { device: dev, orig: origAddr, tlb: tlbAddr, size: mappingSize, usedSlots: mem.used, totalSlots: mem.nslabs });
    return tlbAddr;
  }

  private noBounceBuffer(dev: SwiotlbDevice): number {
    this.ctx.log.ratelimited('swiotlb_tbl_map_single', 'warning', `Can not allocate SWIOTLB buffer earlier and can't now provide you with the DMA bounce buffer`, dev);
    return DMA_MAPPING_ERROR;
  }

  /**
   * swiotlb_tbl_unmap_single(): copies the bounce buffer back for FROM_DEVICE and BIDIRECTIONAL
   * (unless DMA_ATTR_SKIP_CPU_SYNC) and frees it. Returns false (doing nothing) when tlbAddr is not a
   * bounce buffer of dev's allocator.
   */
  swiotlbTblUnmapSingle(dev: SwiotlbDevice, tlbAddr: number, mappingSize: number, dir: DmaDataDirection, attrs: DmaAttrs = 0): boolean {
    const mem = this.memOf(dev);
    if (mem === null) return false;
    const copyBack = (dir === 'from-device' || dir === 'bidirectional') && !hasAttr(attrs, DMA_ATTR_SKIP_CPU_SYNC);
    const pool = mem.findPool(dev, tlbAddr);
    if (pool !== null) {
      if (copyBack) this.bouncePool(dev, pool, tlbAddr, mappingSize, false);
      if (pool.transient) swiotlbDelTransient(this.ctx, mem, pool);
      else mem.decUsed(pool.releaseSlots(dev, tlbAddr));
      this.emitRelease(dev, mem, tlbAddr, mappingSize);
      return true;
    }
    const slot = mem.dynSlots.size > 0 ? mem.findDyn(tlbAddr) : undefined;
    if (slot === undefined) return false;
    if (copyBack) this.bounceDyn(dev, slot, tlbAddr, mappingSize, false);
    swiotlbDynUnmap(this.ctx, mem, slot);
    this.emitRelease(dev, mem, tlbAddr, mappingSize);
    return true;
  }

  private emitRelease(dev: SwiotlbDevice, mem: IoTlbMem, tlb: number, size: number): void {
    if (this.events.listenerCount('release') > 0) this.events.emit('release', { device: dev, tlb, size, usedSlots: mem.used, totalSlots: mem.nslabs });
  }

  /** swiotlb_sync_single_for_device(): original → bounce for TO_DEVICE and BIDIRECTIONAL. */
  swiotlbSyncSingleForDevice(dev: SwiotlbDevice, tlbAddr: number, size: number, dir: DmaDataDirection): void {
    const where = this.locate(dev, tlbAddr);
    if (where === null) return;
    if (dir === 'to-device' || dir === 'bidirectional') this.bounceIn(dev, where, tlbAddr, size, true);
    else if (dir !== 'from-device') this.ctx.log.oops('kernel BUG at kernel/dma/swiotlb.c (__swiotlb_sync_single_for_device)', [`dir ${dir}`]);
  }

  /** swiotlb_sync_single_for_cpu(): bounce → original for FROM_DEVICE and BIDIRECTIONAL. */
  swiotlbSyncSingleForCpu(dev: SwiotlbDevice, tlbAddr: number, size: number, dir: DmaDataDirection): void {
    const where = this.locate(dev, tlbAddr);
    if (where === null) return;
    if (dir === 'from-device' || dir === 'bidirectional') this.bounceIn(dev, where, tlbAddr, size, false);
    else if (dir !== 'to-device') this.ctx.log.oops('kernel BUG at kernel/dma/swiotlb.c (__swiotlb_sync_single_for_cpu)', [`dir ${dir}`]);
  }

  /** The pool or seed 004 dynamic buffer holding tlbAddr for dev, or null when it is no bounce buffer of dev's allocator. */
  private locate(dev: SwiotlbDevice, tlbAddr: number): IoTlbPool | IoTlbDynSlot | null {
    const mem = this.memOf(dev);
    if (mem === null) return null;
    const pool = mem.findPool(dev, tlbAddr);
    if (pool !== null) return pool;
    return mem.dynSlots.size > 0 ? (mem.findDyn(tlbAddr) ?? null) : null;
  }

  private bounceIn(dev: SwiotlbDevice, where: IoTlbPool | IoTlbDynSlot, tlbAddr: number, size: number, toDevice: boolean): void {
    if (where instanceof IoTlbPool) this.bouncePool(dev, where, tlbAddr, size, toDevice);
    else this.bounceDyn(dev, where, tlbAddr, size, toDevice);
  }

  /**
   * swiotlb_bounce() in a pool: copies between a bounce buffer and its original, `size` bytes from
   * tlbAddr (which may be inside the buffer, for partial syncs).
   */
  private bouncePool(dev: SwiotlbDevice, pool: IoTlbPool, tlbAddr: number, size: number, toDevice: boolean): void {
    const index = pool.slotIndexOf(tlbAddr);
    const slotOrig = pool.origAddr[index]!;
    if (slotOrig === INVALID_PHYS_ADDR) return;
    const tlbOffset = modulo(tlbAddr, IO_TLB_SIZE) - swiotlbAlignOffset(dev, 0, slotOrig);
    this.copy(dev, tlbAddr, slotOrig + tlbOffset, size, pool.allocSize[index]! - tlbOffset, toDevice);
  }

  /** swiotlb_bounce() for a seed 004 dynamic buffer. */
  private bounceDyn(dev: SwiotlbDevice, slot: IoTlbDynSlot | undefined, tlbAddr: number, size: number, toDevice: boolean): void {
    if (slot === undefined) return;
    const tlbOffset = tlbAddr - slot.pages.addr;
    this.copy(dev, tlbAddr, slot.origAddr + tlbOffset, size, slot.allocSize - tlbOffset, toDevice);
  }

  /** The bounce copy itself; a copy longer than the allocation is a WARN and is cut to it. */
  private copy(dev: SwiotlbDevice, tlbAddr: number, orig: number, size: number, allocSize: number, toDevice: boolean): void {
    const len = size > allocSize ? this.overflow(dev, size, allocSize) : size;
    if (len === 0) return;
    const r = toDevice ? this.copier.copy(tlbAddr, orig, len) : this.copier.copy(orig, tlbAddr, len);
    if (!r.ok) {
      this.ctx.log.oops(`Unable to handle kernel paging request at physical address ${hex(r.addr)}`, [`swiotlb bounce ${hex(orig)} <-> ${hex(tlbAddr)} size ${len}`]);
    }
  }

  /** A bounce past the end of its allocation: WARN once, and copy what the allocation holds. */
  private overflow(dev: SwiotlbDevice, size: number, allocSize: number): number {
    const site = 'kernel/dma/swiotlb.c swiotlb_bounce';
    if (!this.warnedOverflow.has(site)) {
      this.warnedOverflow.add(site);
      this.ctx.log.warn(site, `Buffer overflow detected. Allocation size: ${allocSize}. Mapping size: ${size}.`, dev);
    }
    return Math.max(0, allocSize);
  }

  // ---- restricted DMA pools -------------------------------------------------------------------

  /** rmem_swiotlb_setup(): accepts a restricted-dma-pool node. Returns 0 or -EINVAL. */
  rmemSwiotlbSetup(rmem: RestrictedDmaPool): number {
    if ((rmem.properties ?? []).some((p) => DISQUALIFYING_PROPS.includes(p))) return -EINVAL;
    this.restricted.set(rmem.name, { rmem, mem: null });
    this.ctx.log.info(`Reserved memory: created restricted DMA pool at ${hex(rmem.base, 16)}, size ${Math.floor(rmem.size / MiB)} MiB`);
    return 0;
  }

  /** rmem_swiotlb_device_init(): the first device creates the pool's allocator, later ones share it. */
  rmemSwiotlbDeviceInit(name: string, dev: SwiotlbDevice): number {
    const entry = this.restricted.get(name);
    if (entry === undefined) return -EINVAL;
    const { rmem } = entry;
    if (!this.deps.memory.isRam(rmem.base, rmem.size)) {
      this.ctx.log.devErr(dev, 'Restricted DMA pool must be accessible within the linear mapping.');
      return -EINVAL;
    }
    if (entry.mem === null) {
      const nslabs = Math.floor(rmem.size / 2 ** IO_TLB_SHIFT);
      if (nslabs === 0) return -EINVAL;
      entry.mem = new IoTlbMem({
        defpool: new IoTlbPool(rmem.base, nslabs, 1, 'restricted'),
        defpoolPages: null,
        dynamic: false,
        forceBounce: true,
        forAlloc: true,
        physLimit: rmem.base + rmem.size - 1,
        defaultNareas: 1,
        defaultNslabs: nslabs,
        name: rmem.name,
      });
    }
    this.setDeviceMem(dev, entry.mem);
    return 0;
  }

  /** rmem_swiotlb_device_release(): the device goes back to the default allocator. */
  rmemSwiotlbDeviceRelease(dev: SwiotlbDevice): void {
    this.setDeviceMem(dev, undefined);
  }

  /**
   * swiotlb_alloc(): pages for a coherent allocation from dev's restricted pool, aligned to their own
   * size rounded up to a power of two; null when there is no room.
   */
  swiotlbAlloc(dev: SwiotlbDevice, size: number): number | null {
    const mem = this.memOf(dev);
    if (mem === null) return null;
    const order = ilog2(roundupPowOfTwo(Math.max(1, Math.ceil(size / PAGE_SIZE))));
    const align = 2 ** order * PAGE_SIZE - 1;
    const found = this.findSlots(dev, mem, 0, size, align);
    if (found < 0) return null;
    const pool = this.foundPool!;
    const tlbAddr = pool.slotAddr(found);
    if (tlbAddr % PAGE_SIZE !== 0) {
      this.ctx.log.warnOnce('kernel/dma/swiotlb.c swiotlb_alloc', `Cannot allocate pages from non page-aligned swiotlb addr ${hex(tlbAddr)}.`, dev);
      mem.decUsed(pool.releaseSlots(dev, tlbAddr));
      return null;
    }
    return tlbAddr;
  }

  /** swiotlb_free(): false when addr is not from one of dev's pools. */
  swiotlbFree(dev: SwiotlbDevice, addr: number, _size: number): boolean {
    const mem = this.memOf(dev);
    const pool = mem?.findPool(dev, addr) ?? null;
    if (mem === null || pool === null) return false;
    mem.decUsed(pool.releaseSlots(dev, addr));
    return true;
  }
}
