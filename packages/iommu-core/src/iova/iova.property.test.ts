/**
 * Property tests of the IOVA allocator against a simple reference model: a sorted array of ranges.
 *
 * What the kernel guarantees, and what is checked:
 * - every allocation lies in [startPfn, limitPfn], has the asked size, is aligned when asked and
 *   overlaps nothing else in the tree;
 * - an allocation fails only when the reference finds no hole for it anywhere below the limit, or
 *   when the 32-bit fast-fail hint (max32AllocSize, modelled exactly) says so. The cached-node
 *   search is not a best-fit search (it prefers space below the cached node), but with its retry
 *   above the cached node it does not miss a hole;
 * - frees, finds and reservations keep the tree equal to the model.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { IovaDomain } from './index';
import { IovaTree } from './iova-tree';

interface Range {
  lo: number;
  hi: number;
}

const DMA32 = 2 ** 20;

function alignOf(size: number, aligned: boolean): number {
  if (!aligned) return 1;
  let a = 1;
  while (a < size) a *= 2;
  return a;
}

/** Whether some aligned [p, p+size-1] within [start, limit] overlaps no range. */
function hasHole(ranges: Range[], start: number, limit: number, size: number, align: number): boolean {
  const sorted = [...ranges].sort((a, b) => a.lo - b.lo);
  // free gaps between ranges, clipped to [start, limit]
  let cursor = start;
  const gaps: Range[] = [];
  for (const r of sorted) {
    if (r.lo > cursor) gaps.push({ lo: cursor, hi: r.lo - 1 });
    cursor = Math.max(cursor, r.hi + 1);
  }
  gaps.push({ lo: cursor, hi: Number.MAX_SAFE_INTEGER - 1 });
  for (const g of gaps) {
    const lo = Math.max(g.lo, start);
    const hi = Math.min(g.hi, limit);
    if (hi < lo) continue;
    const p = Math.floor((hi - size + 1) / align) * align;
    if (p >= lo && p + size - 1 <= hi) return true;
  }
  return false;
}

function overlapsAny(ranges: Range[], lo: number, hi: number): boolean {
  return ranges.some((r) => lo <= r.hi && hi >= r.lo);
}

function snapshot(d: IovaDomain): Range[] {
  return d.ranges().map((r) => ({ lo: r.pfnLo, hi: r.pfnHi }));
}

const sortRanges = (rs: Range[]): Range[] => [...rs].sort((a, b) => a.lo - b.lo);

type Op =
  | { kind: 'alloc'; size: number; limitIdx: number; aligned: boolean }
  | { kind: 'free'; pick: number; inner: number }
  | { kind: 'freeMissing'; pfn: number }
  | { kind: 'reserve'; lo: number; len: number };

const opArb: fc.Arbitrary<Op> = fc.oneof(
  { weight: 6, arbitrary: fc.record({ kind: fc.constant('alloc' as const), size: fc.integer({ min: 1, max: 40 }), limitIdx: fc.nat(3), aligned: fc.boolean() }) },
  { weight: 3, arbitrary: fc.record({ kind: fc.constant('free' as const), pick: fc.nat(), inner: fc.nat() }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('freeMissing' as const), pfn: fc.nat(400) }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('reserve' as const), lo: fc.nat(300), len: fc.integer({ min: 1, max: 30 }) }) },
);

describe('IovaDomain tree allocator vs a reference model', () => {
  it('allocates without overlap, in bounds, aligned, and fails only when it may', () => {
    fc.assert(
      fc.property(
        fc.constantFrom(1, 5, DMA32 - 200),
        fc.array(opArb, { maxLength: 80 }),
        (start, ops) => {
          const limits = [start + 40, start + 150, DMA32 - 1, DMA32 + 60];
          const d = new IovaDomain(4096, start, { rcaches: false });
          let model: Range[] = [];
          let max32 = DMA32;
          for (const op of ops) {
            if (op.kind === 'alloc') {
              const limit = limits[op.limitIdx]!;
              const align = alignOf(op.size, op.aligned);
              const r = d.allocIova(op.size, limit, op.aligned);
              const fastFail = limit + 1 <= DMA32 && op.size >= max32;
              if (r !== null) {
                expect(fastFail).toBe(false);
                expect(r.pfnLo).toBeGreaterThanOrEqual(start);
                expect(r.pfnHi).toBeLessThanOrEqual(limit);
                expect(r.pfnHi - r.pfnLo + 1).toBe(op.size);
                expect(r.pfnLo % align).toBe(0);
                expect(overlapsAny(model, r.pfnLo, r.pfnHi)).toBe(false);
                model.push({ lo: r.pfnLo, hi: r.pfnHi });
              } else {
                if (!fastFail) {
                  expect(hasHole(model, start, limit, op.size, align)).toBe(false);
                  max32 = op.size;
                }
              }
            } else if (op.kind === 'free') {
              if (model.length === 0) continue;
              const victim = model[op.pick % model.length]!;
              const pfn = victim.lo + (op.inner % (victim.hi - victim.lo + 1));
              expect(d.findIova(pfn)).toMatchObject({ pfnLo: victim.lo, pfnHi: victim.hi });
              d.freeIova(pfn);
              model = model.filter((m) => m !== victim);
              if (victim.lo < DMA32) max32 = DMA32;
            } else if (op.kind === 'freeMissing') {
              const pfn = start + op.pfn;
              if (overlapsAny(model, pfn, pfn)) continue;
              expect(d.findIova(pfn)).toBeNull();
              d.freeIova(pfn);
            } else {
              const lo = start + op.lo;
              const hi = lo + op.len - 1;
              const r = d.reserveIova(lo, hi)!;
              expect(r).not.toBeNull();
              const after = snapshot(d);
              // no overlaps, every old range lies inside a new one, and the request is covered
              const sorted = sortRanges(after);
              for (let i = 1; i < sorted.length; i++) expect(sorted[i]!.lo).toBeGreaterThan(sorted[i - 1]!.hi);
              for (const old of model) expect(after.some((n) => n.lo <= old.lo && old.hi <= n.hi)).toBe(true);
              for (let p = lo; p <= hi; p++) expect(overlapsAny(after, p, p)).toBe(true);
              // the range returned covers the top of the request
              expect(r.pfnLo <= hi && hi <= r.pfnHi).toBe(true);
              model = after;
            }
            expect(sortRanges(snapshot(d))).toEqual(sortRanges(model));
            expect(d.stats().nodes).toBe(model.length);
          }
        },
      ),
      { numRuns: 300 },
    );
  });

  it('always succeeds on a fresh domain when the range is large enough, top-down and contiguous', () => {
    fc.assert(
      fc.property(fc.array(fc.integer({ min: 1, max: 64 }), { minLength: 1, maxLength: 50 }), fc.nat(2 ** 40), (sizes, base) => {
        const d = new IovaDomain(4096, base);
        const limit = base + sizes.reduce((a, b) => a + b, 0) - 1;
        let top = limit;
        for (const s of sizes) {
          const r = d.allocIova(s, limit, false)!;
          expect(r).toMatchObject({ pfnLo: top - s + 1, pfnHi: top });
          top -= s;
        }
        expect(d.allocIova(1, limit, false)).toBeNull();
      }),
    );
  });

  it('reuses freed space: freeing everything and allocating again gives the same layout', () => {
    fc.assert(
      fc.property(fc.array(fc.tuple(fc.integer({ min: 1, max: 20 }), fc.boolean()), { minLength: 1, maxLength: 40 }), (reqs) => {
        const d = new IovaDomain(4096, 1);
        const first = reqs.map(([s, a]) => d.allocIova(s, DMA32 - 1, a)!);
        for (const r of [...first].reverse()) d.__freeIova(r);
        expect(d.stats().nodes).toBe(0);
        expect(d.cached32Node).toBe(d.anchor);
        const second = reqs.map(([s, a]) => d.allocIova(s, DMA32 - 1, a)!);
        expect(second.map((r) => [r.pfnLo, r.pfnHi])).toEqual(first.map((r) => [r.pfnLo, r.pfnHi]));
      }),
    );
  });
});

describe('IovaDomain range caches vs a reference model', () => {
  type FastOp = { kind: 'alloc'; size: number; limitIdx: number; cpu: number; flush: boolean } | { kind: 'free'; pick: number; cpu: number };
  const fastOpArb: fc.Arbitrary<FastOp> = fc.oneof(
    fc.record({ kind: fc.constant('alloc' as const), size: fc.integer({ min: 1, max: 40 }), limitIdx: fc.nat(2), cpu: fc.nat(2), flush: fc.boolean() }),
    fc.record({ kind: fc.constant('free' as const), pick: fc.nat(), cpu: fc.nat(2) }),
  );

  it('never hands out overlapping ranges and keeps tree = outstanding + cached', () => {
    fc.assert(
      fc.property(fc.array(fastOpArb, { maxLength: 120 }), (ops) => {
        // a small space straddling 4 GiB, so caches, exhaustion and both cached nodes all matter
        const start = DMA32 - 40;
        const limits = [DMA32 - 1, DMA32 + 30, DMA32 + 100];
        const d = new IovaDomain(4096, start, { cpus: 3 });
        let out: { pfn: number; size: number; asked: number }[] = [];
        for (const op of ops) {
          if (op.kind === 'alloc') {
            const limit = limits[op.limitIdx]!;
            const rounded = op.size < 32 ? alignOf(op.size, true) : op.size;
            const pfn = d.allocIovaFast(op.size, limit, op.flush, op.cpu);
            if (pfn !== 0) {
              expect(pfn).toBeGreaterThanOrEqual(start);
              expect(pfn + rounded - 1).toBeLessThanOrEqual(limit);
              expect(pfn % alignOf(rounded, true)).toBe(0);
              for (const o of out) expect(pfn <= o.pfn + o.size - 1 && pfn + rounded - 1 >= o.pfn).toBe(false);
              expect(d.findIova(pfn)).toMatchObject({ pfnLo: pfn, pfnHi: pfn + rounded - 1 });
              out.push({ pfn, size: rounded, asked: op.size });
            } else if (op.flush && limit + 1 > DMA32) {
              // after the flush only outstanding ranges remain in the tree: no hole may exist
              expect(d.stats().cached).toBe(0);
              const ranges = out.map((o) => ({ lo: o.pfn, hi: o.pfn + o.size - 1 }));
              expect(hasHole(ranges, start, limit, rounded, alignOf(rounded, true))).toBe(false);
            }
          } else {
            if (out.length === 0) continue;
            const victim = out[op.pick % out.length]!;
            d.freeIovaFast(victim.pfn, victim.asked, op.cpu);
            out = out.filter((o) => o !== victim);
          }
          const s = d.stats();
          expect(s.nodes).toBe(out.length + s.cached);
          expect(s.inUse).toBe(out.length);
        }
      }),
      { numRuns: 300 },
    );
  });
});

describe('IovaTree vs a sorted array', () => {
  it('keeps order, finds ceilings and predecessors, and stays consistent', () => {
    type TOp = { kind: 'ins' | 'del' | 'ceil' | 'lower'; key: number };
    const tOpArb = fc.record({ kind: fc.constantFrom<TOp['kind']>('ins', 'ins', 'del', 'ceil', 'lower'), key: fc.nat(3000) });
    fc.assert(
      fc.property(fc.array(tOpArb, { maxLength: 1500 }), (ops) => {
        const filler = { pfnLo: -1, pfnHi: -1 };
        const t = new IovaTree<Range & { pfnLo: number; pfnHi: number }>({ ...filler, lo: -1, hi: -1 });
        const ref = new Set<number>();
        for (const op of ops) {
          const k = op.key;
          if (op.kind === 'ins') {
            expect(t.insert({ pfnLo: k, pfnHi: k, lo: k, hi: k })).toBe(!ref.has(k));
            ref.add(k);
          } else if (op.kind === 'del') {
            const had = ref.delete(k);
            const removed = t.remove(k);
            expect(removed === null ? null : removed.pfnHi).toBe(had ? k : null);
            if (had) {
              const next = [...ref].filter((x) => x > k).sort((a, b) => a - b)[0];
              expect(t.lastSuccessor === null ? undefined : t.lastSuccessor.pfnHi).toBe(next);
            }
          } else if (op.kind === 'ceil') {
            const want = [...ref].filter((x) => x >= k).sort((a, b) => a - b)[0];
            const got = t.ceil(k);
            expect(got === null ? undefined : got.pfnHi).toBe(want);
          } else {
            const below = [...ref].filter((x) => x < k).sort((a, b) => b - a);
            const got = t.lower(k);
            expect(got === null ? undefined : got.pfnHi).toBe(below[0]);
            // walking the cursor down visits every smaller key in order
            if (below.length > 0) {
              const walked: number[] = [got!.pfnHi];
              for (let v = t.cursorPrev(); v !== null && walked.length < 5; v = t.cursorPrev()) walked.push(v.pfnHi);
              expect(walked).toEqual(below.slice(0, walked.length));
              expect(walked.length).toBe(Math.min(5, below.length));
            }
          }
        }
        t.check();
        expect(t.size).toBe(ref.size);
        const all: number[] = [];
        t.forEach((v) => all.push(v.pfnHi));
        expect(all).toEqual([...ref].sort((a, b) => a - b));
      }),
      { numRuns: 150 },
    );
  });
});

describe('IovaTree growth and shrinkage', () => {
  it('empties nodes, collapses the root and grows again', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 5000 }), fc.integer({ min: 1, max: 997 }), (n, stride) => {
        const t = new IovaTree<{ pfnLo: number; pfnHi: number }>({ pfnLo: -1, pfnHi: -1 });
        for (let i = 0; i < n; i++) t.insert({ pfnLo: i * 2, pfnHi: i * 2 });
        t.check();
        // delete in a scattered order (stride coprime with a prime modulus covers every index)
        const m = 5003;
        let removed = 0;
        for (let j = 0; j < m; j++) {
          const i = (j * stride) % m;
          if (i < n) {
            expect(t.remove(i * 2)).not.toBeNull();
            removed++;
            if (removed % 500 === 0) t.check();
          }
        }
        t.check();
        expect(t.size).toBe(0);
        expect(t.ceil(0)).toBeNull();
        expect(t.lower(10)).toBeNull();
        for (let i = n; i > 0; i--) t.insert({ pfnLo: i, pfnHi: i });
        t.check();
        expect(t.lower(n + 1)!.pfnHi).toBe(n);
        expect(t.ceil(0)!.pfnHi).toBe(1);
      }),
      { numRuns: 40 },
    );
  });
});
