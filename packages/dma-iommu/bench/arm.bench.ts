import type { BenchContext } from '@dmasim/bench-harness';
import { KiB, MiB, PAGE_SIZE } from '@dmasim/core';
import { DMA_MAPPING_ERROR } from '@dmasim/dma-mapping';
import { armIommuCreateMapping, type ArmMappingOptions, type DmaIommuMapping } from '../src/arm/index';
import { armRig } from '../src/arm/test-rig';

const LIVE = 10_000;

/** A mapping with 10,000 live single-page allocations, one of them freed so the pair has a hole to reuse. */
function mappingWithLive(size: number, options: ArmMappingOptions): DmaIommuMapping {
  const r = armRig(64 * MiB);
  const m = armIommuCreateMapping(r.env, r.bus, 0x80000000, size, options);
  if (typeof m === 'number') throw new Error(`arm mapping: ${m}`);
  for (let i = 0; i < LIVE; i++) if (m.allocIova(PAGE_SIZE) === DMA_MAPPING_ERROR) throw new Error('arm mapping full');
  return m;
}

export default async (ctx: BenchContext): Promise<void> => {
  // Calxeda sizes: 512 KiB ranges grown up to 128 MiB; 10,000 live pages span 79 ranges
  const seed = mappingWithLive(512 * KiB, { growSize: 512 * KiB, maxSize: 128 * MiB });
  await ctx.rate(
    'arm.bitmap.pair',
    () => {
      const iova = seed.allocIova(PAGE_SIZE);
      seed.freeIova(iova, PAGE_SIZE);
    },
    { unit: 'pairs/s', batch: 1000, min: 1e6, baseline: 'raw.loop' },
  );
  // the reviewer's form: one bitmap of a page of bits covers 128 MiB
  const simple = mappingWithLive(128 * MiB, { variant: 'simple' });
  await ctx.rate(
    'arm.bitmap.pair.simple',
    () => {
      const iova = simple.allocIova(PAGE_SIZE);
      simple.freeIova(iova, PAGE_SIZE);
    },
    { unit: 'pairs/s', batch: 1000, min: 1e6, baseline: 'raw.loop' },
  );
};
