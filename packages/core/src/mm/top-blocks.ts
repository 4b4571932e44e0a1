/**
 * The free list of the largest buddy order, as a FIFO of runs of adjacent blocks.
 *
 * Blocks of MAX_PAGE_ORDER never merge further, so their list is only ever appended to (a free, or
 * seeding) and taken from the front (an allocation): a queue. Seeding 4 GiB of RAM makes about a
 * thousand such blocks, and a boot-time contiguous allocation takes and returns most of them; keeping
 * runs of consecutive blocks instead of one entry per block makes both O(1) per run, with the same
 * order of blocks as a Set in insertion order would give.
 */
export class TopBlocks {
  /** Flat [first pfn, block count] pairs from `head` on, oldest first. */
  private runs: number[] = [];
  private head = 0;
  private count = 0;

  /** Pages in one block. */
  constructor(private readonly blockPages: number) {}

  get size(): number {
    return this.count;
  }

  /** Appends `n` adjacent blocks starting at pfn. */
  push(pfn: number, n = 1): void {
    const runs = this.runs;
    const last = runs.length - 2;
    if (last >= this.head && runs[last]! + runs[last + 1]! * this.blockPages === pfn) runs[last + 1]! += n;
    else runs.push(pfn, n);
    this.count += n;
  }

  /** Removes and returns the oldest block, or -1 when there is none. */
  shift(): number {
    if (this.count === 0) return -1;
    const runs = this.runs;
    const pfn = runs[this.head]!;
    if (runs[this.head + 1] === 1) {
      this.head += 2;
      if (this.head === runs.length) {
        this.runs = [];
        this.head = 0;
      } else if (this.head >= 64 && this.head * 2 >= runs.length) {
        this.runs = runs.slice(this.head);
        this.head = 0;
      }
    } else {
      runs[this.head] = pfn + this.blockPages;
      runs[this.head + 1]! -= 1;
    }
    this.count--;
    return pfn;
  }
}
