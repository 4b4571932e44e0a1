import type { CpuCache, KernelLog, LogDevice, PageAllocator, PhysicalMemory } from '@dmasim/core/standalone';

/** io_pgtable_fmt: the formats this package implements (ARM_64_LPAE_S1 / ARM_64_LPAE_S2). */
export type IoPgtableFmt = 's1' | 's2';
export const ARM_64_LPAE_S1: IoPgtableFmt = 's1';
export const ARM_64_LPAE_S2: IoPgtableFmt = 's2';

/**
 * iommu_flush_ops: TLB maintenance the page-table code asks of the IOMMU driver. The `cookie` given
 * to allocIoPgtableOps is passed as the last argument, as the kernel does.
 */
export interface IommuFlushOps {
  /** Invalidate the whole TLB of the context (called before the tables are freed). */
  tlbFlushAll(cookie: unknown): void;
  /** Invalidate [iova, iova+size) including cached intermediate walks (a table was removed). */
  tlbFlushWalk(iova: number, size: number, granule: number, cookie: unknown): void;
  /** Queue invalidation of one leaf entry of `granule` bytes at iova (synced later by the driver). */
  tlbAddPage(iova: number, granule: number, cookie: unknown): void;
}

/** iommu_iotlb_gather, reduced to what io-pgtable-arm looks at. */
export interface IommuIotlbGather {
  /** The unmap is deferred to a flush queue (lazy DMA_FQ domain): no per-page invalidation. */
  queued: boolean;
}

/** io_pgtable_cfg as the IOMMU driver fills it in before allocation. */
export interface IoPgtableCfg {
  /** Page and block sizes the IOMMU supports (restricted to 4K|2M|1G on allocation). */
  pgsizeBitmap: number;
  /** Input address size in bits (IOVA / IPA). */
  ias: number;
  /** Output address size in bits (IPA / PA). */
  oas: number;
  /** The table walker snoops CPU caches (`dma-coherent` SMMU). */
  coherentWalk: boolean;
  tlb: IommuFlushOps;
  /** IO_PGTABLE_QUIRK_NO_WARN: no WARN for map over a live entry / unmap of an empty one. */
  quirkNoWarn?: boolean;
  /**
   * Unmapping part of a block splits it (arm_lpae_split_blk_unmap, kernels before 6.13: the
   * `linux-4.2` profile). Default false: 6.13 on warns once and keeps the block.
   */
  splitBlocks?: boolean;
  /** The IOMMU device, for dev_err prefixes. */
  iommuDev?: LogDevice;
}

/** The machine services the page tables live in. */
export interface IoPgtableEnv {
  readonly memory: PhysicalMemory;
  readonly pages: PageAllocator;
  readonly log: KernelLog;
  /**
   * The CPU cache, when the machine models one: a new table page is zeroed by the CPU and made
   * visible to the walker, so no line its previous owner left dirty may survive in the cache (a
   * coherent walker would otherwise snoop those stale bytes instead of the descriptors).
   */
  readonly cache?: CpuCache;
}

/** Stage-1 TCR fields (io_pgtable_cfg.arm_lpae_s1_cfg.tcr). */
export interface ArmLpaeTcr {
  /** SH0: 3 inner shareable (coherent walk), 2 outer shareable. */
  readonly sh: number;
  /** IRGN0 / ORGN0: 1 write-back write-allocate (coherent walk), 0 non-cacheable. */
  readonly irgn: number;
  readonly orgn: number;
  /** TG0: 0 for the 4 KiB granule. */
  readonly tg: number;
  /** IPS: output size code (0: 32 bits, 1: 36, 2: 40, 3: 42, 4: 44, 5: 48). */
  readonly ips: number;
  /** T0SZ = 64 - ias. */
  readonly tsz: number;
}

export interface ArmLpaeS1Cfg {
  /** TTBR0: physical address of the root table. */
  readonly ttbr: number;
  readonly tcr: ArmLpaeTcr;
  /** MAIR: attribute 0 Non-cacheable, 1 write-back RWA, 2 Device-nGnRE, 3 inner-NC/outer-WB. */
  readonly mair: number;
}

/** Stage-2 VTCR fields (io_pgtable_cfg.arm_lpae_s2_cfg.vtcr). */
export interface ArmLpaeVtcr {
  readonly sh: number;
  readonly irgn: number;
  readonly orgn: number;
  readonly tg: number;
  /** PS: output size code, as IPS above. */
  readonly ps: number;
  /** T0SZ = 64 - ias. */
  readonly tsz: number;
  /** SL0: for the 4 KiB granule 2 = start at level 0, 1 = level 1, 0 = level 2. */
  readonly sl: number;
}

export interface ArmLpaeS2Cfg {
  /** VTTBR: physical address of the root table (possibly concatenated pages). */
  readonly vttbr: number;
  readonly vtcr: ArmLpaeVtcr;
}
