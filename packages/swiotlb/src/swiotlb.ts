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
import { EINVAL, GiB, MiB, PAGE_SIZE, alignUp, devPrefix, hex, ilog2, roundupPowOfTwo } from '@dmasim/core';
import type { CpuCache, KernelLog, PageAllocator, PhysicalMemory, Scheduler } from '@dmasim/core';
import { BounceCopier } from './bounce';
import {
  DMA_ATTR_NO_WARN,
  DMA_ATTR_SKIP_CPU_SYNC,
  DMA_MAPPING_ERROR,
  INVALID_PHYS_ADDR,
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
  /** Areas of the default pool (the kernel uses one per possible CPU); default 1. Rounded up to a power of two. */
  readonly nareas?: number;
  /** What to do when the pools are full (see SwiotlbDynamicMode); default false. */
  readonly dynamic?: SwiotlbDynamicMode;
  /**
   * Per-buffer mode only: seed 004 as posted tries a dedicated buffer first and falls back to the
   * pool ('dynamic-first'); 'fixed-first' (default) uses the pool while it can and allocates only
   * when it cannot.
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

/** Where a bounce address lives. */
type Target = { readonly kind: 'pool'; readonly pool: IoTlbPool } | { readonly kind: 'dyn'; readonly slot: IoTlbDynSlot };

const DISQUALIFYING_PROPS = ['reusable', 'linux,cma-default', 'linux,dma-default', 'no-map'];

export class Swiotlb {
  readonly options: Required<Omit<SwiotlbOptions, 'base' | 'physLimit'>> & { base?: number; physLimit: number };
  /** io_tlb_default_mem; null when swiotlb has no memory. */
  readonly defaultMem: IoTlbMem | null;
  private readonly ctx: SwiotlbContext;
  private readonly deviceMem = new WeakMap<SwiotlbDevice, IoTlbMem | null>();
  private deviceMemCount = 0;
  private readonly restricted = new Map<string, { rmem: RestrictedDmaPool; mem: IoTlbMem | null }>();
  private readonly pendingWork: (() => void)[] = [];
  private readonly warnedOverflow = new Set<string>();

  constructor(private readonly deps: SwiotlbDeps, options: SwiotlbOptions = {}) {
    const dmaZone = deps.pages.stats().find((z) => z.name === 'DMA');
    const defaultLimit = dmaZone !== undefined && dmaZone.managedPages > 0 ? dmaZone.end - 1 : 4 * GiB - 1;
    this.options = {
      size: options.size ?? IO_TLB_DEFAULT_SIZE,
      nareas: roundupPowOfTwo(Math.max(1, options.nareas ?? 1)),
      dynamic: options.dynamic ?? false,
      perBufferOrder: options.perBufferOrder ?? 'fixed-first',
      force: options.force ?? false,
      verbose: options.verbose ?? true,
      physLimit: options.physLimit ?? defaultLimit,
      ...(options.base === undefined ? {} : { base: options.base }),
    };
    this.ctx = {
      memory: deps.memory,
      pages: deps.pages,
      log: deps.log,
      reach: deps.reach ?? DEFAULT_REACH,
      copier: new BounceCopier(deps.memory, deps.cache ?? null),
      cpu: deps.cpu ?? (() => 0),
      queueWork: (label, fn) => {
        if (deps.scheduler !== undefined) deps.scheduler.schedule(0, fn, label);
        else this.pendingWork.push(fn);
      },
    };
    this.defaultMem = this.swiotlbInit();
  }

  // ---- setup ----------------------------------------------------------------------------------

  /** swiotlb_init(): the default pool in low memory. */
  private swiotlbInit(): IoTlbMem | null {
    const o = this.options;
    if (o.size <= 0) return null;
    let nslabs = alignUp(nrSlots(o.size), IO_TLB_SEGSIZE);
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
    const nareas = limitNareas(o.nareas, nslabs);
    nslabs -= nslabs % nareas;
    const pool = new IoTlbPool(start, nslabs, nareas, 'default');
    if (o.verbose) {
      this.deps.log.info(`${PR_FMT}mapped [mem ${hex(start, 16)}-${hex(pool.end - 1, 16)}] (${Math.floor((nslabs * IO_TLB_SIZE) / MiB)}MB)`);
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
    while (this.pendingWork.length > 0) this.pendingWork.shift()!();
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

  /** swiotlb_find_slots(): every area of every pool, then (growing mode) a transient pool. */
  private findSlots(dev: SwiotlbDevice, mem: IoTlbMem, origAddr: number, allocSize: number, allocAlignMask: number): { pool: IoTlbPool; index: number } | null {
    const ctx = this.ctx;
    const growing = mem.dynamic === 'growing';
    if (growing && allocSize > IO_TLB_MAX_MAPPING) return null;
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
          return { pool, index };
        }
      }
    }
    if (!mem.canGrow) return null;
    if (!mem.dynAllocPending) {
      mem.dynAllocPending = true;
      ctx.queueWork('swiotlb_dyn_alloc', () => swiotlbDynAlloc(ctx, mem));
    }
    const t = swiotlbTransientSlots(ctx, dev, mem, origAddr, allocSize, allocAlignMask);
    if (t !== null) mem.incUsed(nrSlots(allocSize));
    return t;
  }

  // ---- map / unmap / sync ---------------------------------------------------------------------

  /**
   * swiotlb_tbl_map_single(): takes a bounce buffer for [origAddr, origAddr + mappingSize), copies the
   * original into it whatever the direction (so a partial device write leaves the rest intact), and
   * returns its physical address, or DMA_MAPPING_ERROR.
   */
  swiotlbTblMapSingle(dev: SwiotlbDevice, origAddr: number, mappingSize: number, allocAlignMask: number, dir: DmaDataDirection, attrs: DmaAttrs = 0): number {
    const log = this.ctx.log;
    const mem = this.memOf(dev);
    if (mem === null || mem.nslabs === 0) {
      log.ratelimited('swiotlb_tbl_map_single', 'warning', `${devPrefix(dev)}Can not allocate SWIOTLB buffer earlier and can't now provide you with the DMA bounce buffer`);
      return DMA_MAPPING_ERROR;
    }
    if (allocAlignMask > PAGE_SIZE - 1) {
      log.warnOnce('kernel/dma/swiotlb.c swiotlb_tbl_map_single', `${devPrefix(dev)}Alloc alignment may prevent fulfilling requests with max mapping_size`);
    }
    const fullOffset = swiotlbAlignOffset(dev, allocAlignMask, origAddr);
    const size = alignUp(mappingSize + fullOffset, allocAlignMask + 1);

    let tlbAddr = DMA_MAPPING_ERROR;
    const perBuffer = mem.dynamic === 'per-buffer' && !mem.forAlloc;
    if (perBuffer && this.options.perBufferOrder === 'dynamic-first') {
      tlbAddr = swiotlbDynMap(this.ctx, dev, mem, origAddr, size, allocAlignMask, dir);
    }
    if (tlbAddr === DMA_MAPPING_ERROR) {
      const found = this.findSlots(dev, mem, origAddr, size, allocAlignMask);
      if (found !== null) {
        const padSlots = Math.floor(fullOffset / IO_TLB_SIZE);
        const offset = fullOffset % IO_TLB_SIZE;
        const index = found.index + padSlots;
        found.pool.setOrig(index, padSlots, nrSlots(size) - padSlots, origAddr);
        tlbAddr = found.pool.slotAddr(index) + offset;
      }
    }
    if (tlbAddr === DMA_MAPPING_ERROR && perBuffer && this.options.perBufferOrder === 'fixed-first') {
      tlbAddr = swiotlbDynMap(this.ctx, dev, mem, origAddr, size, allocAlignMask, dir);
    }
    this.runPendingWork();
    if (tlbAddr === DMA_MAPPING_ERROR) {
      mem.fullErrors++;
      if (!hasAttr(attrs, DMA_ATTR_NO_WARN)) {
        log.ratelimited(
          'swiotlb_tbl_map_single',
          'warning',
          `${devPrefix(dev)}swiotlb buffer is full (sz: ${size} bytes), total ${mem.nslabs} (slots), used ${mem.used} (slots)`,
        );
      }
      return DMA_MAPPING_ERROR;
    }
    this.bounce(dev, mem, tlbAddr, mappingSize, true, null);
    return tlbAddr;
  }

  /**
   * swiotlb_tbl_unmap_single(): copies the bounce buffer back for FROM_DEVICE and BIDIRECTIONAL
   * (unless DMA_ATTR_SKIP_CPU_SYNC) and frees it. Returns false (doing nothing) when tlbAddr is not a
   * bounce buffer of dev's allocator.
   */
  swiotlbTblUnmapSingle(dev: SwiotlbDevice, tlbAddr: number, mappingSize: number, dir: DmaDataDirection, attrs: DmaAttrs = 0): boolean {
    const mem = this.memOf(dev);
    if (mem === null) return false;
    const target = this.targetOf(dev, mem, tlbAddr);
    if (target === null) return false;
    if (!hasAttr(attrs, DMA_ATTR_SKIP_CPU_SYNC) && (dir === 'from-device' || dir === 'bidirectional')) {
      this.bounce(dev, mem, tlbAddr, mappingSize, false, target);
    }
    if (target.kind === 'dyn') {
      swiotlbDynUnmap(this.ctx, mem, target.slot);
    } else if (target.pool.transient) {
      swiotlbDelTransient(this.ctx, mem, target.pool);
    } else {
      mem.decUsed(target.pool.releaseSlots(dev, tlbAddr));
    }
    return true;
  }

  /** swiotlb_sync_single_for_device(): original → bounce for TO_DEVICE and BIDIRECTIONAL. */
  swiotlbSyncSingleForDevice(dev: SwiotlbDevice, tlbAddr: number, size: number, dir: DmaDataDirection): void {
    const mem = this.memOf(dev);
    if (mem === null) return;
    const target = this.targetOf(dev, mem, tlbAddr);
    if (target === null) return;
    if (dir === 'to-device' || dir === 'bidirectional') this.bounce(dev, mem, tlbAddr, size, true, target);
    else if (dir !== 'from-device') this.ctx.log.oops('kernel BUG at kernel/dma/swiotlb.c (__swiotlb_sync_single_for_device)', [`dir ${dir}`]);
  }

  /** swiotlb_sync_single_for_cpu(): bounce → original for FROM_DEVICE and BIDIRECTIONAL. */
  swiotlbSyncSingleForCpu(dev: SwiotlbDevice, tlbAddr: number, size: number, dir: DmaDataDirection): void {
    const mem = this.memOf(dev);
    if (mem === null) return;
    const target = this.targetOf(dev, mem, tlbAddr);
    if (target === null) return;
    if (dir === 'from-device' || dir === 'bidirectional') this.bounce(dev, mem, tlbAddr, size, false, target);
    else if (dir !== 'to-device') this.ctx.log.oops('kernel BUG at kernel/dma/swiotlb.c (__swiotlb_sync_single_for_cpu)', [`dir ${dir}`]);
  }

  private targetOf(dev: SwiotlbDevice, mem: IoTlbMem, tlbAddr: number): Target | null {
    const pool = mem.findPool(dev, tlbAddr);
    if (pool !== null) return { kind: 'pool', pool };
    const slot = mem.dynSlots.size > 0 ? mem.findDyn(tlbAddr) : undefined;
    return slot === undefined ? null : { kind: 'dyn', slot };
  }

  /**
   * swiotlb_bounce(): copies between a bounce buffer and its original, `size` bytes from tlbAddr (which
   * may be inside the buffer, for partial syncs). A copy longer than the allocation is a WARN and is
   * cut to it.
   */
  private bounce(dev: SwiotlbDevice, mem: IoTlbMem, tlbAddr: number, size: number, toDevice: boolean, known: Target | null): void {
    const target = known ?? this.targetOf(dev, mem, tlbAddr);
    if (target === null) return;
    let orig: number;
    let allocSize: number;
    if (target.kind === 'pool') {
      const pool = target.pool;
      const index = pool.slotIndexOf(tlbAddr);
      const slotOrig = pool.origAddr[index]!;
      if (slotOrig === INVALID_PHYS_ADDR) return;
      const tlbOffset = (tlbAddr % IO_TLB_SIZE) - swiotlbAlignOffset(dev, 0, slotOrig);
      orig = slotOrig + tlbOffset;
      allocSize = pool.allocSize[index]! - tlbOffset;
    } else {
      const tlbOffset = tlbAddr - target.slot.pages.addr;
      orig = target.slot.origAddr + tlbOffset;
      allocSize = target.slot.allocSize - tlbOffset;
    }
    let len = size;
    if (len > allocSize) {
      const site = 'kernel/dma/swiotlb.c swiotlb_bounce';
      if (!this.warnedOverflow.has(site)) {
        this.warnedOverflow.add(site);
        this.ctx.log.warn(site, `${devPrefix(dev)}Buffer overflow detected. Allocation size: ${allocSize}. Mapping size: ${size}.`);
      }
      len = Math.max(0, allocSize);
    }
    if (len === 0) return;
    const r = toDevice ? this.ctx.copier.toBounce(tlbAddr, orig, len) : this.ctx.copier.fromBounce(orig, tlbAddr, len);
    if (!r.ok) {
      this.ctx.log.oops(`Unable to handle kernel paging request at physical address ${hex(r.addr)}`, [`swiotlb bounce ${hex(orig)} <-> ${hex(tlbAddr)} size ${len}`]);
    }
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
    if (found === null) return null;
    const tlbAddr = found.pool.slotAddr(found.index);
    if (tlbAddr % PAGE_SIZE !== 0) {
      this.ctx.log.warnOnce('kernel/dma/swiotlb.c swiotlb_alloc', `${devPrefix(dev)}Cannot allocate pages from non page-aligned swiotlb addr ${hex(tlbAddr)}.`);
      mem.decUsed(found.pool.releaseSlots(dev, tlbAddr));
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
