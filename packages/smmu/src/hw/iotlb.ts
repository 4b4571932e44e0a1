/** Permission bits of a cached translation, by transaction privilege. */
export const PERM_PRIV_READ = 1;
export const PERM_PRIV_WRITE = 2;
export const PERM_UNPRIV_READ = 4;
export const PERM_UNPRIV_WRITE = 8;

/** ASID of an entry that matches every ASID (a global, nG=0 stage-1 leaf, or any stage-2 leaf). */
export const ASID_GLOBAL = -1;

/** One cached leaf translation: input [va, va+size) → output [pa, pa+size). */
export interface IotlbEntry {
  readonly key: number;
  readonly cb: number;
  readonly asid: number;
  readonly vmid: number;
  readonly va: number;
  readonly size: number;
  readonly pa: number;
  /** PERM_* bits. */
  readonly perm: number;
  /** Level of the leaf descriptor, for the fault syndrome of a permission fault on a hit. */
  readonly level: number;
}

/**
 * Leaves of one size cached for one context bank. Every class owns a range of index keys:
 * `keyBase + page`, where page = va / size is below PAGE_LIMIT, so keys of different classes never
 * meet and stay safe integers.
 */
interface SizeClass {
  readonly size: number;
  /** 1 / size when that is exact (size a power of two), so the page number is a multiplication; else 0. */
  readonly inv: number;
  /** inv / buckets: floor(va * invSpan) is how many times the page number wraps round the table. */
  readonly invSpan: number;
  readonly keyBase: number;
  /** Added to the page before hashing (mod buckets), so equal pages of different classes land apart. */
  readonly salt: number;
}

export interface IotlbStats {
  entries: number;
  fills: number;
  evictions: number;
  invalidated: number;
}

/** Page numbers (va / leaf size) an entry can have: 4 KiB leaves of any input address below 2^54. */
const PAGE_LIMIT = 2 ** 42;
/** Size classes one IOTLB can hold (128 banks × 16 leaf sizes), so keyBase + page stays below 2^53. */
const MAX_CLASSES = 2 ** 11;
/** A bucket holding no entry (keys are never negative). */
const EMPTY = -1;

/**
 * The SMMU's translation cache. Entries are tagged with their context bank, ASID and VMID and kept
 * per bank and leaf size, keyed by the page (or block) number they cover, so a look-up is one probe
 * per leaf size the bank has cached. Entries live in `capacity` slots: a fill takes a free slot if
 * there is one, otherwise the slot under a round-robin replacement pointer (the oldest fill when
 * nothing was invalidated), which keeps eviction deterministic. Nothing here looks at the page
 * tables: an entry lives until it is invalidated or evicted, which is how a driver that skips TLB
 * maintenance gets a stale translation.
 *
 * The index is an open-addressed hash table (linear probing) over typed arrays rather than a Map:
 * its keys are beyond 2^31, which a Map would have to box on every look-up of the translation path.
 */
export class Iotlb {
  private readonly slots: (IotlbEntry | null)[];
  /** Index key and home bucket of the entry in each slot. */
  private readonly slotKey: Float64Array;
  private readonly slotHome: Int32Array;
  private readonly free: number[] = [];
  private next = 0;
  private live = 0;
  /** Size classes of each bank, smallest size first. */
  private readonly byCb: SizeClass[][] = [];
  private classCount = 0;
  /** Hash table: per bucket the key (or EMPTY), the slot holding it, and its home bucket. */
  private readonly bucketKey: Float64Array;
  private readonly bucketSlot: Int32Array;
  private readonly bucketEntry: (IotlbEntry | null)[];
  private readonly bucketHome: Int32Array;
  private readonly buckets: number;
  private readonly invBuckets: number;
  readonly stats: IotlbStats = { entries: 0, fills: 0, evictions: 0, invalidated: 0 };

  constructor(
    readonly capacity: number,
    numContextBanks: number,
  ) {
    for (let i = 0; i < numContextBanks; i++) this.byCb.push([]);
    this.slots = new Array<IotlbEntry | null>(capacity).fill(null);
    this.slotKey = new Float64Array(capacity);
    this.slotHome = new Int32Array(capacity);
    for (let i = capacity - 1; i >= 0; i--) this.free.push(i);
    // a power of two at least twice the capacity keeps probe runs short
    let buckets = 8;
    while (buckets < 2 * capacity) buckets *= 2;
    this.buckets = buckets;
    this.invBuckets = 1 / buckets;
    this.bucketKey = new Float64Array(buckets).fill(EMPTY);
    this.bucketSlot = new Int32Array(buckets);
    this.bucketEntry = new Array<IotlbEntry | null>(buckets).fill(null);
    this.bucketHome = new Int32Array(buckets);
  }

  get size(): number {
    return this.live;
  }

  /** The cached leaf covering `va` in bank `cb`, whatever its tags (the caller checks ASID/VMID). */
  lookup(cb: number, va: number): IotlbEntry | undefined {
    const classes = this.byCb[cb];
    if (classes === undefined) return undefined;
    for (let i = 0; i < classes.length; i++) {
      const c = classes[i]!;
      let page: number;
      let home: number;
      if (c.inv !== 0) {
        // (page + salt) mod buckets, from two independent multiplications rather than a chain
        page = Math.floor(va * c.inv);
        home = page - Math.floor(va * c.invSpan) * this.buckets + c.salt;
        if (home >= this.buckets) home -= this.buckets;
      } else {
        page = Math.floor(va / c.size);
        home = this.home(page + c.salt);
      }
      if (!(page >= 0 && page < PAGE_LIMIT)) continue;
      const b = this.find(c.keyBase + page, home);
      if (b >= 0) return this.bucketEntry[b]!;
    }
    return undefined;
  }

  /** Caches a leaf; replaces an entry for the same page and evicts one when every slot is used. */
  insert(cb: number, asid: number, vmid: number, va: number, size: number, pa: number, perm: number, level: number): IotlbEntry {
    const cls = this.classFor(cb, size);
    const page = Math.floor(va / size);
    if (!(page >= 0 && page < PAGE_LIMIT)) throw new RangeError(`IOTLB: input address ${va} out of range`);
    const key = cls.keyBase + page;
    const home = this.home(page + cls.salt);
    const old = this.find(key, home);
    if (old >= 0) this.remove(this.bucketSlot[old]!);
    let index = this.free.pop();
    if (index === undefined) {
      index = this.next;
      this.next = (this.next + 1) % this.capacity;
      if (this.slots[index] !== null) {
        this.remove(index);
        this.free.pop(); // the victim's slot, just freed, is the one reused
        this.stats.evictions++;
      }
    }
    const entry: IotlbEntry = { key: page, cb, asid, vmid, va: page * size, size, pa, perm, level };
    this.slots[index] = entry;
    this.slotKey[index] = key;
    this.slotHome[index] = home;
    this.place(key, home, index, entry);
    this.live++;
    this.stats.fills++;
    this.stats.entries = this.live;
    return entry;
  }

  /** TLBIVA / TLBIVAL (asid given) and TLBIVAA / TLBIIPAS2 (asid undefined: any ASID). */
  invalidateVa(cb: number, va: number, asid?: number): void {
    const classes = this.byCb[cb];
    if (classes === undefined) return;
    for (const c of classes) {
      const page = Math.floor(va / c.size);
      if (!(page >= 0 && page < PAGE_LIMIT)) continue;
      const b = this.find(c.keyBase + page, this.home(page + c.salt));
      if (b < 0) continue;
      const slot = this.bucketSlot[b]!;
      const e = this.slots[slot]!;
      if (asid === undefined || e.asid === asid || e.asid === ASID_GLOBAL) this.remove(slot, true);
    }
  }

  /** TLBIASID: non-global entries of that ASID in the bank. */
  invalidateAsid(cb: number, asid: number): void {
    this.removeWhere((e) => e.cb === cb && e.asid === asid);
  }

  /** TLBIALL on a context bank. */
  invalidateContext(cb: number): void {
    this.removeWhere((e) => e.cb === cb);
  }

  /** TLBIVMID. */
  invalidateVmid(vmid: number): void {
    this.removeWhere((e) => e.vmid === vmid);
  }

  /** TLBIALLNSNH. */
  invalidateAll(): void {
    this.removeWhere(() => true);
  }

  /** Entries currently cached, in slot order (for tests and reports). */
  entries(): IotlbEntry[] {
    const out: IotlbEntry[] = [];
    for (const e of this.slots) if (e) out.push(e);
    return out;
  }

  private removeWhere(pred: (e: IotlbEntry) => boolean): void {
    for (let i = 0; i < this.slots.length; i++) {
      const e = this.slots[i];
      if (e && pred(e)) this.remove(i, true);
    }
  }

  private remove(slot: number, invalidation = false): void {
    this.unplace(this.find(this.slotKey[slot]!, this.slotHome[slot]!));
    this.slots[slot] = null;
    this.free.push(slot);
    this.live--;
    if (invalidation) this.stats.invalidated++;
    this.stats.entries = this.live;
  }

  // ---- hash index -------------------------------------------------------------------------------

  /** Home bucket of a salted page number: x mod buckets, written without `%` on numbers above 2^31. */
  private home(x: number): number {
    return x - Math.floor(x * this.invBuckets) * this.buckets;
  }

  /** Bucket holding `key`, or -1. */
  private find(key: number, home: number): number {
    const keys = this.bucketKey;
    const n = this.buckets;
    for (let b = home; ; ) {
      const k = keys[b]!;
      if (k === key) return b;
      if (k === EMPTY) return -1;
      b = b + 1 === n ? 0 : b + 1;
    }
  }

  /** Stores `key` → slot in the first free bucket from `home` on (there always is one: load ≤ 1/2). */
  private place(key: number, home: number, slot: number, entry: IotlbEntry): void {
    const keys = this.bucketKey;
    let b = home;
    while (keys[b] !== EMPTY) b = b + 1 === this.buckets ? 0 : b + 1;
    keys[b] = key;
    this.bucketSlot[b] = slot;
    this.bucketEntry[b] = entry;
    this.bucketHome[b] = home;
  }

  /** Empties bucket `hole`, moving later entries of its probe run back so every key stays findable. */
  private unplace(hole: number): void {
    const keys = this.bucketKey;
    const n = this.buckets;
    let i = hole;
    let j = hole;
    for (;;) {
      j = j + 1 === n ? 0 : j + 1;
      if (keys[j] === EMPTY) break;
      const h = this.bucketHome[j]!;
      // the entry at j may move to i only if its home is not in the cyclic range (i, j]
      const homeInRange = i <= j ? h > i && h <= j : h > i || h <= j;
      if (homeInRange) continue;
      keys[i] = keys[j]!;
      this.bucketSlot[i] = this.bucketSlot[j]!;
      this.bucketEntry[i] = this.bucketEntry[j]!;
      this.bucketHome[i] = h;
      i = j;
    }
    keys[i] = EMPTY;
    this.bucketEntry[i] = null;
  }

  /** The bank's class for leaves of `size`, created on first use; smallest sizes are probed first. */
  private classFor(cb: number, size: number): SizeClass {
    const classes = this.byCb[cb]!;
    for (let i = 0; i < classes.length; i++) if (classes[i]!.size === size) return classes[i]!;
    if (this.classCount === MAX_CLASSES) throw new RangeError('IOTLB: too many leaf sizes');
    const id = this.classCount++;
    // the salt spreads classes over the table; any value keeps look-ups correct
    const pow2 = size > 0 && 2 ** Math.round(Math.log2(size)) === size;
    const inv = pow2 ? 1 / size : 0;
    const c: SizeClass = { size, inv, invSpan: inv / this.buckets, keyBase: id * PAGE_LIMIT, salt: this.home(id * 1021) };
    classes.push(c);
    classes.sort((a, b) => a.size - b.size);
    return c;
  }
}
