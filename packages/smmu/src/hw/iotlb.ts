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

/** Cached leaves of one size for one context bank, keyed by input address / size. */
interface SizeClass {
  readonly size: number;
  readonly map: Map<number, Slot>;
}

/** An entry as stored: where it sits, so it can be removed without searching. */
interface Slot {
  readonly entry: IotlbEntry;
  readonly cls: SizeClass;
  readonly index: number;
}

export interface IotlbStats {
  entries: number;
  fills: number;
  evictions: number;
  invalidated: number;
}

/**
 * The SMMU's translation cache. Entries are tagged with their context bank, ASID and VMID and kept
 * per bank and leaf size, keyed by the page (or block) number they cover, so a look-up is one map
 * probe per leaf size the bank has cached. Entries live in `capacity` slots: a fill takes a free slot
 * if there is one, otherwise the slot under a round-robin replacement pointer (the oldest fill when
 * nothing was invalidated), which keeps eviction deterministic. Nothing here looks at the page
 * tables: an entry lives until it is invalidated or evicted, which is how a driver that skips TLB
 * maintenance gets a stale translation.
 */
export class Iotlb {
  private readonly slots: (Slot | null)[];
  private readonly free: number[] = [];
  private next = 0;
  private live = 0;
  private readonly byCb: SizeClass[][] = [];
  readonly stats: IotlbStats = { entries: 0, fills: 0, evictions: 0, invalidated: 0 };

  constructor(
    readonly capacity: number,
    numContextBanks: number,
  ) {
    for (let i = 0; i < numContextBanks; i++) this.byCb.push([]);
    this.slots = new Array<Slot | null>(capacity).fill(null);
    for (let i = capacity - 1; i >= 0; i--) this.free.push(i);
  }

  get size(): number {
    return this.live;
  }

  /** The cached leaf covering `va` in bank `cb`, whatever its tags (the caller checks ASID/VMID). */
  lookup(cb: number, va: number): IotlbEntry | undefined {
    const classes = this.byCb[cb]!;
    for (let i = 0; i < classes.length; i++) {
      const c = classes[i]!;
      const s = c.map.get(Math.floor(va / c.size));
      if (s !== undefined) return s.entry;
    }
    return undefined;
  }

  /** Caches a leaf; replaces an entry for the same page and evicts one when every slot is used. */
  insert(cb: number, asid: number, vmid: number, va: number, size: number, pa: number, perm: number, level: number): IotlbEntry {
    const cls = this.classFor(cb, size);
    const key = Math.floor(va / size);
    const old = cls.map.get(key);
    if (old !== undefined) this.remove(old);
    let index = this.free.pop();
    if (index === undefined) {
      index = this.next;
      this.next = (this.next + 1) % this.capacity;
      const victim = this.slots[index];
      if (victim) {
        this.remove(victim);
        this.free.pop(); // the victim's slot, just freed, is the one reused
        this.stats.evictions++;
      }
    }
    const entry: IotlbEntry = { key, cb, asid, vmid, va: key * size, size, pa, perm, level };
    const slot: Slot = { entry, cls, index };
    this.slots[index] = slot;
    cls.map.set(key, slot);
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
      const s = c.map.get(Math.floor(va / c.size));
      if (s === undefined) continue;
      const e = s.entry;
      if (asid === undefined || e.asid === asid || e.asid === ASID_GLOBAL) this.remove(s, true);
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
    for (const s of this.slots) if (s) out.push(s.entry);
    return out;
  }

  private removeWhere(pred: (e: IotlbEntry) => boolean): void {
    for (const s of this.slots) if (s && pred(s.entry)) this.remove(s, true);
  }

  private remove(s: Slot, invalidation = false): void {
    s.cls.map.delete(s.entry.key);
    this.slots[s.index] = null;
    this.free.push(s.index);
    this.live--;
    if (invalidation) this.stats.invalidated++;
    this.stats.entries = this.live;
  }

  /** The bank's map for leaves of `size`, created on first use; smallest sizes are probed first. */
  private classFor(cb: number, size: number): SizeClass {
    const classes = this.byCb[cb]!;
    for (let i = 0; i < classes.length; i++) if (classes[i]!.size === size) return classes[i]!;
    const c: SizeClass = { size, map: new Map() };
    classes.push(c);
    classes.sort((a, b) => a.size - b.size);
    return c;
  }
}
