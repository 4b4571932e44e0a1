import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { ASID_GLOBAL, Iotlb, type IotlbEntry } from './iotlb';

/**
 * A slow model of the IOTLB's contract: per bank, the leaf sizes it has cached (probed smallest
 * first), entries keyed by (bank, size, page), slots taken from a free stack or round-robin.
 */
class ModelTlb {
  readonly slots: (IotlbEntry | null)[];
  private readonly free: number[] = [];
  private next = 0;
  private readonly sizes = new Map<number, number[]>();
  private readonly byKey = new Map<string, number>();
  evictions = 0;

  constructor(readonly capacity: number) {
    this.slots = new Array<IotlbEntry | null>(capacity).fill(null);
    for (let i = capacity - 1; i >= 0; i--) this.free.push(i);
  }

  lookup(cb: number, va: number): IotlbEntry | undefined {
    for (const size of this.sizes.get(cb) ?? []) {
      const slot = this.byKey.get(`${cb}/${size}/${Math.floor(va / size)}`);
      if (slot !== undefined) return this.slots[slot]!;
    }
    return undefined;
  }

  insert(cb: number, asid: number, vmid: number, va: number, size: number, pa: number, perm: number, level: number): void {
    const sizes = this.sizes.get(cb) ?? [];
    if (!sizes.includes(size)) this.sizes.set(cb, [...sizes, size].sort((a, b) => a - b));
    const page = Math.floor(va / size);
    const old = this.byKey.get(`${cb}/${size}/${page}`);
    if (old !== undefined) this.remove(old);
    let index = this.free.pop();
    if (index === undefined) {
      index = this.next;
      this.next = (this.next + 1) % this.capacity;
      if (this.slots[index] !== null) {
        this.remove(index);
        this.free.pop();
        this.evictions++;
      }
    }
    this.slots[index] = { key: page, cb, asid, vmid, va: page * size, size, pa, perm, level };
    this.byKey.set(`${cb}/${size}/${page}`, index);
  }

  invalidateVa(cb: number, va: number, asid?: number): void {
    for (const size of this.sizes.get(cb) ?? []) {
      const slot = this.byKey.get(`${cb}/${size}/${Math.floor(va / size)}`);
      if (slot === undefined) continue;
      const e = this.slots[slot]!;
      if (asid === undefined || e.asid === asid || e.asid === ASID_GLOBAL) this.remove(slot);
    }
  }

  removeWhere(pred: (e: IotlbEntry) => boolean): void {
    for (let i = 0; i < this.capacity; i++) {
      const e = this.slots[i];
      if (e && pred(e)) this.remove(i);
    }
  }

  private remove(slot: number): void {
    const e = this.slots[slot]!;
    this.byKey.delete(`${e.cb}/${e.size}/${e.key}`);
    this.slots[slot] = null;
    this.free.push(slot);
  }
}

const SIZES = [4096, 65536, 2 * 1024 * 1024, 1024 * 1024 * 1024];
// a few 4 KiB pages in two far-apart windows (one above 2^32, one near 2^48), so keys share buckets
const anyVa = fc.oneof(
  fc.integer({ min: 0, max: 63 }).map((p) => 0x8000_0000 + p * 4096),
  fc.integer({ min: 0, max: 63 }).map((p) => 2 ** 47 + 0x1234_5000 + p * 4096 + 8),
  fc.integer({ min: 0, max: 2 ** 48 - 1 }),
);
const anyCb = fc.integer({ min: 0, max: 3 });
const anyOp = fc.oneof(
  { weight: 6, arbitrary: fc.record({ op: fc.constant('insert' as const), cb: anyCb, va: anyVa, size: fc.constantFrom(...SIZES), asid: fc.constantFrom(1, 2, ASID_GLOBAL) }) },
  { weight: 2, arbitrary: fc.record({ op: fc.constant('tlbiva' as const), cb: anyCb, va: anyVa, asid: fc.option(fc.constantFrom(1, 2), { nil: undefined }) }) },
  { weight: 1, arbitrary: fc.record({ op: fc.constant('tlbiasid' as const), cb: anyCb, asid: fc.constantFrom(1, 2) }) },
  { weight: 1, arbitrary: fc.record({ op: fc.constant('tlbiall' as const), cb: anyCb }) },
);

describe('Iotlb', () => {
  it('caches, evicts and invalidates exactly like a slow model of the same policy (property)', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 12 }), fc.array(anyOp, { minLength: 1, maxLength: 80 }), fc.array(fc.tuple(anyCb, anyVa), { maxLength: 20 }), (capacity, ops, probes) => {
        const tlb = new Iotlb(capacity, 4);
        const model = new ModelTlb(capacity);
        let n = 0;
        for (const o of ops) {
          switch (o.op) {
            case 'insert': {
              const pa = 0x4000_0000 + n++ * o.size;
              tlb.insert(o.cb, o.asid, 0, o.va, o.size, pa, 5, 3);
              model.insert(o.cb, o.asid, 0, o.va, o.size, pa, 5, 3);
              break;
            }
            case 'tlbiva':
              tlb.invalidateVa(o.cb, o.va, o.asid);
              model.invalidateVa(o.cb, o.va, o.asid);
              break;
            case 'tlbiasid':
              tlb.invalidateAsid(o.cb, o.asid);
              model.removeWhere((e) => e.cb === o.cb && e.asid === o.asid);
              break;
            case 'tlbiall':
              tlb.invalidateContext(o.cb);
              model.removeWhere((e) => e.cb === o.cb);
              break;
          }
          expect(tlb.size).toBe(model.slots.filter((e) => e !== null).length);
        }
        expect(tlb.entries()).toEqual(model.slots.filter((e) => e !== null));
        expect(tlb.stats.evictions).toBe(model.evictions);
        // every cached entry is found again, from any address it covers
        for (const e of tlb.entries()) expect(tlb.lookup(e.cb, e.va + e.size - 1)).toEqual(model.lookup(e.cb, e.va + e.size - 1));
        for (const [cb, va] of probes) expect(tlb.lookup(cb, va)).toEqual(model.lookup(cb, va));
      }),
      { numRuns: 300 },
    );
  });

  it('finds nothing at addresses no entry can cover (negative, or beyond any input size)', () => {
    const tlb = new Iotlb(4, 1);
    tlb.insert(0, 1, 0, 0, 4096, 0x8000_0000, 5, 3);
    expect(tlb.lookup(0, 0x10)?.pa).toBe(0x8000_0000);
    expect(tlb.lookup(0, -4096)).toBeUndefined();
    expect(tlb.lookup(0, 2 ** 60)).toBeUndefined();
    expect(tlb.lookup(3, 0x10)).toBeUndefined();
  });
});
