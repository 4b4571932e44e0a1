import { GiB, PageAllocator } from '@dmasim/core';
const pages = new PageAllocator([{ base: 0, size: 4 * GiB }], { dmaZoneEnd: 1 * GiB });
for (let i = 0; i < 1000; i++) pages.allocPages(i % 3);
for (let rep = 0; rep < 5; rep++) {
  const t0 = performance.now();
  const N = 2_000_000;
  for (let i = 0; i < N; i++) { const a = pages.allocPages(0)!; pages.freePages(a, 0); }
  const dt = performance.now() - t0;
  console.log((N / dt * 1000 / 1e6).toFixed(2), 'M pairs/s');
}
