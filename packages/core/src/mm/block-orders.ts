/**
 * The order of every allocated block, keyed by its first pfn.
 *
 * A Map with a set/delete per alloc/free pair is slow in V8 (deleted entries pile up until the table
 * is rebuilt), and the order-0 fast path does exactly that millions of times. Instead one byte per
 * page, in buckets created when a page in them is first allocated, holds `order + 1` for a block head
 * and 0 otherwise. Cost follows the memory actually handed out, as with PhysicalMemory's chunks.
 *
 * Blocks of the top order are kept apart, one byte per top-order block: the boot-time contiguous
 * allocation takes every top block of a zone, and a page-granular bucket per 16 MiB for each of them
 * was most of a machine's construction. A pfn is in at most one of the two tables (an unaligned
 * top-order head, which the allocator never makes, goes in the page table).
 */
const BUCKET_PAGES = 4096;

export class BlockOrders {
  private readonly buckets = new Map<number, Int8Array>();
  /** Per bucket of BUCKET_PAGES top-order blocks: 1 where a top block starts. */
  private readonly topBuckets = new Map<number, Int8Array>();
  private readonly topPages: number;
  private count = 0;

  /** `topOrder`: the largest order a block can have (its heads are naturally aligned to it). */
  constructor(private readonly topOrder: number) {
    this.topPages = 2 ** topOrder;
  }

  /** Number of blocks recorded. */
  get size(): number {
    return this.count;
  }

  /** The order of the block starting at pfn, or undefined (also for a non-integer pfn). */
  get(pfn: number): number | undefined {
    if (!Number.isSafeInteger(pfn) || pfn < 0) return undefined;
    const bucket = this.buckets.get(Math.floor(pfn / BUCKET_PAGES));
    const v = bucket === undefined ? 0 : bucket[pfn % BUCKET_PAGES]!;
    if (v !== 0) return v - 1;
    return this.topByte(pfn) === 1 ? this.topOrder : undefined;
  }

  set(pfn: number, order: number): void {
    if (order === this.topOrder && pfn % this.topPages === 0) {
      const block = pfn / this.topPages;
      const idx = Math.floor(block / BUCKET_PAGES);
      let bucket = this.topBuckets.get(idx);
      if (bucket === undefined) {
        bucket = new Int8Array(BUCKET_PAGES);
        this.topBuckets.set(idx, bucket);
      }
      this.clearPage(pfn);
      if (bucket[block % BUCKET_PAGES] === 0) this.count++;
      bucket[block % BUCKET_PAGES] = 1;
      return;
    }
    this.clearTop(pfn);
    const idx = Math.floor(pfn / BUCKET_PAGES);
    let bucket = this.buckets.get(idx);
    if (bucket === undefined) {
      bucket = new Int8Array(BUCKET_PAGES);
      this.buckets.set(idx, bucket);
    }
    const slot = pfn % BUCKET_PAGES;
    if (bucket[slot] === 0) this.count++;
    bucket[slot] = order + 1;
  }

  /** Forgets the block at pfn; false when there was none. */
  delete(pfn: number): boolean {
    if (!Number.isSafeInteger(pfn) || pfn < 0) return false;
    return this.clearPage(pfn) || this.clearTop(pfn);
  }

  /** 1 when a top-order block starts at pfn, else 0. */
  private topByte(pfn: number): number {
    if (pfn % this.topPages !== 0) return 0;
    const block = pfn / this.topPages;
    const bucket = this.topBuckets.get(Math.floor(block / BUCKET_PAGES));
    return bucket === undefined ? 0 : bucket[block % BUCKET_PAGES]!;
  }

  private clearPage(pfn: number): boolean {
    const bucket = this.buckets.get(Math.floor(pfn / BUCKET_PAGES));
    const slot = pfn % BUCKET_PAGES;
    if (bucket === undefined || bucket[slot] === 0) return false;
    bucket[slot] = 0;
    this.count--;
    return true;
  }

  private clearTop(pfn: number): boolean {
    if (this.topByte(pfn) === 0) return false;
    const block = pfn / this.topPages;
    this.topBuckets.get(Math.floor(block / BUCKET_PAGES))![block % BUCKET_PAGES] = 0;
    this.count--;
    return true;
  }
}
