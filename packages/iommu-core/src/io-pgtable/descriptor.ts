/**
 * VMSAv8-64 translation table descriptors, 4 KiB granule, as io-pgtable-arm writes them.
 *
 * A descriptor is 64 bits, little-endian, in simulated physical memory. JavaScript numbers cannot hold
 * bits 53..63 exactly, so a descriptor is always handled as two 32-bit words: `lo` (bits 31..0) and
 * `hi` (bits 63..32). Bitwise operators are used only on those 32-bit words, never on an address:
 * addresses are split into words and rebuilt with arithmetic.
 *
 * Layout (bit numbers of the 64-bit descriptor):
 *
 * | bits    | table (L0-L2, type 0b11) | block (L1-L2, type 0b01) / page (L3, type 0b11)          |
 * |---------|--------------------------|-----------------------------------------------------------|
 * | 1:0     | 0b11                     | 0b01 block, 0b11 page (0b00 / 0bx0: invalid)             |
 * | 4:2     | ignored                  | S1 AttrIndx (MAIR index) / S2 MemAttr[3:0] in bits 5:2   |
 * | 5       | ignored                  | S1 NS (unused here)                                       |
 * | 7:6     | ignored                  | S1 AP[2:1] (bit 6 unprivileged access, bit 7 read-only) / S2 S2AP (bit 6 read, bit 7 write) |
 * | 9:8     | ignored                  | SH (0b10 outer shareable, 0b11 inner shareable)           |
 * | 10      | ignored                  | AF (always set: no access-flag faults)                    |
 * | 11      | ignored                  | S1 nG (always set at stage 1)                             |
 * | 47:12   | next-level table address | output address (block: bits 20:12 or 29:12 are zero)      |
 * | 51      | -                        | DBM (not set: no hardware dirty tracking here)            |
 * | 52      | -                        | Contiguous (never set)                                    |
 * | 54:53   | -                        | PXN/UXN at S1, XN[1:0] at S2: both set for IOMMU_NOEXEC   |
 * | 63      | NSTable (never set)      | -                                                         |
 *
 * A zero descriptor is empty. Only the output-address bits 47:12 are used (48-bit OA; the 52-bit
 * LPA forms of the 64 KiB granule are not supported).
 */

/** bits [1:0] */
export const PTE_TYPE_MASK = 0x3;
export const PTE_TYPE_BLOCK = 0x1;
export const PTE_TYPE_TABLE = 0x3;
export const PTE_TYPE_PAGE = 0x3;

// --- low word (bits 31..0) ---
export const PTE_NS = 1 << 5;
/** Stage 1 AP[1]: EL0 / unprivileged access allowed. */
export const PTE_AP_UNPRIV = 1 << 6;
/** Stage 1 AP[2]: read-only. */
export const PTE_AP_RDONLY = 1 << 7;
export const PTE_ATTRINDX_SHIFT = 2;
export const PTE_SH_NS = 0 << 8;
export const PTE_SH_OS = 2 << 8;
export const PTE_SH_IS = 3 << 8;
export const PTE_AF = 1 << 10;
export const PTE_NG = 1 << 11;
/** Stage 2 S2AP (HAP) bits. */
export const PTE_HAP_FAULT = 0 << 6;
export const PTE_HAP_READ = 1 << 6;
export const PTE_HAP_WRITE = 2 << 6;
/** Stage 2 MemAttr[3:0] at bits 5:2. */
export const PTE_MEMATTR_OIWB = 0xf << 2;
export const PTE_MEMATTR_NC = 0x5 << 2;
export const PTE_MEMATTR_DEV = 0x1 << 2;
/** Lower attributes kept when a block is split (bits 11:2). */
export const PTE_ATTR_LO_MASK = 0x3ff << 2;

// --- high word (bits 63..32): a bit n of the descriptor is bit n-32 here ---
/** Bit 51. */
export const PTE_HI_DBM = 1 << (51 - 32);
/** Bit 52. */
export const PTE_HI_CONT = 1 << (52 - 32);
/** Bits 54:53 (PXN|UXN at stage 1, XN[1:0] at stage 2). */
export const PTE_HI_XN = 3 << (53 - 32);
/** Bit 63. */
export const PTE_HI_NSTABLE = 0x8000_0000;
/** Upper attributes kept when a block is split (XN and DBM; not the contiguous hint). */
export const PTE_HI_ATTR_MASK = PTE_HI_XN | PTE_HI_DBM;
/** Output-address bits 47:32 in the high word. */
export const PTE_HI_ADDR_MASK = 0xffff;

/** MAIR attribute encodings and the indices the stage-1 AttrIndx field refers to. */
export const MAIR_ATTR_DEVICE = 0x04;
export const MAIR_ATTR_NC = 0x44;
export const MAIR_ATTR_INC_OWBRWA = 0xf4;
export const MAIR_ATTR_WBRWA = 0xff;
export const MAIR_ATTR_IDX_NC = 0;
export const MAIR_ATTR_IDX_CACHE = 1;
export const MAIR_ATTR_IDX_DEV = 2;
export const MAIR_ATTR_IDX_INC_OCACHE = 3;

const TWO_32 = 0x1_0000_0000;

/** Low word of the address field of a descriptor for `addr` (granule-aligned, below 2^48). */
export function addrLoWord(addr: number): number {
  // addr - floor(addr / 2^32) * 2^32 rather than addr % 2^32: same value, no floating-point remainder
  return addr - Math.floor(addr / TWO_32) * TWO_32;
}

/** High word of the address field (bits 47:32) of a descriptor for `addr`. */
export function addrHiWord(addr: number): number {
  return Math.floor(addr / TWO_32);
}

/** The output / next-table address held in a descriptor (bits 47:12). */
export function descAddr(lo: number, hi: number): number {
  // masks on the 32-bit descriptor words only; the address is rebuilt with arithmetic
  return (hi & PTE_HI_ADDR_MASK) * TWO_32 + ((lo & 0xfffff000) >>> 0);
}

/** Whether the descriptor at level `lvl` is a leaf (a block at L1/L2, a page at L3). */
export function isLeaf(lo: number, lvl: number): boolean {
  return lvl === 3 ? (lo & PTE_TYPE_MASK) === PTE_TYPE_PAGE : (lo & PTE_TYPE_MASK) === PTE_TYPE_BLOCK;
}

/** Whether the descriptor at level `lvl` points to a next-level table. */
export function isTable(lo: number, lvl: number): boolean {
  return lvl < 3 && (lo & PTE_TYPE_MASK) === PTE_TYPE_TABLE;
}
