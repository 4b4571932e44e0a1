/**
 * A map from page-frame ranges to values, kept in a B+ tree keyed by each range's first PFN, so the
 * range holding an address is found in O(log n) however many there are. Seed 004 keeps its dynamic
 * bounce buffers in a maple tree for the same reason: `is_swiotlb_buffer()` runs on every unmap and
 * sync, and a Raspberry Pi 4 can have more than a thousand such buffers live.
 */
import SortedBTree from 'sorted-btree';
import { PAGE_SIZE } from '@dmasim/core/standalone';

// sorted-btree is CommonJS with an `exports.default`: depending on the loader the default import is
// the class itself or the module object holding it.
const BTree = (SortedBTree as unknown as { default?: typeof SortedBTree }).default ?? SortedBTree;

interface RangeEntry<T> {
  readonly firstPfn: number;
  /** Inclusive. */
  readonly lastPfn: number;
  readonly value: T;
}

export class PfnRangeMap<T> {
  // numeric keys only: a plain comparator skips the generic one's type checks
  private readonly tree = new BTree<number, RangeEntry<T>>(undefined, (a: number, b: number) => a - b);
  private readonly byPfn = new Map<number, RangeEntry<T>>();

  get size(): number {
    return this.tree.size;
  }

  /** Stores `value` for pfns [firstPfn, firstPfn + npages); false (nothing stored) if that overlaps an entry. */
  insert(firstPfn: number, npages: number, value: T): boolean {
    const lastPfn = firstPfn + npages - 1;
    if (npages <= 0 || this.findPfn(firstPfn) !== undefined || this.findPfn(lastPfn) !== undefined) return false;
    const next = this.tree.nextHigherKey(firstPfn);
    if (next !== undefined && next <= lastPfn) return false;
    const entry: RangeEntry<T> = { firstPfn, lastPfn, value };
    this.tree.set(firstPfn, entry);
    for (let p = firstPfn; p <= lastPfn; p++) this.byPfn.set(p, entry);
    return true;
  }

  /** Removes the entry that starts at firstPfn; returns its value. */
  remove(firstPfn: number): T | undefined {
    const e = this.tree.get(firstPfn);
    if (e === undefined) return undefined;
    this.tree.delete(firstPfn);
    for (let p = e.firstPfn; p <= e.lastPfn; p++) this.byPfn.delete(p);
    return e.value;
  }

  /** The value whose range holds the page frame `pfn`. */
  findPfn(pfn: number): T | undefined {
    return this.byPfn.get(pfn)?.value;
  }

  /** The value whose range holds the physical address `paddr`. */
  find(paddr: number): T | undefined {
    if (this.byPfn.size === 0) return undefined;
    return this.findPfn(Math.floor(paddr / PAGE_SIZE));
  }

  *values(): IterableIterator<T> {
    for (const e of this.tree.values()) yield e.value;
  }
}
