import { createCoreServices, GiB, hex, MiB, PAGE_SIZE, GFP_DMA } from '@dmasim/core';

/**
 * A short demonstration of the machine's foundations: real bytes in sparse memory, a zoned page
 * allocator, and a write-back CPU cache that makes a missing cache clean visible to a non-coherent
 * device. Printed by `pnpm start` until the example boards can boot.
 */
export function runCoreDemo(print: (line: string) => void): void {
  const core = createCoreServices({ memory: [{ base: 0, size: 4 * GiB }], pages: { dmaZoneEnd: 1 * GiB }, scheduler: { seed: 1 } });
  const { memory, cache, pages, log, sched } = core;

  const buf = pages.allocPages(0, GFP_DMA);
  if (buf === null) throw new Error('demo: no page');
  log.info(`demo: allocated a DMA-zone page at ${hex(buf)} (zone ${pages.zoneOf(buf)})`);

  const msg = new TextEncoder().encode('hello, device');
  cache.cpuWrite(buf, msg);
  sched.advance(1000);
  const seen = new Uint8Array(msg.length);
  cache.deviceRead(buf, seen, false);
  log.info(`demo: non-coherent device reads before clean: ${JSON.stringify(new TextDecoder().decode(seen))}`);
  cache.clean(buf, PAGE_SIZE);
  cache.deviceRead(buf, seen, false);
  log.info(`demo: non-coherent device reads after clean:  ${JSON.stringify(new TextDecoder().decode(seen))}`);
  pages.freePages(buf, 0);

  for (const z of pages.stats()) {
    if (z.managedPages > 0) log.info(`demo: zone ${z.name.padEnd(6)} ${hex(z.start)}-${hex(z.end - 1)} managed ${(z.managedPages * PAGE_SIZE) / MiB} MiB`);
  }
  log.info(`demo: 4 GiB of RAM declared, ${memory.touchedBytes / 1024} KiB of backing store touched`);
  for (const line of log.format()) print(line);
}
