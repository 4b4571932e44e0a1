/** Small fixtures shared by the tests: a 4 GiB machine with a 1 GiB ZONE_DMA, and devices. */
import { GiB, createCoreServices } from '@dmasim/core/standalone';
import type { CoreServices } from '@dmasim/core/standalone';
import type { SwiotlbDeviceWithLimit } from './device';
import { Swiotlb } from './swiotlb';
import type { SwiotlbOptions } from './swiotlb';

export function machine(options: SwiotlbOptions = {}, memBytes = 4 * GiB): { core: CoreServices; swiotlb: Swiotlb } {
  const core = createCoreServices({ memory: [{ base: 0, size: memBytes }], pages: { dmaZoneEnd: GiB } });
  const swiotlb = new Swiotlb({ memory: core.memory, pages: core.pages, log: core.log, cache: core.cache }, options);
  return { core, swiotlb };
}

/** The Raspberry Pi 4 display: reaches the first GiB only (its dma-ranges window). */
export function vc4(minAlignMask = 0): SwiotlbDeviceWithLimit {
  return { name: 'gpu', driverName: 'vc4-drm', dma: { minAlignMask }, dmaPhysLimit: GiB - 1 };
}

export function pattern(len: number, seed: number): Uint8Array {
  const out = new Uint8Array(len);
  let x = seed >>> 0 || 1;
  for (let i = 0; i < len; i++) {
    x = (Math.imul(x, 1103515245) + 12345) >>> 0;
    out[i] = x >>> 24;
  }
  return out;
}

export function lines(core: CoreServices): string[] {
  return core.log.lines.map((l) => l.text);
}
