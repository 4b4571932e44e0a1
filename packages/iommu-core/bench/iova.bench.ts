/**
 * IOVA allocator benchmarks.
 *
 * - `iova.fast-pair`: `allocIovaFast` + `freeIovaFast` of one page through the per-CPU magazines
 *   (after the first pair, every allocation is served by the magazine).
 * - `iova.tree.<n>`: one tree-path `allocIova` (1 page, 64-bit limit) + `__freeIova` of the same
 *   range (the map/unmap pattern of streaming DMA) with n live one-page allocations in the tree.
 *   Not measured here: freeing a range far below the cached node and allocating again makes the
 *   kernel's algorithm walk node by node down to the hole (O(n) steps), in dmasim as in Linux.
 * - `iova.tree.1m-vs-1k`: the 1m figure over the 1k figure.
 */
import type { BenchContext } from '@dmasim/bench-harness';
import { IovaDomain } from '../src/iova/index';

const LIMIT_64 = 2 ** 36 - 1; // pfn limit of a 48-bit IOVA space with 4 KiB pages

function treeWorkload(live: number): () => void {
  const iovad = new IovaDomain(4096, 1, { rcaches: false });
  for (let i = 0; i < live; i++) {
    if (iovad.allocIova(1, LIMIT_64, false) === null) throw new Error('bench set-up: allocation failed');
  }
  return () => {
    const iova = iovad.allocIova(1, LIMIT_64, false);
    iovad.__freeIova(iova!);
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
