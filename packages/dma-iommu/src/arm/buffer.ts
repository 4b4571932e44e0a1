import { MAX_PAGE_ORDER, PAGE_SIZE, pow2, type GfpFlags } from '@dmasim/core';
import type { ArmIommuEnv } from './env';

/** The pages of one coherent allocation: what the kernel keeps in the buffer's vm area. */
export interface ArmIommuPages {
  /** Physical address of every page, in buffer order (the kernel's `struct page **pages`). */
  readonly pages: readonly number[];
  /** Blocks as allocated, to give back: address and buddy order (-1: an exact, order-0 run). */
  readonly blocks: readonly { readonly addr: number; readonly order: number }[];
  /** Whether the pages are one physically contiguous run (the CPU can use it linearly). */
  readonly contiguous: boolean;
}

/**
 * __iommu_alloc_buffer(): `count` pages for a coherent buffer.
 *
 * The kernel gathers pages in the largest power-of-two blocks that fit the remaining count, falling
 * back to smaller orders when a block is not available, and gives the CPU a contiguous view by
 * remapping them (vmap). dmasim has no CPU page tables (a CPU address is a physical address), so a
 * physically contiguous run is tried first: it is the same memory to the device, and the CPU can
 * use it linearly. Only when no such run exists (fragmented memory, or more than a buddy block) are
 * pages gathered as the kernel does; the buffer is then contiguous in IOVA space only.
 * Every page is cleared and written back (__dma_clear_buffer). Returns null when memory runs out.
 */
export function iommuAllocBuffer(env: ArmIommuEnv, size: number, gfp: GfpFlags): ArmIommuPages | null {
  const count = Math.max(1, Math.ceil(size / PAGE_SIZE));
  const run = count <= pow2(MAX_PAGE_ORDER) ? env.pages.allocPagesExact(count * PAGE_SIZE, gfp) : null;
  if (run !== null) {
    clearBuffer(env, run, count * PAGE_SIZE);
    return { pages: Array.from({ length: count }, (_, i) => run + i * PAGE_SIZE), blocks: [{ addr: run, order: -1 }], contiguous: true };
  }
  const pages: number[] = [];
  const blocks: { addr: number; order: number }[] = [];
  let left = count;
  while (left > 0) {
    // the largest power of two not above what is left (__fls), tried downwards
    let order = Math.min(Math.floor(Math.log2(left)), MAX_PAGE_ORDER);
    let addr = env.pages.allocPages(order, gfp);
    while (addr === null && order > 0) addr = env.pages.allocPages(--order, gfp);
    if (addr === null) {
      freeBlocks(env, blocks, pages.length);
      return null;
    }
    const n = pow2(order);
    clearBuffer(env, addr, n * PAGE_SIZE);
    blocks.push({ addr, order });
    for (let j = 0; j < n; j++) pages.push(addr + j * PAGE_SIZE);
    left -= n;
  }
  return { pages, blocks, contiguous: isContiguous(pages) };
}

/** __iommu_free_buffer(). */
export function iommuFreeBuffer(env: ArmIommuEnv, buf: ArmIommuPages): void {
  freeBlocks(env, buf.blocks, buf.pages.length);
}

function freeBlocks(env: ArmIommuEnv, blocks: readonly { addr: number; order: number }[], pageCount: number): void {
  for (const b of blocks) {
    if (b.order < 0) env.pages.freePagesExact(b.addr, pageCount * PAGE_SIZE);
    else env.pages.freePages(b.addr, b.order);
  }
}

/** __dma_clear_buffer(): zeroed memory with no line of it left in the CPU cache. */
function clearBuffer(env: ArmIommuEnv, addr: number, bytes: number): void {
  env.cache.cleanInvalidate(addr, bytes);
  env.memory.fill(addr, bytes, 0);
}

function isContiguous(pages: readonly number[]): boolean {
  for (let i = 1; i < pages.length; i++) if (pages[i] !== pages[0]! + i * PAGE_SIZE) return false;
  return true;
}
