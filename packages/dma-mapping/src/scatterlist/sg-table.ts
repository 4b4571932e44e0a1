import { EINVAL, PAGE_SIZE } from '@dmasim/core';

/**
 * One scatterlist entry (struct scatterlist). The CPU side is a page's physical address plus an
 * offset and a length; the DMA side (dmaAddress/dmaLength) is filled by dma_map_sg and may describe
 * fewer, merged segments than the CPU side: after mapping, the first `nents` entries carry the
 * device's view and the rest have dmaLength 0.
 */
export interface Scatterlist {
  /** Physical address of the first page (page_to_phys(sg_page(sg))). */
  pagePhys: number;
  /** Offset of the data inside that page (may exceed PAGE_SIZE for a multi-page segment start). */
  offset: number;
  /** Bytes of data. */
  length: number;
  /** sg_dma_address(sg): meaningful for the first `nents` entries after mapping. */
  dmaAddress: number;
  /** sg_dma_len(sg). */
  dmaLength: number;
}

/** sg_phys(): the physical address of the entry's data. */
export function sgPhys(sg: Scatterlist): number {
  return sg.pagePhys + sg.offset;
}

/** sg_set_page(). */
export function sgSetPage(sg: Scatterlist, pagePhys: number, length: number, offset: number): void {
  sg.pagePhys = pagePhys;
  sg.length = length;
  sg.offset = offset;
}

/** sg_init_one(): a single entry describing [phys, phys+length). */
export function sgInitOne(phys: number, length: number): Scatterlist {
  const offset = phys % PAGE_SIZE;
  return { pagePhys: phys - offset, offset, length, dmaAddress: 0, dmaLength: 0 };
}

function emptyEntry(): Scatterlist {
  return { pagePhys: 0, offset: 0, length: 0, dmaAddress: 0, dmaLength: 0 };
}

/**
 * struct sg_table: `origNents` CPU entries; `nents` entries mapped for the device (set by
 * dmaMapSgtable, 0 before mapping).
 */
export class SgTable {
  sgl: Scatterlist[] = [];
  origNents = 0;
  nents = 0;

  /** sg_alloc_table(): `n` empty entries. Returns 0 (or -EINVAL for n = 0 as the kernel does). */
  allocTable(n: number): number {
    if (!Number.isInteger(n) || n <= 0) return -EINVAL;
    this.sgl = Array.from({ length: n }, emptyEntry);
    this.origNents = n;
    this.nents = n;
    return 0;
  }

  /** sg_free_table(). */
  freeTable(): void {
    this.sgl = [];
    this.origNents = 0;
    this.nents = 0;
  }

  /** Total CPU bytes described. */
  get totalLength(): number {
    let n = 0;
    for (let i = 0; i < this.origNents; i++) n += this.sgl[i]!.length;
    return n;
  }
}

/**
 * sg_alloc_table_from_pages_segment(): builds a table from an array of page addresses, `offset`
 * into the first page and `size` bytes in all, merging physically contiguous pages into one entry
 * while the entry stays within `maxSegment` bytes. Returns 0, or -EINVAL for bad arguments.
 */
export function sgAllocTableFromPages(
  sgt: SgTable,
  pages: readonly number[],
  offset: number,
  size: number,
  maxSegment = Number.MAX_SAFE_INTEGER,
): number {
  if (pages.length === 0 || offset < 0 || offset >= PAGE_SIZE || size <= 0) return -EINVAL;
  if (offset + size > pages.length * PAGE_SIZE) return -EINVAL;
  // merged chunks stay page-granular: the limit is rounded down to whole pages, and must hold one
  const maxSeg = maxSegment - (maxSegment % PAGE_SIZE);
  if (maxSeg < PAGE_SIZE) return -EINVAL;
  const entries: Scatterlist[] = [];
  let remaining = size;
  let i = 0;
  let firstOffset = offset;
  const lastPage = Math.ceil((offset + size) / PAGE_SIZE);
  while (i < lastPage) {
    // grow a run of contiguous pages from pages[i], bounded by maxSeg
    const start = pages[i]!;
    let j = i + 1;
    let runBytes = PAGE_SIZE - firstOffset;
    while (j < lastPage && pages[j] === start + (j - i) * PAGE_SIZE && runBytes + PAGE_SIZE <= maxSeg) {
      runBytes += PAGE_SIZE;
      j++;
    }
    const len = Math.min(runBytes, remaining);
    entries.push({ pagePhys: start, offset: firstOffset, length: len, dmaAddress: 0, dmaLength: 0 });
    remaining -= len;
    firstOffset = 0;
    i = j;
  }
  sgt.sgl = entries;
  sgt.origNents = entries.length;
  sgt.nents = entries.length;
  return 0;
}

/** for_each_sg(): the first `nents` CPU entries. */
export function* forEachSg(sgl: readonly Scatterlist[], nents: number): Generator<[Scatterlist, number]> {
  const n = Math.min(nents, sgl.length);
  for (let i = 0; i < n; i++) yield [sgl[i]!, i];
}

/** for_each_sgtable_sg(): every CPU entry of a table. */
export function forEachSgtableSg(sgt: SgTable): Generator<[Scatterlist, number]> {
  return forEachSg(sgt.sgl, sgt.origNents);
}

/** for_each_sgtable_dma_sg(): every mapped (device-side) entry of a table. */
export function forEachSgDma(sgt: SgTable): Generator<[Scatterlist, number]> {
  return forEachSg(sgt.sgl, sgt.nents);
}
