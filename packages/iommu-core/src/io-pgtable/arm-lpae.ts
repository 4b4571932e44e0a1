import { EEXIST, EINVAL, ENOMEM, ERANGE, GFP_KERNEL, hex, modulo } from '@dmasim/core/standalone';
import type { CpuCache, KernelLog, PageAllocator, PhysicalMemory } from '@dmasim/core/standalone';
import { PteAttributeTable } from './attributes';
import {
  PTE_ATTR_LO_MASK,
  PTE_HI_ATTR_MASK,
  PTE_TYPE_BLOCK,
  PTE_TYPE_PAGE,
  PTE_TYPE_TABLE,
  addrHiWord,
  addrLoWord,
  descAddr,
  isLeaf,
  isTable,
} from './descriptor';
import {
  ARM_LPAE_MAX_ADDR_BITS,
  ARM_LPAE_MAX_LEVELS,
  LPAE_4K_PGSIZES,
  LPAE_GRANULE,
  LPAE_PTES_PER_TABLE,
  lpaeBlockSize,
  lpaeGeometry,
  lpaeOutputSizeCode,
} from './geometry';
import { iommuPgsize, pgsizeBitmapToList, pgsizeListToBitmap, type PgsizeCount } from './pgsize';
import { IOMMU_PROT_MASK, IOMMU_READ, IOMMU_WRITE } from './prot';
import {
  ARM_LPAE_MAIR,
  ARM_LPAE_TCR_RGN_NC,
  ARM_LPAE_TCR_RGN_WBWA,
  ARM_LPAE_TCR_SH_IS,
  ARM_LPAE_TCR_SH_OS,
  ARM_LPAE_TCR_TG0_4K,
} from './registers';
import type {
  ArmLpaeS1Cfg,
  ArmLpaeS2Cfg,
  IommuFlushOps,
  IommuIotlbGather,
  IoPgtableCfg,
  IoPgtableEnv,
  IoPgtableFmt,
} from './types';

const SITE = 'drivers/iommu/io-pgtable-arm.c';
const NO_GATHER: IommuIotlbGather = Object.freeze({ queued: false });
/** Bytes one level-2 entry covers: the span of one last-level table. */
const L2_BLOCK = 2 * 1024 * 1024;

/** Out-parameter of mapPages (the kernel's `size_t *mapped`): bytes mapped are added to `value`. */
export interface MappedBytes {
  value: number;
}

/** Thrown when a page table is used after freeIoPgtableOps (a use-after-free in the kernel). */
export class IoPgtableFreedError extends Error {
  constructor() {
    super('io-pgtable: used after free_io_pgtable_ops()');
    this.name = 'IoPgtableFreedError';
  }
}

/**
 * ARM LPAE (VMSAv8-64) I/O page tables, 4 KiB granule (drivers/iommu/io-pgtable-arm.c,
 * ARM_64_LPAE_S1 and ARM_64_LPAE_S2).
 *
 * Every table lives in simulated physical memory, taken from the core page allocator, and holds
 * architectural descriptors (see descriptor.ts), so an SMMU model walking from `ttbr` sees exactly
 * what the kernel would have written. Nothing about the tree is kept on the side: every walk reads
 * the descriptors from memory.
 *
 * Writes go straight to PhysicalMemory. For a non-coherent walker the kernel cleans each written
 * descriptor to the point of coherency (dma_sync_single_for_device); the SMMU model reads table
 * memory without going through the CPU cache model, so writing to memory directly is the same as
 * writing through the cache and cleaning it at once.
 *
 * Like the kernel, tables are not freed when their last entry is unmapped: only when the entry that
 * points to them is unmapped at its own level (or replaced by a block), and on free().
 */
export class ArmLpaeIoPgtable {
  readonly fmt: IoPgtableFmt;
  /** The cookie passed to every TLB callback. */
  readonly cookie: unknown;
  /** Page sizes after restriction to the granule (SZ_4K | SZ_2M | SZ_1G at most). */
  readonly pgsizeBitmap: number;
  readonly ias: number;
  readonly oas: number;
  readonly coherentWalk: boolean;
  /** Level the walk starts at (0 for 4 levels, 1 for 3, ...). */
  readonly startLevel: number;
  /** Bytes of the root table; more than 4 KiB for a concatenated stage-2 root. */
  readonly pgdSize: number;
  /** Physical address of the root table (TTBR0 / VTTBR). */
  readonly ttbr: number;
  /** Stage-1 register values for the SMMU driver (null for stage 2). */
  readonly armLpaeS1Cfg: ArmLpaeS1Cfg | null;
  /** Stage-2 register values for the SMMU driver (null for stage 1). */
  readonly armLpaeS2Cfg: ArmLpaeS2Cfg | null;

  private readonly memory: PhysicalMemory;
  private readonly cache: CpuCache | undefined;
  private readonly pages: PageAllocator;
  private readonly log: KernelLog;
  private readonly tlb: IommuFlushOps;
  private readonly noWarn: boolean;
  private readonly splitBlocks: boolean;
  private readonly iommuDev: IoPgtableCfg['iommuDev'];
  private readonly pgdOrder: number;
  private readonly pgsizes: readonly number[];
  private readonly iasLimit: number;
  private readonly oasLimit: number;
  /** Bytes one entry maps, per level 0..3. */
  private readonly blockSize = new Float64Array(ARM_LPAE_MAX_LEVELS);
  /** Entries in a table of each level (the root may have fewer or more than 512). */
  private readonly entries = new Float64Array(ARM_LPAE_MAX_LEVELS);
  private readonly attrs: PteAttributeTable;
  private readonly pgsizeCount: PgsizeCount = { count: 0 };
  private readonly mappedScratch: MappedBytes = { value: 0 };
  private tables = 0;
  private freed = false;
  /**
   * Walk cache: the last-level table serving one 2 MiB-aligned IOVA region (`wcRegion` is
   * iova / 2 MiB, -1 when empty), like the walk caches of real MMUs. It only skips reading the upper
   * descriptors, which are in memory all the same; it is dropped whenever a table is freed, the only
   * way the upper descriptors leading to a last-level table change (this object is their only writer).
   */
  private wcRegion = -1;
  private wcTable = 0;
  private readonly wcEnabled: boolean;

  private constructor(
    fmt: IoPgtableFmt,
    cfg: IoPgtableCfg,
    cookie: unknown,
    env: IoPgtableEnv,
    pgsizes: readonly number[],
    ias: number,
    oas: number,
    pgd: number,
    geometry: ReturnType<typeof lpaeGeometry>,
  ) {
    this.fmt = fmt;
    this.cookie = cookie;
    this.memory = env.memory;
    this.cache = env.cache;
    this.pages = env.pages;
    this.log = env.log;
    this.tlb = cfg.tlb;
    this.noWarn = cfg.quirkNoWarn ?? false;
    this.splitBlocks = cfg.splitBlocks ?? false;
    this.iommuDev = cfg.iommuDev;
    this.coherentWalk = cfg.coherentWalk;
    this.pgsizes = pgsizes;
    this.pgsizeBitmap = pgsizeListToBitmap(pgsizes);
    this.ias = ias;
    this.oas = oas;
    this.iasLimit = 2 ** ias;
    this.oasLimit = 2 ** oas;
    this.startLevel = geometry.startLevel;
    this.pgdSize = geometry.pgdSize;
    this.pgdOrder = geometry.pgdOrder;
    this.ttbr = pgd;
    this.tables = 1;
    for (let lvl = 0; lvl < ARM_LPAE_MAX_LEVELS; lvl++) {
      this.blockSize[lvl] = lpaeBlockSize(lvl);
      this.entries[lvl] = lvl === geometry.startLevel ? 2 ** geometry.pgdBits : LPAE_PTES_PER_TABLE;
    }
    this.attrs = new PteAttributeTable(fmt);
    this.wcEnabled = geometry.startLevel < ARM_LPAE_MAX_LEVELS - 1;

    const sh = cfg.coherentWalk ? ARM_LPAE_TCR_SH_IS : ARM_LPAE_TCR_SH_OS;
    const rgn = cfg.coherentWalk ? ARM_LPAE_TCR_RGN_WBWA : ARM_LPAE_TCR_RGN_NC;
    const sizeCode = lpaeOutputSizeCode(oas);
    if (fmt === 's1') {
      this.armLpaeS1Cfg = {
        ttbr: pgd,
        tcr: { sh, irgn: rgn, orgn: rgn, tg: ARM_LPAE_TCR_TG0_4K, ips: sizeCode, tsz: 64 - ias },
        mair: ARM_LPAE_MAIR,
      };
      this.armLpaeS2Cfg = null;
    } else {
      // SL0 counts differently for the 4 KiB granule: 2 means "start at level 0", 1 level 1, 0 level 2.
      const sl = 2 - geometry.startLevel;
      this.armLpaeS1Cfg = null;
      this.armLpaeS2Cfg = {
        vttbr: pgd,
        vtcr: { sh, irgn: rgn, orgn: rgn, tg: ARM_LPAE_TCR_TG0_4K, ps: sizeCode, tsz: 64 - ias, sl },
      };
    }
  }

  /**
   * alloc_io_pgtable_ops(ARM_64_LPAE_S1 or ARM_64_LPAE_S2, cfg, cookie): null when the
   * configuration cannot be served (no 4 KiB page size, an address size out of range, an output
   * size with no TCR encoding) or the root table cannot be allocated.
   */
  static alloc(fmt: IoPgtableFmt, cfg: IoPgtableCfg, cookie: unknown, env: IoPgtableEnv): ArmLpaeIoPgtable | null {
    // arm_lpae_restrict_pgsizes with a 4 KiB CPU page: the granule is 4 KiB when offered; the
    // 16 KiB and 64 KiB granules are not implemented, so a bitmap without 4 KiB is refused.
    const offered = pgsizeBitmapToList(cfg.pgsizeBitmap);
    if (!offered.includes(LPAE_GRANULE)) return null;
    const pgsizes = offered.filter((s) => LPAE_4K_PGSIZES.includes(s));
    const ias = Math.min(cfg.ias, 48);
    const oas = Math.min(cfg.oas, 48);
    if (ias > ARM_LPAE_MAX_ADDR_BITS || oas > ARM_LPAE_MAX_ADDR_BITS) return null;
    if (ias <= 12 || lpaeOutputSizeCode(oas) < 0) return null;
    const geometry = lpaeGeometry(ias, fmt === 's2');
    const pgd = env.pages.allocPages(geometry.pgdOrder, GFP_KERNEL);
    if (pgd === null) return null;
    const pgdBytes = LPAE_GRANULE * 2 ** geometry.pgdOrder;
    if (pgd + pgdBytes > 2 ** oas) {
      env.pages.freePages(pgd, geometry.pgdOrder);
      logNoDma(env.log, cfg);
      return null;
    }
    env.cache?.invalidate(pgd, pgdBytes);
    env.memory.fill(pgd, pgdBytes, 0);
    return new ArmLpaeIoPgtable(fmt, cfg, cookie, env, pgsizes, ias, oas, pgd, geometry);
  }

  /** Table pages currently allocated, the root included (a concatenated root counts once). */
  get tablePages(): number {
    return this.tables;
  }

  // ------------------------------------------------------------------ map

  /**
   * map_pages: maps `pgcount` pages of `pgsize` bytes from iova to paddr with one prot. Stops at the
   * end of the table holding the first entry (the caller loops on `mapped`, as iommu_map does).
   * Returns 0 or a negative errno; the bytes mapped are added to `mapped.value`.
   */
  mapPages(iova: number, paddr: number, pgsize: number, pgcount: number, prot: number, mapped?: MappedBytes): number {
    if (this.freed) throw new IoPgtableFreedError();
    if (!this.pgsizeSupported(pgsize)) {
      this.warn('arm_lpae_map_pages');
      return -EINVAL;
    }
    if (iova >= this.iasLimit || paddr >= this.oasLimit || iova < 0 || paddr < 0) {
      this.warn('arm_lpae_map_pages');
      return -ERANGE;
    }
    if (!(prot & (IOMMU_READ | IOMMU_WRITE))) return -EINVAL;
    const p = prot & IOMMU_PROT_MASK;
    return this.lpaeMap(iova, paddr, pgsize, pgcount, this.attrs.lo[p]!, this.attrs.hi[p]!, mapped);
  }

  /** __arm_lpae_map, as a loop down the levels. */
  private lpaeMap(iova: number, paddr: number, size: number, pgcount: number, attrLo: number, attrHi: number, mapped: MappedBytes | undefined): number {
    const mem = this.memory;
    let table = this.ttbr;
    let lvl = this.startLevel;
    if (size === LPAE_GRANULE && Math.floor(iova / L2_BLOCK) === this.wcRegion) {
      table = this.wcTable;
      lvl = ARM_LPAE_MAX_LEVELS - 1;
    }
    for (; ; lvl++) {
      const blockSize = this.blockSize[lvl]!;
      const nEntries = this.entries[lvl]!;
      const idx = tableIndex(iova, blockSize, nEntries);
      const ptep = table + idx * 8;
      if (size === blockSize) {
        const num = Math.min(pgcount, nEntries - idx);
        const ret = this.initPteChecked(iova, paddr, attrLo, attrHi, lvl, num, ptep);
        if (ret === 0 && mapped !== undefined) mapped.value += num * size;
        return ret;
      }
      if (lvl >= ARM_LPAE_MAX_LEVELS - 1) {
        this.warn('__arm_lpae_map');
        return -EINVAL;
      }
      const lo = mem.readU32(ptep);
      const hi = mem.readU32(ptep + 4);
      if (lo === 0 && hi === 0) {
        const next = this.allocTable();
        if (next < 0) return -ENOMEM;
        this.writePte(ptep, addrLoWord(next) + PTE_TYPE_TABLE, addrHiWord(next));
        table = next;
      } else if (isLeaf(lo, lvl)) {
        // a block already maps this range: we require an unmap first
        this.warnUnlessQuirk('__arm_lpae_map');
        return -EEXIST;
      } else {
        table = descAddr(lo, hi);
      }
      if (lvl === ARM_LPAE_MAX_LEVELS - 2 && this.wcEnabled) this.fillWalkCache(iova, table);
    }
  }

  /** arm_lpae_init_pte: refuses live leaves, drops old tables the new blocks replace, then writes. */
  private initPteChecked(iova: number, paddr: number, attrLo: number, attrHi: number, lvl: number, num: number, ptep: number): number {
    const mem = this.memory;
    const sz = this.blockSize[lvl]!;
    for (let i = 0; i < num; i++) {
      const a = ptep + i * 8;
      const lo = mem.readU32(a);
      if (isLeaf(lo, lvl)) {
        this.warnUnlessQuirk('arm_lpae_init_pte');
        return -EEXIST;
      }
      if (isTable(lo, lvl)) {
        // a block replaces a table: unmap and free the table first (whatever it still maps)
        this.clearTableEntry(a, lo, mem.readU32(a + 4), lvl, iova + i * sz);
      }
    }
    const type = lvl === ARM_LPAE_MAX_LEVELS - 1 ? PTE_TYPE_PAGE : PTE_TYPE_BLOCK;
    const lo0 = attrLo + type;
    for (let i = 0; i < num; i++) {
      const pa = paddr + i * sz;
      this.writePte(ptep + i * 8, lo0 + addrLoWord(pa), attrHi + addrHiWord(pa));
    }
    return 0;
  }

  /**
   * iommu_map over this table alone: splits [iova, iova+size) into the largest pages alignment
   * allows (iommu_pgsize) and maps them; on failure unmaps what it mapped. 0 or a negative errno.
   */
  map(iova: number, paddr: number, size: number, prot: number): number {
    const min = this.pgsizes[0]!;
    if (modulo(iova, min) !== 0 || modulo(paddr, min) !== 0 || modulo(size, min) !== 0) {
      this.log.err(`unaligned: iova ${hex(iova)} pa ${hex(paddr)} size ${hex(size)} min_pagesz ${hex(min)}`);
      return -EINVAL;
    }
    let remaining = size;
    let cur = iova;
    let pa = paddr;
    let ret = 0;
    const out = this.mappedScratch;
    while (remaining > 0) {
      const pgsize = iommuPgsize(this.pgsizes, cur, pa, remaining, this.pgsizeCount);
      out.value = 0;
      ret = this.mapPages(cur, pa, pgsize, this.pgsizeCount.count, prot, out);
      remaining -= out.value;
      if (ret !== 0) break;
      cur += out.value;
      pa += out.value;
    }
    if (ret !== 0) this.unmap(iova, size - remaining);
    return ret;
  }

  // ------------------------------------------------------------------ unmap

  /**
   * unmap_pages: unmaps `pgcount` pages of `pgsize` bytes at iova, up to the end of one table.
   * Returns the bytes unmapped (0 with a WARN when nothing is mapped there). A block larger than
   * `pgsize` is split into a table mapping the rest of it with `splitBlocks` (kernels before 6.13);
   * otherwise the unmap is refused and the block kept.
   */
  unmapPages(iova: number, pgsize: number, pgcount: number, gather: IommuIotlbGather = NO_GATHER): number {
    if (this.freed) throw new IoPgtableFreedError();
    if (!this.pgsizeSupported(pgsize) || pgcount === 0) {
      this.warn('arm_lpae_unmap_pages');
      return 0;
    }
    if (iova >= this.iasLimit || iova < 0) {
      this.warn('arm_lpae_unmap_pages');
      return 0;
    }
    if (pgsize === LPAE_GRANULE && Math.floor(iova / L2_BLOCK) === this.wcRegion) {
      return this.lpaeUnmap(gather, iova, pgsize, pgcount, ARM_LPAE_MAX_LEVELS - 1, this.wcTable);
    }
    return this.lpaeUnmap(gather, iova, pgsize, pgcount, this.startLevel, this.ttbr);
  }

  /** __arm_lpae_unmap, as a loop down the levels. */
  private lpaeUnmap(gather: IommuIotlbGather, iova: number, size: number, pgcount: number, startLvl: number, startTable: number): number {
    const mem = this.memory;
    let table = startTable;
    for (let lvl = startLvl; ; lvl++) {
      if (lvl === ARM_LPAE_MAX_LEVELS) {
        this.warn('__arm_lpae_unmap');
        return 0;
      }
      const blockSize = this.blockSize[lvl]!;
      const nEntries = this.entries[lvl]!;
      const idx = tableIndex(iova, blockSize, nEntries);
      let ptep = table + idx * 8;
      let lo = mem.readU32(ptep);
      let hi = lo === 0 ? mem.readU32(ptep + 4) : -1;
      if (lo === 0 && hi === 0) {
        this.warnUnlessQuirk('__arm_lpae_unmap');
        return 0;
      }
      if (size === blockSize) {
        const num = Math.min(pgcount, nEntries - idx);
        let i = 0;
        while (i < num) {
          if (i > 0) lo = mem.readU32(ptep);
          hi = lo === 0 ? mem.readU32(ptep + 4) : -1;
          if (lo === 0 && hi === 0) {
            this.warnUnlessQuirk('__arm_lpae_unmap');
            break;
          }
          if (isTable(lo, lvl)) {
            this.clearTableEntry(ptep, lo, mem.readU32(ptep + 4), lvl, iova + i * size);
          } else {
            this.writePte(ptep, 0, 0);
            if (!gather.queued) this.tlb.tlbAddPage(iova + i * size, size, this.cookie);
          }
          ptep += 8;
          i++;
        }
        return i * size;
      }
      if (hi < 0) hi = mem.readU32(ptep + 4);
      if (isLeaf(lo, lvl)) {
        // unmapping part of a block: before 6.13 a table at the next level takes over the rest of
        // it; __arm_lpae_unmap from 6.13 refuses (WARN_ONCE) and leaves the block mapped
        if (this.splitBlocks) return this.splitBlkUnmap(gather, iova, size, lo, hi, lvl + 1, ptep, pgcount);
        this.log.warnOnce(`${SITE} __arm_lpae_unmap`, 'Unmap of a partial large IOPTE is not allowed');
        return 0;
      }
      table = descAddr(lo, hi);
      if (lvl === ARM_LPAE_MAX_LEVELS - 2 && this.wcEnabled) this.fillWalkCache(iova, table);
    }
  }

  /** arm_lpae_split_blk_unmap: `lvl` is the level of the new table replacing the block at ptep. */
  private splitBlkUnmap(gather: IommuIotlbGather, iova: number, size: number, blkLo: number, blkHi: number, lvl: number, ptep: number, pgcount: number): number {
    if (lvl === ARM_LPAE_MAX_LEVELS) {
      this.warn('arm_lpae_split_blk_unmap');
      return 0;
    }
    const table = this.allocTable();
    if (table < 0) return 0;
    const splitSz = this.blockSize[lvl]!;
    let unmapStart = -1;
    let num = 0;
    if (size === splitSz) {
      unmapStart = tableIndex(iova, splitSz, LPAE_PTES_PER_TABLE);
      num = Math.min(pgcount, LPAE_PTES_PER_TABLE - unmapStart);
    }
    const blkPaddr = descAddr(blkLo, blkHi);
    const type = lvl === ARM_LPAE_MAX_LEVELS - 1 ? PTE_TYPE_PAGE : PTE_TYPE_BLOCK;
    const attrLo = (blkLo & PTE_ATTR_LO_MASK) + type;
    const attrHi = (blkHi & PTE_HI_ATTR_MASK) >>> 0;
    for (let i = 0; i < LPAE_PTES_PER_TABLE; i++) {
      if (i >= unmapStart && i < unmapStart + num) continue;
      const pa = blkPaddr + i * splitSz;
      this.writePte(table + i * 8, attrLo + addrLoWord(pa), attrHi + addrHiWord(pa));
    }
    this.writePte(ptep, addrLoWord(table) + PTE_TYPE_TABLE, addrHiWord(table));
    if (unmapStart >= 0) {
      for (let i = 0; i < num; i++) this.tlb.tlbAddPage(iova + i * size, size, this.cookie);
      return num * size;
    }
    return this.lpaeUnmap(gather, iova, size, pgcount, lvl, table);
  }

  /**
   * iommu_unmap over this table alone: unmaps [iova, iova+size) in the largest pages alignment
   * allows and returns the bytes unmapped (stopping early at a hole).
   */
  unmap(iova: number, size: number, gather: IommuIotlbGather = NO_GATHER): number {
    const min = this.pgsizes[0]!;
    if (modulo(iova, min) !== 0 || modulo(size, min) !== 0) {
      this.log.err(`unaligned: iova ${hex(iova)} size ${hex(size)} min_pagesz ${hex(min)}`);
      return 0;
    }
    let unmapped = 0;
    let cur = iova;
    while (unmapped < size) {
      const pgsize = iommuPgsize(this.pgsizes, cur, cur, size - unmapped, this.pgsizeCount);
      const n = this.unmapPages(cur, pgsize, this.pgsizeCount.count, gather);
      if (n === 0) break;
      cur += n;
      unmapped += n;
    }
    return unmapped;
  }

  // ------------------------------------------------------------------ lookup

  /** iova_to_phys: the physical address iova translates to, or 0 when nothing maps it. */
  iovaToPhys(iova: number): number {
    if (this.freed) throw new IoPgtableFreedError();
    if (iova < 0 || iova >= this.iasLimit) return 0;
    const mem = this.memory;
    let table = this.ttbr;
    let lvl = this.startLevel;
    if (Math.floor(iova / L2_BLOCK) === this.wcRegion) {
      table = this.wcTable;
      lvl = ARM_LPAE_MAX_LEVELS - 1;
    }
    for (; lvl < ARM_LPAE_MAX_LEVELS; lvl++) {
      const blockSize = this.blockSize[lvl]!;
      const ptep = table + tableIndex(iova, blockSize, this.entries[lvl]!) * 8;
      const lo = mem.readU32(ptep);
      const hi = mem.readU32(ptep + 4);
      if (lo === 0 && hi === 0) return 0;
      if (isLeaf(lo, lvl)) return descAddr(lo, hi) + (iova - Math.floor(iova / blockSize) * blockSize);
      table = descAddr(lo, hi);
    }
    return 0;
  }

  // ------------------------------------------------------------------ free

  /**
   * free_io_pgtable_ops: flushes the whole TLB, then frees every table page (the root included).
   * The object must not be used afterwards.
   */
  free(): void {
    if (this.freed) return;
    this.tlb.tlbFlushAll(this.cookie);
    this.freePgtable(this.startLevel, this.ttbr);
    this.freed = true;
  }

  /** __arm_lpae_free_pgtable: frees the table at `table` (of level lvl) and every table below it. */
  private freePgtable(lvl: number, table: number): void {
    const mem = this.memory;
    if (lvl < ARM_LPAE_MAX_LEVELS - 1) {
      const n = this.entries[lvl]!;
      for (let i = 0; i < n; i++) {
        const a = table + i * 8;
        const lo = mem.readU32(a);
        const hi = mem.readU32(a + 4);
        if ((lo === 0 && hi === 0) || isLeaf(lo, lvl)) continue;
        this.freePgtable(lvl + 1, descAddr(lo, hi));
      }
    }
    this.pages.freePages(table, lvl === this.startLevel ? this.pgdOrder : 0);
    this.tables--;
    this.wcRegion = -1;
  }

  /** Remembers `table` as the last-level table of the 2 MiB region holding iova. */
  private fillWalkCache(iova: number, table: number): void {
    this.wcRegion = Math.floor(iova / L2_BLOCK);
    this.wcTable = table;
  }

  /** Drops the walk cache (for a caller that rewrote table memory behind this object's back). */
  invalidateWalkCache(): void {
    this.wcRegion = -1;
  }

  // ------------------------------------------------------------------ helpers

  /** Clears a table entry, invalidates the walks through it, and frees the tables below it. */
  private clearTableEntry(ptep: number, lo: number, hi: number, lvl: number, iova: number): void {
    this.writePte(ptep, 0, 0);
    this.tlb.tlbFlushWalk(iova, this.blockSize[lvl]!, LPAE_GRANULE, this.cookie);
    this.freePgtable(lvl + 1, descAddr(lo, hi));
  }

  /** A zeroed 4 KiB table page, or -1 (the kernel's GFP_ATOMIC | __GFP_ZERO allocation). */
  private allocTable(): number {
    const pa = this.pages.allocPages(0, GFP_KERNEL);
    if (pa === null) return -1;
    if (pa + LPAE_GRANULE > this.oasLimit) {
      // the walker could not reach it: the DMA layer would have refused the mapping
      this.pages.freePages(pa, 0);
      logNoDma(this.log, { iommuDev: this.iommuDev });
      return -1;
    }
    this.cache?.invalidate(pa, LPAE_GRANULE);
    this.memory.fill(pa, LPAE_GRANULE, 0);
    this.tables++;
    return pa;
  }

  /** Writes one descriptor as two little-endian words (low word at the lower address). */
  private writePte(ptep: number, lo: number, hi: number): void {
    this.memory.writeU32(ptep, lo);
    this.memory.writeU32(ptep + 4, hi);
  }

  private pgsizeSupported(pgsize: number): boolean {
    const sizes = this.pgsizes;
    for (let i = 0; i < sizes.length; i++) if (sizes[i] === pgsize) return true;
    return false;
  }

  /** WARN_ON() at a site in io-pgtable-arm.c. */
  private warn(fn: string): void {
    this.log.warn(`${SITE} ${fn}`);
  }

  /** The WARN_ONs IO_PGTABLE_QUIRK_NO_WARN silences (map over a live entry, unmap of an empty one). */
  private warnUnlessQuirk(fn: string): void {
    if (!this.noWarn) this.log.warn(`${SITE} ${fn}`);
  }
}

/**
 * Index of the entry covering iova in a table of `nEntries` entries of `blockSize` bytes each:
 * floor(iova / blockSize) mod nEntries. Both are powers of two, so the divisions are exact; written
 * without `%`, which on numbers beyond 32 bits costs a floating-point remainder call per level.
 */
function tableIndex(iova: number, blockSize: number, nEntries: number): number {
  const n = Math.floor(iova / blockSize);
  return n - Math.floor(n / nEntries) * nEntries;
}

function logNoDma(log: KernelLog, cfg: Pick<IoPgtableCfg, 'iommuDev'>): void {
  const text = 'Cannot accommodate DMA translation for IOMMU page tables';
  if (cfg.iommuDev !== undefined) log.devErr(cfg.iommuDev, text);
  else log.err(`arm-lpae io-pgtable: ${text}`);
}
