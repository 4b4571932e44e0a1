import { KiB, MiB, GiB, isPowerOfTwo, ilog2, roundupPowOfTwo } from '@dmasim/core/standalone';
import {
  ID0_ATOSNS,
  ID0_CTTW,
  ID0_NTS,
  ID0_NUMIRPT_SHIFT,
  ID0_NUMSIDB_SHIFT,
  ID0_PTFS_NO_AARCH32,
  ID0_PTFS_NO_AARCH32S,
  ID0_S1TS,
  ID0_S2TS,
  ID0_SMS,
  ID1_NUMPAGENDXB_SHIFT,
  ID1_NUMS2CB_SHIFT,
  ID1_PAGESIZE,
  ID2_IAS_SHIFT,
  ID2_OAS_SHIFT,
  ID2_PTFS_16K,
  ID2_PTFS_4K,
  ID2_PTFS_64K,
  ID2_UBS_SHIFT,
  encodeAddressSize,
} from './regs';

/** The SMMU implementations a board can instantiate (by DT compatible without the `arm,`). */
export type SmmuModel = 'mmu-400' | 'mmu-401' | 'mmu-500' | 'smmu-v1' | 'smmu-v2';

/** Architecture version: SMMUv1 (MMU-400/401) or SMMUv2 (MMU-500 and generic v2). */
export type SmmuArchVersion = 1 | 2;

/** Page sizes (bytes) a page-table format offers, as the kernel builds its pgsize bitmap. */
export const SZ_4K = 4 * KiB;
export const SZ_16K = 16 * KiB;
export const SZ_64K = 64 * KiB;
export const SZ_1M = MiB;
export const SZ_2M = 2 * MiB;
export const SZ_16M = 16 * MiB;
export const SZ_32M = 32 * MiB;
export const SZ_512M = 512 * MiB;
export const SZ_1G = GiB;

/** What a board may set; everything else comes from the model preset. */
export interface SmmuOptions {
  readonly model: SmmuModel;
  readonly numContextBanks?: number;
  /** Context banks [0, n) that can only do stage 2 (ID1.NUMS2CB). */
  readonly numS2ContextBanks?: number;
  /** Stream match register groups (SMR + S2CR pairs). */
  readonly numStreamMatchRegisters?: number;
  /** Width of stream IDs the SMRs compare (ID0.NUMSIDB, at most 15). */
  readonly streamIdBits?: number;
  readonly stage1?: boolean;
  readonly stage2?: boolean;
  /** Stage-1 input (VA) bits, reported in ID2.UBS on SMMUv2. */
  readonly vaBits?: number;
  /** Intermediate physical address bits (ID2.IAS). */
  readonly ipaBits?: number;
  /** Physical address bits (ID2.OAS). */
  readonly paBits?: number;
  /**
   * Page sizes bitmap (sum of the sizes, as the kernel's pgsize_bitmap, e.g. 0x60211000). The
   * translation table formats reported in ID0/ID2 are derived from it.
   */
  readonly pageSizes?: number;
  /** Size of one register page: 4 KiB or 64 KiB (ID1.PAGESIZE). */
  readonly registerPageSize?: 4096 | 65536;
  /** Pages in each half of the register space (global / context banks); a power of two >= 2. */
  readonly numPages?: number;
  /** Context interrupts the implementation has (ID0.NUMIRPT). */
  readonly numContextIrqs?: number;
  /** IOTLB capacity in entries. */
  readonly iotlbEntries?: number;
  /** Table walks snoop CPU caches (ID0.CTTW). */
  readonly coherentWalk?: boolean;
}

/** Every parameter resolved, validated, and what the ID registers are encoded from. */
export interface SmmuParams {
  readonly model: SmmuModel;
  readonly version: SmmuArchVersion;
  readonly numContextBanks: number;
  readonly numS2ContextBanks: number;
  readonly numStreamMatchRegisters: number;
  readonly streamIdBits: number;
  readonly stage1: boolean;
  readonly stage2: boolean;
  readonly vaBits: number;
  readonly ipaBits: number;
  readonly paBits: number;
  readonly pageSizes: number;
  readonly registerPageSize: 4096 | 65536;
  readonly numPages: number;
  readonly numContextIrqs: number;
  readonly iotlbEntries: number;
  readonly coherentWalk: boolean;
  /** Translation table formats, derived from pageSizes. */
  readonly formats: SmmuFormats;
  /** Bytes of register space: 2 × numPages × registerPageSize. */
  readonly regionSize: number;
}

export interface SmmuFormats {
  readonly aarch32L: boolean;
  readonly aarch32S: boolean;
  readonly aarch64_4K: boolean;
  readonly aarch64_16K: boolean;
  readonly aarch64_64K: boolean;
}

type Preset = Omit<SmmuParams, 'model' | 'formats' | 'regionSize'>;

const JUNO_PAGE_SIZES = SZ_4K + SZ_64K + SZ_2M + SZ_512M + SZ_1G; // 0x60211000, every Juno SMMU log
const LPAE_4K_PAGE_SIZES = SZ_4K + SZ_2M + SZ_1G; // 0x40201000
/** MMU-500 walks AArch32 short and long descriptors and the AArch64 4K and 64K granules: 0x61311000. */
const MMU500_PAGE_SIZES = JUNO_PAGE_SIZES + SZ_1M + SZ_16M;

/**
 * Model presets. MMU-400 and MMU-401 are SMMUv1 parts that only translate at stage 2 (Juno TRM);
 * MMU-401 additionally walks AArch64 64 KiB-granule tables (Linux's ARM_SMMU_V1_64K), MMU-400 only
 * the AArch32 long-descriptor format. MMU-401 defaults to Juno's PCIe SMMU (32 SMRs, 4 banks).
 */
const PRESETS: Record<SmmuModel, Preset> = {
  'mmu-400': {
    version: 1, numContextBanks: 4, numS2ContextBanks: 4, numStreamMatchRegisters: 4, streamIdBits: 15,
    stage1: false, stage2: true, vaBits: 40, ipaBits: 40, paBits: 40, pageSizes: LPAE_4K_PAGE_SIZES,
    registerPageSize: 4096, numPages: 8, numContextIrqs: 1, iotlbEntries: 128, coherentWalk: true,
  },
  'mmu-401': {
    version: 1, numContextBanks: 4, numS2ContextBanks: 4, numStreamMatchRegisters: 32, streamIdBits: 15,
    stage1: false, stage2: true, vaBits: 40, ipaBits: 40, paBits: 40, pageSizes: JUNO_PAGE_SIZES,
    registerPageSize: 4096, numPages: 8, numContextIrqs: 1, iotlbEntries: 128, coherentWalk: true,
  },
  'mmu-500': {
    version: 2, numContextBanks: 16, numS2ContextBanks: 0, numStreamMatchRegisters: 48, streamIdBits: 15,
    stage1: true, stage2: true, vaBits: 48, ipaBits: 48, paBits: 48, pageSizes: MMU500_PAGE_SIZES,
    registerPageSize: 4096, numPages: 16, numContextIrqs: 16, iotlbEntries: 512, coherentWalk: true,
  },
  'smmu-v1': {
    version: 1, numContextBanks: 8, numS2ContextBanks: 0, numStreamMatchRegisters: 16, streamIdBits: 15,
    stage1: true, stage2: true, vaBits: 40, ipaBits: 40, paBits: 40, pageSizes: LPAE_4K_PAGE_SIZES,
    registerPageSize: 4096, numPages: 8, numContextIrqs: 1, iotlbEntries: 128, coherentWalk: true,
  },
  'smmu-v2': {
    version: 2, numContextBanks: 8, numS2ContextBanks: 0, numStreamMatchRegisters: 16, streamIdBits: 15,
    stage1: true, stage2: true, vaBits: 48, ipaBits: 48, paBits: 48, pageSizes: LPAE_4K_PAGE_SIZES + SZ_64K + SZ_512M,
    registerPageSize: 4096, numPages: 8, numContextIrqs: 8, iotlbEntries: 256, coherentWalk: true,
  },
};

/** Whether the page-size bitmap holds `size` (the bitmap is a sum of distinct powers of two). */
export function hasPageSize(bitmap: number, size: number): boolean {
  return Math.floor(bitmap / size) % 2 === 1;
}

function deriveFormats(version: SmmuArchVersion, model: SmmuModel, pageSizes: number): SmmuFormats {
  const has4K = hasPageSize(pageSizes, SZ_4K);
  const has64K = hasPageSize(pageSizes, SZ_64K);
  const hasShort = hasPageSize(pageSizes, SZ_1M) || hasPageSize(pageSizes, SZ_16M);
  if (version === 1) {
    // SMMUv1 knows the AArch32 formats; only MMU-401 adds the AArch64 64K granule.
    return { aarch32L: has4K, aarch32S: hasShort, aarch64_4K: false, aarch64_16K: false, aarch64_64K: has64K && model === 'mmu-401' };
  }
  return { aarch32L: has4K, aarch32S: hasShort, aarch64_4K: has4K, aarch64_16K: hasPageSize(pageSizes, SZ_16K), aarch64_64K: has64K };
}

function check(cond: boolean, what: string): void {
  if (!cond) throw new RangeError(`SMMU parameters: ${what}`);
}

/** Resolves a board's options against the model preset; throws RangeError for impossible ones. */
export function resolveSmmuParams(options: SmmuOptions): SmmuParams {
  const preset = PRESETS[options.model];
  check(preset !== undefined, `unknown model ${String(options.model)}`);
  const p = { ...preset };
  const numContextBanks = options.numContextBanks ?? p.numContextBanks;
  const stage1 = options.stage1 ?? p.stage1;
  const stage2 = options.stage2 ?? p.stage2;
  // A stage-2-only part has only stage-2 banks unless the board says otherwise.
  const defaultS2 = stage1 ? Math.min(p.numS2ContextBanks, numContextBanks) : numContextBanks;
  const numS2ContextBanks = options.numS2ContextBanks ?? defaultS2;
  const registerPageSize = options.registerPageSize ?? p.registerPageSize;
  const numPages = options.numPages ?? Math.max(p.numPages, roundupPowOfTwo(numContextBanks), 2);
  const pageSizes = options.pageSizes ?? p.pageSizes;
  const params: SmmuParams = {
    model: options.model,
    version: p.version,
    numContextBanks,
    numS2ContextBanks,
    numStreamMatchRegisters: options.numStreamMatchRegisters ?? p.numStreamMatchRegisters,
    streamIdBits: options.streamIdBits ?? p.streamIdBits,
    stage1,
    stage2,
    vaBits: options.vaBits ?? p.vaBits,
    ipaBits: options.ipaBits ?? p.ipaBits,
    paBits: options.paBits ?? p.paBits,
    pageSizes,
    registerPageSize,
    numPages,
    numContextIrqs: options.numContextIrqs ?? (p.version === 2 ? numContextBanks : p.numContextIrqs),
    iotlbEntries: options.iotlbEntries ?? p.iotlbEntries,
    coherentWalk: options.coherentWalk ?? p.coherentWalk,
    formats: deriveFormats(p.version, options.model, pageSizes),
    regionSize: 2 * numPages * registerPageSize,
  };
  check(Number.isInteger(numContextBanks) && numContextBanks >= 1 && numContextBanks <= 128, `numContextBanks ${numContextBanks} not in 1..128`);
  check(numS2ContextBanks >= 0 && numS2ContextBanks <= numContextBanks, `numS2ContextBanks ${numS2ContextBanks} exceeds numContextBanks`);
  check(stage1 || numS2ContextBanks === 0 || stage2, 'stage-2 banks on an SMMU without stage 2');
  check(stage1 || stage2, 'an SMMU must support stage 1 or stage 2');
  check(stage1 || numS2ContextBanks === numContextBanks, 'a stage-2-only SMMU has only stage-2 context banks');
  check(Number.isInteger(params.numStreamMatchRegisters) && params.numStreamMatchRegisters >= 1 && params.numStreamMatchRegisters <= 128, 'numStreamMatchRegisters not in 1..128');
  check(Number.isInteger(params.streamIdBits) && params.streamIdBits >= 1 && params.streamIdBits <= 15, 'streamIdBits not in 1..15');
  check(isPowerOfTwo(numPages) && numPages >= 2 && numPages <= 256 && numPages >= numContextBanks, `numPages ${numPages} must be a power of two in 2..256 and >= numContextBanks`);
  check(registerPageSize === 4096 || registerPageSize === 65536, 'registerPageSize must be 4096 or 65536');
  check(params.iotlbEntries >= 1, 'iotlbEntries must be >= 1');
  check(params.numContextIrqs >= 1 && params.numContextIrqs <= 255, 'numContextIrqs not in 1..255');
  // encodeAddressSize throws for sizes ID2 cannot express
  for (const bits of [params.vaBits, params.ipaBits, params.paBits]) encodeAddressSize(bits);
  const f = params.formats;
  check(f.aarch32L || f.aarch64_4K || f.aarch64_64K || f.aarch64_16K, `page sizes ${pageSizes.toString(16)} name no long-descriptor format`);
  return params;
}

/** ID0 as the architecture encodes it. */
export function encodeId0(p: SmmuParams): number {
  let v = ID0_SMS | ID0_ATOSNS; // stream matching; no address translation operations
  if (p.stage1) v |= ID0_S1TS;
  if (p.stage2) v |= ID0_S2TS;
  if (p.stage1 && p.stage2) v |= ID0_NTS;
  if (!p.formats.aarch32L && !p.formats.aarch32S) v |= ID0_PTFS_NO_AARCH32;
  if (!p.formats.aarch32S) v |= ID0_PTFS_NO_AARCH32S;
  v |= (p.numContextIrqs & 0xff) << ID0_NUMIRPT_SHIFT;
  if (p.coherentWalk) v |= ID0_CTTW;
  v |= (p.streamIdBits & 0xf) << ID0_NUMSIDB_SHIFT;
  v |= p.numStreamMatchRegisters & 0xff;
  return v >>> 0;
}

/** ID1: register page size, size of the register space, context bank counts. */
export function encodeId1(p: SmmuParams): number {
  let v = p.registerPageSize === 65536 ? ID1_PAGESIZE : 0;
  v |= ((ilog2(p.numPages) - 1) & 0x7) << ID1_NUMPAGENDXB_SHIFT;
  v |= (p.numS2ContextBanks & 0xff) << ID1_NUMS2CB_SHIFT;
  v |= p.numContextBanks & 0xff;
  return v >>> 0;
}

/** ID2: address sizes and (SMMUv2) the AArch64 granules. */
export function encodeId2(p: SmmuParams): number {
  let v = (encodeAddressSize(p.ipaBits) << ID2_IAS_SHIFT) | (encodeAddressSize(p.paBits) << ID2_OAS_SHIFT);
  if (p.version === 2) {
    v |= encodeAddressSize(p.vaBits) << ID2_UBS_SHIFT;
    if (p.formats.aarch64_4K) v |= ID2_PTFS_4K;
    if (p.formats.aarch64_16K) v |= ID2_PTFS_16K;
    if (p.formats.aarch64_64K) v |= ID2_PTFS_64K;
  }
  return v >>> 0;
}
