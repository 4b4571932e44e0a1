/**
 * Table geometry for the 4 KiB granule (arm_lpae_alloc_pgtable): how many levels an input size
 * needs, where the walk starts, and how big the root table is.
 *
 * Each level resolves 9 bits (512 eight-byte entries per 4 KiB table); level 3 maps 4 KiB pages,
 * level 2 2 MiB blocks, level 1 1 GiB blocks, level 0 only points to tables. The root (pgd) covers
 * whatever bits remain at the start level, so it may be smaller than a page (ias 32: 4 entries at
 * level 1) and then still takes a whole page from the allocator.
 *
 * Stage 2 concatenation: when a stage-2 walk would start at level 0 with at most 16 root entries,
 * it starts at level 1 instead with up to 16 concatenated level-1 tables as the root (ias 40: two
 * pages, ias 42: eight pages), as the kernel does. Only that case concatenates; ias 32..39 stage 2
 * starts at level 1 with an ordinary root.
 */

export const ARM_LPAE_MAX_LEVELS = 4;
export const ARM_LPAE_MAX_ADDR_BITS = 52;
export const ARM_LPAE_S2_MAX_CONCAT_PAGES = 16;
export const LPAE_GRANULE = 4096;
export const LPAE_PG_SHIFT = 12;
export const LPAE_BITS_PER_LEVEL = 9;
export const LPAE_PTES_PER_TABLE = 512;
/** The block/page sizes the 4 KiB granule offers: SZ_4K | SZ_2M | SZ_1G. */
export const LPAE_4K_PGSIZES: readonly number[] = [4096, 2 * 1024 * 1024, 1024 * 1024 * 1024];

export interface LpaeGeometry {
  /** Level the walk starts at (0..3). */
  readonly startLevel: number;
  /** Index bits resolved by the root table. */
  readonly pgdBits: number;
  /** Bytes of the root table (8 << pgdBits). */
  readonly pgdSize: number;
  /** Buddy order of the pages the root table takes. */
  readonly pgdOrder: number;
}

/** Bytes mapped by one entry at `lvl` (ARM_LPAE_BLOCK_SIZE): 512 GiB, 1 GiB, 2 MiB, 4 KiB. */
export function lpaeBlockSize(lvl: number): number {
  return 2 ** (LPAE_PG_SHIFT + LPAE_BITS_PER_LEVEL * (ARM_LPAE_MAX_LEVELS - 1 - lvl));
}

export function lpaeGeometry(ias: number, concatenateStage2: boolean): LpaeGeometry {
  const vaBits = ias - LPAE_PG_SHIFT;
  const levels = Math.ceil(vaBits / LPAE_BITS_PER_LEVEL);
  let startLevel = ARM_LPAE_MAX_LEVELS - levels;
  let pgdBits = vaBits - LPAE_BITS_PER_LEVEL * (levels - 1);
  if (concatenateStage2 && startLevel === 0 && 2 ** pgdBits <= ARM_LPAE_S2_MAX_CONCAT_PAGES) {
    pgdBits += LPAE_BITS_PER_LEVEL;
    startLevel++;
  }
  const pgdSize = 8 * 2 ** pgdBits;
  const pgdPages = Math.ceil(pgdSize / LPAE_GRANULE);
  return { startLevel, pgdBits, pgdSize, pgdOrder: Math.round(Math.log2(pgdPages)) };
}

/** TCR IPS / VTCR PS code of an output size, or -1 when the size has none. */
export function lpaeOutputSizeCode(oas: number): number {
  switch (oas) {
    case 32: return 0;
    case 36: return 1;
    case 40: return 2;
    case 42: return 3;
    case 44: return 4;
    case 48: return 5;
    case 52: return 6;
    default: return -1;
  }
}
