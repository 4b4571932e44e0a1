/**
 * The order of every allocated block, keyed by its first pfn.
 *
 * A Map with a set/delete per alloc/free pair is slow in V8 (deleted entries pile up until the table
 * is rebuilt), and the order-0 fast path does exactly that millions of times. Instead one byte per
 * page, in buckets created when a page in them is first allocated, holds `order + 1` for a block head
 * and 0 otherwise. Cost follows the memory actually handed out, as with PhysicalMemory's chunks.
 */
const BUCKET_PAGES = 4096;

export class BlockOrders {
  private readonly buckets = new Map<number, Int8Array>();
  private count = 0;

  /** Number of blocks recorded. */
  get size(): number {
    return this.count;
  }

  /** The order of the block starting at pfn, or undefined (also for a non-integer pfn). */
  get(pfn: number): number | undefined {
    if (!Number.isSafeInteger(pfn) || pfn < 0) return undefined;
    const bucket = this.buckets.get(Math.floor(pfn / BUCKET_PAGES));
    if (bucket === undefined) return undefined;
    const v = bucket[pfn % BUCKET_PAGES]!;
    return v === 0 ? undefined : v - 1;
  }

  set(pfn: number, order: number): void {
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
    const bucket = this.buckets.get(Math.floor(pfn / BUCKET_PAGES));
    const slot = pfn % BUCKET_PAGES;
    if (bucket === undefined || bucket[slot] === 0) return false;
    bucket[slot] = 0;
    this.count--;
    return true;
  }
}
