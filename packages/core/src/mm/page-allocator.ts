import { GiB, PAGE_SIZE, alignDown, alignUp, ilog2, roundupPowOfTwo } from '../address';
import type { RamRegion } from '../memory/physical-memory';
import { BlockOrders } from './block-orders';
import { TopBlocks } from './top-blocks';

/** Zones as Linux names them, lowest first. */
export type ZoneType = 'DMA' | 'DMA32' | 'NORMAL';
export const ZONE_TYPES: readonly ZoneType[] = ['DMA', 'DMA32', 'NORMAL'];

/** The largest buddy order (Linux's MAX_PAGE_ORDER): blocks of up to 2^10 pages = 4 MiB. */
export const MAX_PAGE_ORDER = 10;

/** Allocation flags: the highest zone the caller accepts (GFP_DMA, GFP_DMA32, or neither). */
export interface GfpFlags {
  readonly zone?: ZoneType;
}
export const GFP_KERNEL: GfpFlags = Object.freeze({ zone: 'NORMAL' });
export const GFP_DMA32: GfpFlags = Object.freeze({ zone: 'DMA32' });
export const GFP_DMA: GfpFlags = Object.freeze({ zone: 'DMA' });

export interface PageAllocatorOptions {
  /** End (exclusive) of ZONE_DMA; 0 or absent means the board has no ZONE_DMA (e.g. 1 GiB on a Pi 4). */
  readonly dmaZoneEnd?: number;
  /** End (exclusive) of ZONE_DMA32; default 4 GiB. */
  readonly dma32ZoneEnd?: number;
  /** Ranges never handed out (firmware carve-outs, /memreserve/). */
  readonly reserved?: readonly RamRegion[];
  /** Order-0 pages a per-CPU list keeps before giving a batch back (Linux pcp `high`). */
  readonly pcpHigh?: number;
  /** Pages moved between the per-CPU list and the buddy lists at once (Linux pcp `batch`). */
  readonly pcpBatch?: number;
}

export interface ZoneStats {
  readonly name: ZoneType;
  readonly start: number;
  readonly end: number;
  readonly managedPages: number;
  readonly freePages: number;
  /** Free blocks per order, 0..MAX_PAGE_ORDER (pages cached on the per-CPU list not included). */
  readonly freeBlocks: readonly number[];
  readonly pcpPages: number;
}

class Zone {
  /** Per order below MAX_PAGE_ORDER: start pfns of free blocks, in insertion order (deterministic placement). */
  readonly freeArea: Set<number>[] = Array.from({ length: MAX_PAGE_ORDER }, () => new Set<number>());
  /** The free blocks of MAX_PAGE_ORDER, oldest first (they never merge, so a queue is enough). */
  readonly topArea = new TopBlocks(2 ** MAX_PAGE_ORDER);
  /** start pfn → order of each free buddy block below MAX_PAGE_ORDER (a top block has no buddy to merge with). */
  readonly freeHead = new Map<number, number>();
  /** The per-CPU list of order-0 pages (one simulated CPU does the allocating). */
  pcp: number[] = [];
  managedPages = 0;
  freePages = 0;
  constructor(
    readonly name: ZoneType,
    readonly startPfn: number,
    readonly endPfn: number,
  ) {}
}

/**
 * A buddy page allocator over the board's RAM, with zones DMA / DMA32 / NORMAL, zone fallback from the
 * highest zone a caller accepts down to the lowest (as Linux's zonelists do), per-CPU order-0 lists,
 * and statistics. Allocations return physical addresses, or null when no zone can serve them.
 */
export class PageAllocator {
  private readonly zones: Zone[];
  /** start pfn → order of every allocated block (to catch bad frees). */
  private readonly allocated = new BlockOrders(MAX_PAGE_ORDER);
  private readonly pcpHigh: number;
  private readonly pcpBatch: number;

  constructor(regions: readonly RamRegion[], options: PageAllocatorOptions = {}) {
    const dmaEnd = options.dmaZoneEnd ?? 0;
    const dma32End = Math.max(options.dma32ZoneEnd ?? 4 * GiB, dmaEnd);
    this.pcpHigh = options.pcpHigh ?? 186;
    this.pcpBatch = options.pcpBatch ?? 31;
    const bounds: [ZoneType, number, number][] = [
      ['DMA', 0, dmaEnd],
      ['DMA32', dmaEnd, dma32End],
      ['NORMAL', dma32End, Number.MAX_SAFE_INTEGER],
    ];
    this.zones = bounds.map(([n, s, e]) => new Zone(n, Math.floor(s / PAGE_SIZE), Math.floor(e / PAGE_SIZE)));
    const reserved = [...(options.reserved ?? [])].sort((a, b) => a.base - b.base);
    for (const region of [...regions].sort((a, b) => a.base - b.base)) {
      for (const piece of subtract(region, reserved)) {
        const startPfn = Math.ceil(piece.base / PAGE_SIZE);
        const endPfn = Math.floor((piece.base + piece.size) / PAGE_SIZE);
        for (const zone of this.zones) {
          const s = Math.max(startPfn, zone.startPfn);
          const e = Math.min(endPfn, zone.endPfn);
          if (s < e) this.seed(zone, s, e);
        }
      }
    }
  }

  /** Hands [s, e) to the zone as maximal naturally aligned blocks, lowest first. */
  private seed(zone: Zone, s: number, e: number): void {
    let pfn = s;
    while (pfn < e) {
      let order = MAX_PAGE_ORDER;
      while (order > 0 && (pfn % 2 ** order !== 0 || pfn + 2 ** order > e)) order--;
      // every top-order block that fits from here goes on as one run
      const n = order === MAX_PAGE_ORDER ? Math.floor((e - pfn) / 2 ** order) : 1;
      if (order === MAX_PAGE_ORDER) zone.topArea.push(pfn, n);
      else {
        zone.freeArea[order]!.add(pfn);
        zone.freeHead.set(pfn, order);
      }
      zone.managedPages += n * 2 ** order;
      zone.freePages += n * 2 ** order;
      pfn += n * 2 ** order;
    }
  }

  /** alloc_pages: 2^order contiguous pages, naturally aligned; the physical address or null. */
  allocPages(order: number, gfp: GfpFlags = GFP_KERNEL): number | null {
    if (!Number.isInteger(order) || order < 0 || order > MAX_PAGE_ORDER) return null;
    const highest = ZONE_TYPES.indexOf(gfp.zone ?? 'NORMAL');
    let pfn = this.allocFromZones(order, highest);
    if (pfn < 0 && order > 0 && this.zones.some((z, i) => i <= highest && z.pcp.length > 0)) {
      // Free pages held on the per-CPU lists cannot merge into a larger block. Before failing, the
      // kernel's slow path drains them (drain_all_pages) and retries; so do we.
      this.drainPcp();
      pfn = this.allocFromZones(order, highest);
    }
    if (pfn < 0) return null;
    this.allocated.set(pfn, order);
    return pfn * PAGE_SIZE;
  }

  /**
   * Top-order blocks, one after another, as repeated allocPages(MAX_PAGE_ORDER, gfp) would hand them
   * out (the per-CPU drain included), until none is left or one ends above `stopAbove` (that one is
   * taken too). Addresses in the order taken. The bulk form skips per-call checks that cannot fail here.
   */
  allocTopBlocks(gfp: GfpFlags, stopAbove: number): number[] {
    const highest = ZONE_TYPES.indexOf(gfp.zone ?? 'NORMAL');
    const blockPages = 2 ** MAX_PAGE_ORDER;
    const out: number[] = [];
    for (;;) {
      for (let z = highest; z >= 0; z--) {
        const zone = this.zones[z]!;
        for (let pfn = zone.topArea.shift(); pfn >= 0; pfn = zone.topArea.shift()) {
          zone.freePages -= blockPages;
          this.allocated.set(pfn, MAX_PAGE_ORDER);
          out.push(pfn * PAGE_SIZE);
          if ((pfn + blockPages) * PAGE_SIZE - 1 > stopAbove) return out;
        }
      }
      // as allocPages: with nothing left on the buddy lists, drain the per-CPU lists and retry
      // (a drain empties them, so this happens at most once)
      if (!this.zones.some((z, i) => i <= highest && z.pcp.length > 0)) return out;
      this.drainPcp();
    }
  }

  /** Tries the zones from `highest` down to ZONE_DMA (the zonelist order); a pfn or -1. */
  private allocFromZones(order: number, highest: number): number {
    for (let z = highest; z >= 0; z--) {
      const zone = this.zones[z]!;
      const pfn = order === 0 ? this.allocFromPcp(zone) : this.allocBuddy(zone, order);
      if (pfn >= 0) return pfn;
    }
    return -1;
  }

  /** __free_pages: returns false (and changes nothing) when the block was not allocated as given. */
  freePages(addr: number, order: number): boolean {
    const pfn = addr / PAGE_SIZE;
    if (this.allocated.get(pfn) !== order) return false;
    this.allocated.delete(pfn);
    const zone = this.zoneOfPfn(pfn);
    if (order === 0) {
      zone.pcp.push(pfn);
      zone.freePages += 1;
      if (zone.pcp.length > this.pcpHigh) {
        // give the oldest batch back so the buddy lists can merge them
        const batch = zone.pcp.splice(0, this.pcpBatch);
        for (const p of batch) this.freeBuddy(zone, p, 0);
      }
      return true;
    }
    zone.freePages += 2 ** order;
    this.freeBuddy(zone, pfn, order);
    return true;
  }

  /** alloc_pages_exact: a block of the order covering `size`, with the unused tail pages freed. */
  allocPagesExact(size: number, gfp: GfpFlags = GFP_KERNEL): number | null {
    // Nothing to allocate: returning a page here would hand out a block that the tail loop below
    // has already freed again.
    if (!(size > 0) || !Number.isSafeInteger(Math.ceil(size))) return null;
    const pages = Math.ceil(size / PAGE_SIZE);
    const order = ilog2(roundupPowOfTwo(pages));
    const addr = this.allocPages(order, gfp);
    if (addr === null) return null;
    // split the block into order-0 pieces, keep the first `pages`, free the rest
    const pfn = addr / PAGE_SIZE;
    this.allocated.delete(pfn);
    for (let i = 0; i < 2 ** order; i++) this.allocated.set(pfn + i, 0);
    for (let i = pages; i < 2 ** order; i++) this.freePages((pfn + i) * PAGE_SIZE, 0);
    return addr;
  }

  /** free_pages_exact. */
  freePagesExact(addr: number, size: number): void {
    const pages = Math.ceil(size / PAGE_SIZE);
    for (let i = 0; i < pages; i++) this.freePages(addr + i * PAGE_SIZE, 0);
  }

  /** Whether the block starting at addr is allocated, and its order. */
  allocatedOrder(addr: number): number | undefined {
    return this.allocated.get(addr / PAGE_SIZE);
  }

  /** The zone an address belongs to. */
  zoneOf(addr: number): ZoneType {
    return this.zoneOfPfn(Math.floor(addr / PAGE_SIZE)).name;
  }

  /** Returns every page on the per-CPU lists to the buddy lists (drain_all_pages). */
  drainPcp(): void {
    for (const zone of this.zones) {
      const pages = zone.pcp;
      zone.pcp = [];
      for (const p of pages) this.freeBuddy(zone, p, 0);
    }
  }

  get allocatedBlocks(): number {
    return this.allocated.size;
  }

  stats(): ZoneStats[] {
    return this.zones.map((z) => ({
      name: z.name,
      start: z.startPfn * PAGE_SIZE,
      end: Math.min(z.endPfn * PAGE_SIZE, Number.MAX_SAFE_INTEGER),
      managedPages: z.managedPages,
      freePages: z.freePages,
      freeBlocks: [...z.freeArea.map((s) => s.size), z.topArea.size],
      pcpPages: z.pcp.length,
    }));
  }

  get freePagesTotal(): number {
    return this.zones.reduce((n, z) => n + z.freePages, 0);
  }

  private zoneOfPfn(pfn: number): Zone {
    for (const z of this.zones) if (pfn >= z.startPfn && pfn < z.endPfn) return z;
    return this.zones[this.zones.length - 1]!;
  }

  private allocFromPcp(zone: Zone): number {
    if (zone.pcp.length === 0) {
      // an empty zone (no NORMAL memory on a 4 GiB board, say) is skipped without walking its lists
      if (zone.freePages === 0) return -1;
      for (let i = 0; i < this.pcpBatch; i++) {
        const p = this.allocBuddy(zone, 0);
        if (p < 0) break;
        zone.pcp.push(p);
        zone.freePages += 1; // still free until handed out below
      }
      // refilled pages came off the buddy lists lowest-first; hand out the lowest first
      zone.pcp.reverse();
    }
    const pfn = zone.pcp.pop();
    if (pfn === undefined) return -1;
    zone.freePages -= 1;
    return pfn;
  }

  /** Takes a block of `order` from the zone's buddy lists, splitting a larger one if needed. */
  private allocBuddy(zone: Zone, order: number): number {
    // pages on the per-CPU list count as free but are not on the buddy lists
    if (zone.freePages - zone.pcp.length < 2 ** order) return -1;
    for (let o = order; o <= MAX_PAGE_ORDER; o++) {
      let pfn: number;
      if (o === MAX_PAGE_ORDER) {
        pfn = zone.topArea.shift();
        if (pfn < 0) continue;
      } else {
        const area = zone.freeArea[o]!;
        if (area.size === 0) continue;
        pfn = area.values().next().value as number;
        area.delete(pfn);
        zone.freeHead.delete(pfn);
      }
      // split down: the upper halves go back on the lower lists
      for (let cur = o; cur > order; cur--) {
        const half = pfn + 2 ** (cur - 1);
        zone.freeArea[cur - 1]!.add(half);
        zone.freeHead.set(half, cur - 1);
      }
      zone.freePages -= 2 ** order;
      return pfn;
    }
    return -1;
  }

  /** Puts a block back, merging with its buddy while the buddy is free at the same order. */
  private freeBuddy(zone: Zone, pfn: number, order: number): void {
    let p = pfn;
    let o = order;
    while (o < MAX_PAGE_ORDER) {
      const size = 2 ** o;
      const buddy = p % (size * 2) === 0 ? p + size : p - size;
      if (zone.freeHead.get(buddy) !== o) break;
      zone.freeArea[o]!.delete(buddy);
      zone.freeHead.delete(buddy);
      p = Math.min(p, buddy);
      o++;
    }
    if (o === MAX_PAGE_ORDER) zone.topArea.push(p);
    else {
      zone.freeArea[o]!.add(p);
      zone.freeHead.set(p, o);
    }
  }
}

/** region minus the reserved ranges, page-aligned inward. */
function subtract(region: RamRegion, reserved: readonly RamRegion[]): RamRegion[] {
  let pieces: RamRegion[] = [{ base: alignUp(region.base, PAGE_SIZE), size: 0 }];
  pieces[0] = { base: pieces[0]!.base, size: alignDown(region.base + region.size, PAGE_SIZE) - pieces[0]!.base };
  for (const r of reserved) {
    const next: RamRegion[] = [];
    const rs = alignDown(r.base, PAGE_SIZE);
    const re = alignUp(r.base + r.size, PAGE_SIZE);
    for (const p of pieces) {
      const pe = p.base + p.size;
      if (re <= p.base || rs >= pe) {
        next.push(p);
        continue;
      }
      if (rs > p.base) next.push({ base: p.base, size: rs - p.base });
      if (re < pe) next.push({ base: re, size: pe - re });
    }
    pieces = next;
  }
  return pieces.filter((p) => p.size > 0);
}
