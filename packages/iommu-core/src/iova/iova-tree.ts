/**
 * The ordered set of ranges behind an IOVA domain (the kernel's rbtree of `struct iova`).
 *
 * A B+ tree keyed by each range's `pfnHi` (integer keys), specialised for the allocator's accesses:
 * insert, remove, "first range ending at or above a pfn", "last range ending below a pfn", and a
 * cursor that steps to the next lower range in O(1) (leaves are linked both ways), which is what
 * the allocator's top-down walk does node after node.
 *
 * sorted-btree was the first choice; measured on the allocator's alloc/free pair it spent about a
 * microsecond per pair in generic splice/editRange code, about ten times this specialised tree.
 *
 * Every node has the same shape (leaf or internal), keys live in a Float64Array (exact up to 2^53),
 * and arrays are filled up front so they stay packed: each access site sees one object shape and
 * one element kind. Internal nodes keep, for each child, the largest key under it. Nodes are
 * removed when they empty; they are not merged when merely under-full (the height stays bounded
 * by the largest size the tree ever had).
 */

/** The value type: anything with an inclusive `pfnHi` key. */
export interface PfnRange {
  pfnLo: number;
  pfnHi: number;
}

const CAP = 32;
const MAX_DEPTH = 32;

class Node<V> {
  n = 0;
  readonly keys = new Float64Array(CAP);
  prev: Node<V> | null = null;
  next: Node<V> | null = null;

  constructor(
    readonly leaf: boolean,
    /** Values of a leaf (CAP slots, always packed); empty for internal nodes. */
    readonly vals: V[],
    /** Children of an internal node (CAP slots); empty for leaves. */
    readonly children: Node<V>[],
  ) {}
}

export class IovaTree<V extends PfnRange> {
  private root: Node<V>;
  private count = 0;
  /** Path of the last descent: node and child index per level. */
  private readonly pathNodes: Node<V>[] = [];
  private readonly pathIdx = new Int32Array(MAX_DEPTH);
  private depth = 0;
  /** Value that followed the one removed by the last `remove`. */
  lastSuccessor: V | null = null;
  /** Cursor position for `cursorPrev`. */
  private curLeaf: Node<V>;
  private curIdx = 0;
  private readonly emptyVals: V[] = [];
  private readonly emptyChildren: Node<V>[] = [];
  /** Occupies unused child slots. */
  private readonly dummy: Node<V>;

  /** `filler` occupies unused value slots (any value of V; it is never returned). */
  constructor(private readonly filler: V) {
    this.dummy = new Node<V>(true, this.emptyVals, this.emptyChildren);
    this.root = this.newLeaf();
    this.curLeaf = this.root;
    for (let i = 0; i < MAX_DEPTH; i++) this.pathNodes.push(this.dummy);
  }

  get size(): number {
    return this.count;
  }

  clear(): void {
    this.root = this.newLeaf();
    this.curLeaf = this.root;
    this.count = 0;
  }

  /** Inserts `v` under `v.pfnHi`; false (and no change) when that key is present. */
  insert(v: V): boolean {
    const key = v.pfnHi;
    const leaf = this.descend(key);
    const n = leaf.n;
    const keys = leaf.keys;
    const i = this.leafIndex(leaf, key);
    if (i < n && keys[i] === key) return false;
    const vals = leaf.vals;
    for (let j = n; j > i; j--) {
      keys[j] = keys[j - 1]!;
      vals[j] = vals[j - 1]!;
    }
    keys[i] = key;
    vals[i] = v;
    leaf.n = n + 1;
    this.count++;
    if (i === n) this.raiseMax(key);
    if (leaf.n === CAP) this.split(leaf);
    return true;
  }

  /**
   * Removes the value under `key`; returns it, or null when absent. After a removal,
   * `lastSuccessor` is the value that followed it (null when it was the last).
   */
  remove(key: number): V | null {
    const leaf = this.descend(key);
    const n = leaf.n;
    const i = this.leafIndex(leaf, key);
    if (i >= n || leaf.keys[i] !== key) return null;
    const vals = leaf.vals;
    const v = vals[i]!;
    const keys = leaf.keys;
    for (let j = i; j < n - 1; j++) {
      keys[j] = keys[j + 1]!;
      vals[j] = vals[j + 1]!;
    }
    vals[n - 1] = this.filler;
    leaf.n = n - 1;
    this.count--;
    if (i < n - 1) this.lastSuccessor = vals[i]!;
    else this.lastSuccessor = leaf.next === null ? null : leaf.next.vals[0]!;
    if (leaf.n === 0) this.removeEmpty(leaf, this.depth);
    else if (i === n - 1) this.lowerMax(leaf.keys[n - 2]!, this.depth);
    return v;
  }

  /** The value under exactly `key`, or null. */
  get(key: number): V | null {
    const leaf = this.descend(key);
    const i = this.leafIndex(leaf, key);
    return i < leaf.n && leaf.keys[i] === key ? leaf.vals[i]! : null;
  }

  /** The value with the smallest key >= `key`, or null; puts the cursor on it. */
  ceil(key: number): V | null {
    const leaf = this.descend(key);
    const i = this.leafIndex(leaf, key);
    this.curLeaf = leaf;
    this.curIdx = i;
    return i < leaf.n ? leaf.vals[i]! : null;
  }

  /** The value with the smallest key > `key` (keys are integers), or null. */
  higher(key: number): V | null {
    return this.ceil(key + 1);
  }

  /** The value with the largest key < `key`, or null; puts the cursor on it. */
  lower(key: number): V | null {
    this.ceil(key);
    return this.cursorPrev();
  }

  /**
   * Moves the cursor (set by `ceil`, `lower` or `cursorPrev`) to the next lower value and returns
   * it, or null at the start. Only valid while the tree is not modified.
   */
  cursorPrev(): V | null {
    let leaf = this.curLeaf;
    let i = this.curIdx - 1;
    if (i < 0) {
      const p = leaf.prev;
      if (p === null) return null;
      leaf = p;
      i = p.n - 1;
      this.curLeaf = leaf;
    }
    this.curIdx = i;
    return leaf.vals[i]!;
  }

  /** Calls `fn` on every value in ascending key order. */
  forEach(fn: (v: V) => void): void {
    let leaf: Node<V> | null = this.root;
    while (!leaf.leaf) leaf = leaf.children[0]!;
    for (; leaf !== null; leaf = leaf.next) {
      for (let i = 0; i < leaf.n; i++) fn(leaf.vals[i]!);
    }
  }

  /** Checks the structure (ordering, maxima, counts, links); throws on the first problem. */
  check(): void {
    let total = 0;
    let last = -Infinity;
    const walk = (node: Node<V>): number => {
      if (node.leaf) {
        for (let i = 0; i < node.n; i++) {
          const k = node.keys[i]!;
          if (!(k > last)) throw new Error(`IovaTree: key ${k} out of order`);
          if (node.vals[i]!.pfnHi !== k) throw new Error(`IovaTree: value under ${k} has pfnHi ${node.vals[i]!.pfnHi}`);
          last = k;
        }
        total += node.n;
        return node.keys[node.n - 1]!;
      }
      let max = -Infinity;
      for (let i = 0; i < node.n; i++) {
        max = walk(node.children[i]!);
        if (node.keys[i] !== max) throw new Error(`IovaTree: separator ${node.keys[i]} != child max ${max}`);
      }
      return max;
    };
    if (this.count > 0) walk(this.root);
    if (total !== this.count) throw new Error(`IovaTree: count ${this.count} != ${total}`);
  }

  // ---------------------------------------------------------------------------------------------

  private newLeaf(): Node<V> {
    const vals: V[] = [];
    for (let i = 0; i < CAP; i++) vals.push(this.filler);
    return new Node<V>(true, vals, this.emptyChildren);
  }

  private newInternal(): Node<V> {
    const children: Node<V>[] = [];
    for (let i = 0; i < CAP; i++) children.push(this.dummy);
    return new Node<V>(false, this.emptyVals, children);
  }

  /** Descends to the leaf where `key` is or would go, recording the path. */
  private descend(key: number): Node<V> {
    let node = this.root;
    let d = 0;
    while (!node.leaf) {
      const keys = node.keys;
      let lo = 0;
      let hi = node.n - 1;
      // first child whose max >= key; the last child when key is above everything
      while (lo < hi) {
        const mid = (lo + hi) >>> 1; // array indices below CAP, never pfns
        if (keys[mid]! < key) lo = mid + 1;
        else hi = mid;
      }
      this.pathNodes[d] = node;
      this.pathIdx[d] = lo;
      d++;
      node = node.children[lo]!;
    }
    this.depth = d;
    return node;
  }

  /** First index in the leaf with key >= `key` (leaf.n when none). */
  private leafIndex(leaf: Node<V>, key: number): number {
    const keys = leaf.keys;
    let lo = 0;
    let hi = leaf.n;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1; // array indices below CAP, never pfns
      if (keys[mid]! < key) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }

  /** After appending a new largest key to the last descended leaf, raise the maxima on the path. */
  private raiseMax(key: number): void {
    for (let d = this.depth - 1; d >= 0; d--) {
      const p = this.pathNodes[d]!;
      const idx = this.pathIdx[d]!;
      if (p.keys[idx]! >= key) return;
      p.keys[idx] = key;
    }
  }

  /** A child at path level `depth` lost its largest key; its new max is `max`. */
  private lowerMax(max: number, depth: number): void {
    for (let d = depth - 1; d >= 0; d--) {
      const p = this.pathNodes[d]!;
      const idx = this.pathIdx[d]!;
      p.keys[idx] = max;
      if (idx !== p.n - 1) return;
    }
  }

  /** Splits a full node (the last one descended to at its level) and inserts the half upward. */
  private split(node: Node<V>): void {
    let d = this.depth;
    let full = node;
    for (;;) {
      const right = full.leaf ? this.newLeaf() : this.newInternal();
      const half = Math.floor(CAP / 2);
      const moved = full.n - half;
      right.keys.set(full.keys.subarray(half, full.n));
      if (full.leaf) {
        for (let j = 0; j < moved; j++) {
          right.vals[j] = full.vals[half + j]!;
          full.vals[half + j] = this.filler;
        }
        right.next = full.next;
        if (full.next !== null) full.next.prev = right;
        right.prev = full;
        full.next = right;
      } else {
        for (let j = 0; j < moved; j++) {
          right.children[j] = full.children[half + j]!;
          full.children[half + j] = this.dummy;
        }
      }
      right.n = moved;
      full.n = half;
      const leftMax = full.keys[half - 1]!;
      const rightMax = right.keys[moved - 1]!;

      if (d === 0) {
        const root = this.newInternal();
        root.keys[0] = leftMax;
        root.keys[1] = rightMax;
        root.children[0] = full;
        root.children[1] = right;
        root.n = 2;
        this.root = root;
        return;
      }
      d--;
      const parent = this.pathNodes[d]!;
      const idx = this.pathIdx[d]!;
      const pn = parent.n;
      parent.keys.copyWithin(idx + 2, idx + 1, pn);
      for (let j = pn; j > idx + 1; j--) parent.children[j] = parent.children[j - 1]!;
      parent.keys[idx] = leftMax;
      parent.keys[idx + 1] = rightMax;
      parent.children[idx + 1] = right;
      parent.n = pn + 1;
      if (parent.n < CAP) return;
      full = parent;
    }
  }

  /** Unlinks an empty node found at path level `depth`, and empty ancestors with it. */
  private removeEmpty(node: Node<V>, depth: number): void {
    if (node.leaf) {
      if (node.prev !== null) node.prev.next = node.next;
      if (node.next !== null) node.next.prev = node.prev;
      node.prev = null;
      node.next = null;
    }
    let d = depth;
    for (;;) {
      if (d === 0) {
        // the root emptied: the tree is empty
        this.root = this.newLeaf();
        this.curLeaf = this.root;
        return;
      }
      d--;
      const parent = this.pathNodes[d]!;
      const idx = this.pathIdx[d]!;
      const pn = parent.n;
      parent.keys.copyWithin(idx, idx + 1, pn);
      for (let j = idx; j < pn - 1; j++) parent.children[j] = parent.children[j + 1]!;
      parent.children[pn - 1] = this.dummy;
      parent.n = pn - 1;
      if (parent.n === 0) continue;
      if (idx === pn - 1) this.lowerMax(parent.keys[pn - 2]!, d);
      // a root left with one child hands the root over to it
      while (!this.root.leaf && this.root.n === 1) this.root = this.root.children[0]!;
      return;
    }
  }
}
