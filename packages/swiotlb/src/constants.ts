/**
 * swiotlb constants (include/linux/swiotlb.h, kernel/dma/swiotlb.c) and the DMA API values swiotlb
 * shares with dma-mapping: directions, attributes and DMA_MAPPING_ERROR. dma-mapping re-exports these
 * so the whole stack agrees on one set of values.
 */
import { MiB, PAGE_SHIFT, PAGE_SIZE } from '@dmasim/core/standalone';
import { MAX_PAGE_ORDER } from '@dmasim/core/standalone';

/** log2 of a slot's size. */
export const IO_TLB_SHIFT = 11;
/** Bytes per slot (2 KiB). */
export const IO_TLB_SIZE = 2 ** IO_TLB_SHIFT;
/** Slots in a segment: no mapping may span more (a power of two). */
export const IO_TLB_SEGSIZE = 128;
/** The default pool: 64 MiB. */
export const IO_TLB_DEFAULT_SIZE = 64 * MiB;
/** Slots of the default pool (32768). */
export const IO_TLB_DEFAULT_NSLABS = IO_TLB_DEFAULT_SIZE / IO_TLB_SIZE;
/** The smallest pool worth having: 1 MiB (512 slots). */
export const IO_TLB_MIN_SLABS = MiB / IO_TLB_SIZE;
/** Slots per page (2 with 4 KiB pages). */
export const SLABS_PER_PAGE = 2 ** (PAGE_SHIFT - IO_TLB_SHIFT);
/** The largest pool the page allocator can hand out in one block (2048 slots = 4 MiB). */
export const IO_TLB_MAX_POOL_SLABS = SLABS_PER_PAGE * 2 ** MAX_PAGE_ORDER;
/** Largest single mapping: one segment (256 KiB). */
export const IO_TLB_MAX_MAPPING = IO_TLB_SEGSIZE * IO_TLB_SIZE;

/** The `orig_addr` of a free slot (the kernel's INVALID_PHYS_ADDR, ~0). */
export const INVALID_PHYS_ADDR = -1;

/**
 * The DMA API's error address. The kernel uses ~0; dmasim uses the largest safe integer, which no
 * real address reaches, and every package compares against this one value.
 */
export const DMA_MAPPING_ERROR = Number.MAX_SAFE_INTEGER;

/**
 * enum dma_data_direction, as strings so traces and reports read well. The kernel's numeric values
 * are in `DMA_DIRECTION_VALUE` for anyone printing them as the kernel does.
 */
export type DmaDataDirection = 'bidirectional' | 'to-device' | 'from-device' | 'none';
export const DMA_BIDIRECTIONAL: DmaDataDirection = 'bidirectional';
export const DMA_TO_DEVICE: DmaDataDirection = 'to-device';
export const DMA_FROM_DEVICE: DmaDataDirection = 'from-device';
export const DMA_NONE: DmaDataDirection = 'none';
export const DMA_DIRECTION_VALUE: Readonly<Record<DmaDataDirection, number>> = Object.freeze({
  bidirectional: 0,
  'to-device': 1,
  'from-device': 2,
  none: 3,
});

/** Whether a direction is one a mapping may use (everything but DMA_NONE). */
export function validDmaDirection(dir: DmaDataDirection): boolean {
  return dir === 'bidirectional' || dir === 'to-device' || dir === 'from-device';
}

/**
 * DMA_ATTR_* flags (include/linux/dma-mapping.h): genuine small bit flags, combined with `|` and
 * tested with `&` as the kernel does.
 */
export type DmaAttrs = number;
export const DMA_ATTR_WEAK_ORDERING = 1 << 1;
export const DMA_ATTR_WRITE_COMBINE = 1 << 2;
export const DMA_ATTR_NO_KERNEL_MAPPING = 1 << 4;
export const DMA_ATTR_SKIP_CPU_SYNC = 1 << 5;
export const DMA_ATTR_FORCE_CONTIGUOUS = 1 << 6;
export const DMA_ATTR_ALLOC_SINGLE_PAGES = 1 << 7;
export const DMA_ATTR_NO_WARN = 1 << 8;
export const DMA_ATTR_PRIVILEGED = 1 << 9;
export const DMA_ATTR_MMIO = 1 << 10;
/**
 * The caller may sleep (seed 004's series: dynamic bounce buffers may then be allocated with
 * GFP_KERNEL rather than GFP_NOWAIT). That series used bit 10, which mainline later gave to
 * DMA_ATTR_MMIO, so dmasim gives it a bit of its own.
 */
export const DMA_ATTR_MAY_SLEEP = 1 << 11;

export function hasAttr(attrs: DmaAttrs, flag: number): boolean {
  return (attrs & flag) !== 0;
}

/** Slots needed for `size` bytes (nr_slots). */
export function nrSlots(size: number): number {
  return Math.ceil(size / IO_TLB_SIZE);
}

/** A slot's position inside its segment (io_tlb_offset). */
export function ioTlbOffset(index: number): number {
  return index % IO_TLB_SEGSIZE;
}

export { PAGE_SIZE };
