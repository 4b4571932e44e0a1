/**
 * Memory for bounce buffers from the page allocator, placed where the device (or the pool's limit)
 * can reach: the zone is chosen from the limit as dma-direct does (ZONE_DMA when the limit is inside
 * it, else ZONE_DMA32 when it fits 32 bits), and an allocation that still lands above the limit is
 * given back and retried in the next lower zone.
 */
import { GiB, MAX_PAGE_ORDER, PAGE_SIZE, alignUp } from '@dmasim/core/standalone';
import type { GfpFlags, PageAllocator, ZoneType } from '@dmasim/core/standalone';

const BLOCK_PAGES = 2 ** MAX_PAGE_ORDER;
const BLOCK_BYTES = BLOCK_PAGES * PAGE_SIZE;

/** A run of memory taken from the page allocator, with what is needed to give it back. */
export interface PageRun {
  readonly addr: number;
  readonly size: number;
  /** Blocks of MAX_PAGE_ORDER taken (for runs larger than one block), else empty: freed as exact pages. */
  readonly blocks: readonly number[];
}

function zoneEnd(pages: PageAllocator, zone: ZoneType): number {
  const z = pages.stats().find((s) => s.name === zone);
  return z === undefined || z.managedPages === 0 ? 0 : z.end;
}

/** The zones to try for memory at or below `limit`, best first (dma_direct_optimal_gfp_mask and its retries). */
export function zonesForLimit(pages: PageAllocator, limit: number): ZoneType[] {
  const dmaEnd = zoneEnd(pages, 'DMA');
  const zones: ZoneType[] = [];
  if (dmaEnd > 0 && limit <= dmaEnd - 1) zones.push('DMA');
  else if (limit <= 4 * GiB - 1) zones.push('DMA32', 'DMA');
  else zones.push('NORMAL', 'DMA32', 'DMA');
  return zones;
}

/** Whole pages covering `size` bytes, all at or below `limit`; null when no zone can give them. */
export function allocReachablePages(pages: PageAllocator, size: number, limit: number): PageRun | null {
  const bytes = alignUp(Math.max(size, 1), PAGE_SIZE);
  if (bytes > BLOCK_BYTES) return allocContiguous(pages, bytes, limit);
  for (const zone of zonesForLimit(pages, limit)) {
    const gfp: GfpFlags = { zone };
    const addr = pages.allocPagesExact(bytes, gfp);
    if (addr === null) continue;
    if (addr + bytes - 1 <= limit) return { addr, size: bytes, blocks: [] };
    pages.freePagesExact(addr, bytes);
  }
  return null;
}

/**
 * A physically contiguous run, possibly larger than the biggest buddy block (the 64 MiB default
 * pool), built from adjacent MAX_PAGE_ORDER blocks and placed as high below `limit` as possible, the
 * way the boot-time memblock allocation the kernel uses for its default pool works top-down. Every
 * block of the zone is taken, the highest run long enough is kept, the rest is given back.
 */
export function allocContiguous(pages: PageAllocator, size: number, limit: number): PageRun | null {
  const need = Math.ceil(size / BLOCK_BYTES);
  for (const zone of zonesForLimit(pages, limit)) {
    const taken = pages.allocTopBlocks({ zone }, limit);
    const usable = taken.filter((a) => a + BLOCK_BYTES - 1 <= limit).sort((a, b) => a - b);
    let bestEnd = -1; // index one past the highest run of `need` adjacent blocks
    let runLen = 0;
    for (let i = 0; i < usable.length; i++) {
      runLen = i > 0 && usable[i] === usable[i - 1]! + BLOCK_BYTES ? runLen + 1 : 1;
      if (runLen >= need) bestEnd = i + 1;
    }
    const best = bestEnd < 0 ? null : usable.slice(bestEnd - need, bestEnd);
    // the kept run is one address range: give back everything taken outside it, in the order taken
    const lo = best === null ? 0 : best[0]!;
    const hi = best === null ? 0 : lo + best.length * BLOCK_BYTES;
    for (const a of taken) if (a < lo || a >= hi) pages.freePages(a, MAX_PAGE_ORDER);
    if (best !== null) return { addr: best[0]!, size, blocks: best };
  }
  return null;
}

export function freePageRun(pages: PageAllocator, run: PageRun): void {
  if (run.blocks.length > 0) for (const a of run.blocks) pages.freePages(a, MAX_PAGE_ORDER);
  else pages.freePagesExact(run.addr, run.size);
}
