/**
 * IOVA allocator benchmarks.
 *
 * - `iova.fast-pair`: `allocIovaFast` + `freeIovaFast` of one page through the per-CPU magazines
 *   (after the first pair, every allocation is served by the magazine).
 * - `iova.tree.<n>`: one tree-path `allocIova` (1 page, 64-bit limit) + one `__freeIova` with n
 *   live allocations. The freed range is picked pseudo-randomly among the live ones (a fixed LCG,
 *   so every run does the same work) and the new range takes its slot, so the tree stays at n
 *   ranges and the look-ups land all over it rather than on one hot edge.
 * - `iova.tree.1m-vs-1k`: the 1m figure over the 1k figure.
 */
import type { BenchContext } from '@dmasim/bench-harness';
import { IovaDomain, type Iova } from '../src/iova/index';

const LIMIT_64 = 2 ** 36 - 1; // pfn limit of a 48-bit IOVA space with 4 KiB pages

function treeWorkload(live: number): () => void {
  const iovad = new IovaDomain(4096, 1, { rcaches: false });
  const slots: Iova[] = [];
  for (let i = 0; i < live; i++) {
    const iova = iovad.allocIova(1, LIMIT_64, false);
    if (iova === null) throw new Error('bench set-up: allocation failed');
    slots.push(iova);
  }
  let seed = 12345;
  return () => {
    // LCG on doubles (Numerical Recipes constants modulo 2^32), exact in float arithmetic
    seed = (seed * 1664525 + 1013904223) % 4294967296;
    const slot = Math.floor((seed / 4294967296) * live);
    const victim = slots[slot]!;
    const fresh = iovad.allocIova(1, LIMIT_64, false);
    iovad.__freeIova(victim);
    slots[slot] = fresh!;
  };
}

export default async (ctx: BenchContext): Promise<void> => {
  {
    const iovad = new IovaDomain(4096, 1);
    const limit = 2 ** 20 - 1;
    await ctx.rate(
      'iova.fast-pair',
      () => {
        const pfn = iovad.allocIovaFast(1, limit, true);
        iovad.freeIovaFast(pfn, 1);
      },
      { unit: 'pairs/s', batch: 10_000, baseline: 'raw.loop', min: 5e6 },
    );
  }

  const figures = new Map<string, number>();
  for (const [name, live, max] of [
    ['1k', 1_000, undefined],
    ['10k', 10_000, undefined],
    ['100k', 100_000, 1000],
    ['1m', 1_000_000, undefined],
  ] as const) {
    const fn = treeWorkload(live);
    const r = await ctx.time(`iova.tree.${name}`, fn, {
      unit: 'ns',
      batch: 1000,
      baseline: 'raw.loop',
      timeMs: 500,
      ...(max === undefined ? {} : { max }),
    });
    figures.set(name, r.value);
  }
  const ratio = figures.get('1m')! / figures.get('1k')!;
  ctx.record({ id: 'iova.tree.1m-vs-1k', value: ratio, unit: 'ratio', better: 'lower', target: '<= 3', met: ratio <= 3 });
};
