import { alignDown, KiB, MiB, modulo, testBit } from '@dmasim/core';

/**
 * The RK3288 IOMMU's two-level page table, shared knowledge of hardware and driver (both sides of
 * the real part agree on it through the TRM): a 4 KiB directory of 1024 DTEs, each pointing to a
 * 4 KiB table of 1024 PTEs, each mapping one 4 KiB page. A 32-bit IOVA splits into DTE index
 * (bits 31:22), PTE index (21:12) and page offset (11:0).
 *
 * Descriptors are 32-bit words; their address fields are read and built with arithmetic helpers,
 * never JavaScript bitwise operators. The flag bits sit below bit 12 and are tested with testBit.
 */
export const SPAGE_SIZE = 4 * KiB;
export const NUM_DT_ENTRIES = 1024;
export const NUM_PT_ENTRIES = 1024;
/** Bytes of IOVA one DTE covers (one page table). */
export const DTE_SPAN = 4 * MiB;
/** The IOVA space: 32 bits. */
export const RK_IOVA_LIMIT = 2 ** 32;
/** RK_IOMMU_PGSIZE_BITMAP: every size that fits one page table, 4 KiB to 4 MiB. */
export const RK_IOMMU_PGSIZE_BITMAP = 0x007ff000;

/** DTE bit 0: the page table is valid. */
export const RK_DTE_PT_VALID_BIT = 0;
/** PTE bits: 0 valid, 1 readable, 2 writable (3..8: cache attributes, unused here). */
export const RK_PTE_PAGE_VALID_BIT = 0;
export const RK_PTE_PAGE_READABLE_BIT = 1;
export const RK_PTE_PAGE_WRITABLE_BIT = 2;
/** RK_PTE_PAGE_FLAGS_MASK: bits 8:1. */
export const RK_PTE_FLAGS_SPAN = 512;

export function rkIovaDteIndex(iova: number): number {
  return Math.floor(modulo(iova, RK_IOVA_LIMIT) / DTE_SPAN);
}

export function rkIovaPteIndex(iova: number): number {
  return Math.floor(modulo(iova, DTE_SPAN) / SPAGE_SIZE);
}

export function rkIovaPageOffset(iova: number): number {
  return modulo(iova, SPAGE_SIZE);
}

/** rk_dte_pt_address / rk_pte_page_address: bits 31:12 of the descriptor. */
export function rkDescAddress(desc: number): number {
  return alignDown(desc, SPAGE_SIZE);
}

export function rkDteIsPtValid(dte: number): boolean {
  return testBit(dte, RK_DTE_PT_VALID_BIT);
}

export function rkPteIsPageValid(pte: number): boolean {
  return testBit(pte, RK_PTE_PAGE_VALID_BIT);
}

/** The PTE's flag bits 8:1 (what log_iova prints). */
export function rkPteFlags(pte: number): number {
  return modulo(pte, RK_PTE_FLAGS_SPAN) - modulo(pte, 2);
}

/** rk_mk_dte: a valid DTE for the page table at `pt`. */
export function rkMkDte(pt: number): number {
  return rkDescAddress(pt) + 1;
}

/** rk_mk_pte: a valid PTE for `page` with the read / write permissions asked. */
export function rkMkPte(page: number, read: boolean, write: boolean): number {
  return rkDescAddress(page) + (write ? 4 : 0) + (read ? 2 : 0) + 1;
}

/** rk_mk_pte_invalid: the same PTE with its valid bit cleared. */
export function rkMkPteInvalid(pte: number): number {
  return rkPteIsPageValid(pte) ? pte - 1 : pte;
}
