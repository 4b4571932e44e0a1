import type { CpuCache, PhysicalMemory } from '@dmasim/core/standalone';
import { PERM_PRIV_READ, PERM_PRIV_WRITE, PERM_UNPRIV_READ, PERM_UNPRIV_WRITE } from './iotlb';

/** What a context bank's registers say about its translation regime, decoded once per write. */
export interface WalkConfig {
  readonly stage: 1 | 2;
  /** log2 of the translation granule: 12 (4 KiB) or 16 (64 KiB). */
  readonly granuleShift: number;
  /** Level the walk starts at (0..3). */
  readonly startLevel: number;
  /** Input addresses must be below 2^inputBits. */
  readonly inputBits: number;
  /** Output addresses must be below 2^outputBits. */
  readonly outputBits: number;
  /** Physical address of the start-level table. */
  readonly ttb: number;
}

/** A WalkConfig with the powers of two the walk needs computed once. */
export interface PreparedWalkConfig extends WalkConfig {
  /** 2^inputBits and 2^outputBits. */
  readonly inputLimit: number;
  readonly outputLimit: number;
  /** Bytes one entry maps at each level 0..3. */
  readonly levelSize: readonly number[];
  readonly entriesPerTable: number;
}

export function prepareWalkConfig(cfg: WalkConfig): PreparedWalkConfig {
  const bitsPerLevel = cfg.granuleShift - 3;
  const levelSize = [0, 1, 2, 3].map((l) => 2 ** (cfg.granuleShift + bitsPerLevel * (3 - l)));
  return { ...cfg, inputLimit: 2 ** cfg.inputBits, outputLimit: 2 ** cfg.outputBits, levelSize, entriesPerTable: 2 ** bitsPerLevel };
}

export type WalkFaultKind = 'translation' | 'access-flag' | 'address-size' | 'external';

/** Result of one walk; the walker reuses one object, so read it before walking again. */
export interface WalkResult {
  ok: boolean;
  fault: WalkFaultKind;
  /** Level of the leaf, or of the descriptor that faulted. */
  level: number;
  /** Leaf output base and size (the block or page the input address falls in). */
  pa: number;
  size: number;
  perm: number;
  /** Stage-1 leaf with nG=0: it matches every ASID. */
  global: boolean;
  /** Descriptors read by this walk. */
  reads: number;
}

const TWO_32 = 0x100000000;

/**
 * A walker over VMSAv8-64 / AArch32 long-descriptor (LPAE) translation tables in simulated memory,
 * for both the stage-1 format (AP[2:1], APTable) and the stage-2 format (S2AP), with a 4 KiB or
 * 64 KiB granule.
 *
 * Descriptors are 64-bit words whose attribute bits lie above 2^53, so each is read as two 32-bit
 * halves; masks are applied to a half at a time and addresses are rebuilt with arithmetic.
 */
export class LpaeWalker {
  private readonly buf = new Uint8Array(8);
  private lo = 0;
  private hi = 0;
  readonly result: WalkResult = { ok: false, fault: 'translation', level: 0, pa: 0, size: 0, perm: 0, global: false, reads: 0 };

  constructor(
    private readonly memory: PhysicalMemory,
    /** When given and the walk is coherent, dirty CPU cache lines holding tables are seen. */
    private readonly cache: CpuCache | undefined,
    private readonly coherent: boolean,
  ) {}

  walk(cfg: PreparedWalkConfig, ia: number): WalkResult {
    const r = this.result;
    r.ok = false;
    r.reads = 0;
    r.global = false;
    r.level = cfg.startLevel;
    if (ia >= cfg.inputLimit) return this.fail('translation');
    const g = cfg.granuleShift;
    const entriesPerTable = cfg.entriesPerTable;
    const levelSize = cfg.levelSize;
    let table = cfg.ttb;
    let noWrite = false;
    let noUnpriv = false;
    for (let level = cfg.startLevel; level <= 3; level++) {
      r.level = level;
      const blockSize = levelSize[level]!;
      // The start level may be a run of concatenated tables (stage 2), so its index is not masked.
      // (mod written as a subtraction: `%` on numbers beyond 2^31 is a slow floating-point remainder)
      let index = Math.floor(ia / blockSize);
      if (level !== cfg.startLevel) index -= Math.floor(index / entriesPerTable) * entriesPerTable;
      const addr = table + index * 8;
      let lo: number;
      let hi: number;
      if (this.cache === undefined) {
        lo = this.memory.readU32(addr);
        hi = this.memory.readU32(addr + 4);
        if (lo < 0 || hi < 0) return this.fail('external');
      } else {
        if (!this.readDescriptor(addr)) return this.fail('external');
        lo = this.lo;
        hi = this.hi;
      }
      r.reads++;
      if ((lo & 1) === 0) return this.fail('translation');
      const isTable = (lo & 2) !== 0 && level < 3;
      if (isTable) {
        // Next-level table address: bits [47:g] of the descriptor.
        table = ((lo >>> g) << g >>> 0) + (hi & 0xffff) * TWO_32;
        if (cfg.stage === 1) {
          // APTable[1] (bit 62) removes write access below; APTable[0] (bit 61) unprivileged access.
          if ((hi & (1 << 30)) !== 0) noWrite = true;
          if ((hi & (1 << 29)) !== 0) noUnpriv = true;
        }
        continue;
      }
      const isPage = level === 3 && (lo & 2) !== 0;
      const blockAllowed = g === 12 ? level === 1 || level === 2 : level === 2;
      if (!isPage && !blockAllowed) return this.fail('translation');
      if ((lo & 0x400) === 0) return this.fail('access-flag');
      // Output address: bits [47:log2(blockSize)]; blockSize is below 2^32 for every leaf of these granules.
      const pa = Math.floor(lo / blockSize) * blockSize + (hi & 0xffff) * TWO_32;
      if (pa >= cfg.outputLimit) return this.fail('address-size');
      const ap = (lo >>> 6) & 3;
      let perm: number;
      if (cfg.stage === 1) {
        const readOnly = (ap & 2) !== 0 || noWrite;
        const unpriv = (ap & 1) !== 0 && !noUnpriv;
        perm = PERM_PRIV_READ | (readOnly ? 0 : PERM_PRIV_WRITE);
        if (unpriv) perm |= PERM_UNPRIV_READ | (readOnly ? 0 : PERM_UNPRIV_WRITE);
        r.global = (lo & 0x800) === 0;
      } else {
        // S2AP[0] grants reads, S2AP[1] writes, whatever the transaction's privilege.
        perm = ((ap & 1) !== 0 ? PERM_PRIV_READ | PERM_UNPRIV_READ : 0) | ((ap & 2) !== 0 ? PERM_PRIV_WRITE | PERM_UNPRIV_WRITE : 0);
        r.global = true;
      }
      r.ok = true;
      r.pa = pa;
      r.size = blockSize;
      r.perm = perm;
      return r;
    }
    return this.fail('translation');
  }

  private fail(kind: WalkFaultKind): WalkResult {
    this.result.ok = false;
    this.result.fault = kind;
    return this.result;
  }

  /** Reads the descriptor at addr into lo/hi; false when nothing decodes the address. */
  private readDescriptor(addr: number): boolean {
    const cache = this.cache;
    if (cache !== undefined && this.coherent && cache.hasDirty(addr, 8)) {
      const b = this.buf;
      if (!cache.deviceRead(addr, b, true).ok) return false;
      this.lo = (b[0]! | (b[1]! << 8) | (b[2]! << 16) | (b[3]! << 24)) >>> 0;
      this.hi = (b[4]! | (b[5]! << 8) | (b[6]! << 16) | (b[7]! << 24)) >>> 0;
      return true;
    }
    const lo = this.memory.readU32(addr);
    const hi = this.memory.readU32(addr + 4);
    if (lo < 0 || hi < 0) return false;
    this.lo = lo;
    this.hi = hi;
    return true;
  }
}
