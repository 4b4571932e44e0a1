import type { PhysicalMemory } from '@dmasim/core/standalone';

/**
 * An independent table walker for tests: it knows nothing of ArmLpaeIoPgtable and decodes the bytes
 * in memory the way the architecture defines them (VMSAv8-64, 4 KiB granule), using BigInt for the
 * 64-bit descriptors. The SMMU model's walker must agree with it.
 */
export interface DecodedLeaf {
  /** Physical address the input address translates to. */
  readonly pa: number;
  /** Level of the leaf descriptor (1: 1 GiB block, 2: 2 MiB block, 3: 4 KiB page). */
  readonly level: number;
  /** The raw descriptor. */
  readonly desc: bigint;
  /** Stage 1: AP[2:1]; stage 2: S2AP. */
  readonly ap: number;
  readonly sh: number;
  readonly af: boolean;
  readonly ng: boolean;
  /** Stage 1 AttrIndx [4:2] or stage 2 MemAttr [5:2]. */
  readonly attr: number;
  /** PXN|UXN (bits 54:53). */
  readonly xn: number;
}

export interface WalkRegime {
  readonly ttbr: number;
  /** Input address size in bits (64 - T0SZ). */
  readonly ias: number;
  /** Stage 2 passes the level from VTCR.SL0; stage 1 derives it from T0SZ. */
  readonly startLevel?: number;
}

/** The start level stage 1 derives from the input size with the 4 KiB granule. */
export function stage1StartLevel(ias: number): number {
  return 4 - Math.ceil((ias - 12) / 9);
}

/** VTCR.SL0 to start level with the 4 KiB granule. */
export function stage2StartLevelFromSl0(sl0: number): number {
  return 2 - sl0;
}

function readDesc(mem: PhysicalMemory, addr: number): bigint {
  const bytes = mem.readBytes(addr, 8);
  if (bytes === undefined) throw new Error(`walk touched non-RAM at 0x${addr.toString(16)}`);
  let v = 0n;
  for (let i = 7; i >= 0; i--) v = (v << 8n) | BigInt(bytes[i]!);
  return v;
}

const ADDR_MASK = ((1n << 48n) - 1n) & ~0xfffn;

/** Walks the tables in memory; null for a translation fault. */
export function walk(mem: PhysicalMemory, regime: WalkRegime, iova: number): DecodedLeaf | null {
  const va = BigInt(iova);
  if (va >> BigInt(regime.ias) !== 0n) return null;
  const start = regime.startLevel ?? stage1StartLevel(regime.ias);
  let table = BigInt(regime.ttbr);
  for (let level = start; level <= 3; level++) {
    const shift = BigInt(12 + 9 * (3 - level));
    // the start level indexes with every remaining input bit (this covers concatenated roots)
    const idx = level === start ? va >> shift : (va >> shift) & 0x1ffn;
    const desc = readDesc(mem, Number(table + idx * 8n));
    if ((desc & 1n) === 0n) return null;
    const isTableOrPage = (desc & 2n) !== 0n;
    if (level < 3 && isTableOrPage) {
      table = desc & ADDR_MASK;
      continue;
    }
    if (level === 3 && !isTableOrPage) return null; // reserved encoding at level 3
    if (level === 0) return null; // no level-0 blocks with the 4 KiB granule
    const blockMask = (1n << shift) - 1n;
    const out = (desc & ADDR_MASK & ~blockMask) | (va & blockMask);
    return {
      pa: Number(out),
      level,
      desc,
      ap: Number((desc >> 6n) & 3n),
      sh: Number((desc >> 8n) & 3n),
      af: ((desc >> 10n) & 1n) === 1n,
      ng: ((desc >> 11n) & 1n) === 1n,
      attr: Number((desc >> 2n) & 0xfn),
      xn: Number((desc >> 53n) & 3n),
    };
  }
  return null;
}
