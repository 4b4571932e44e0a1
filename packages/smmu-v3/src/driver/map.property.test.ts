import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { GFP_KERNEL } from '@dmasim/core';
import { IOMMU_READ, IOMMU_WRITE, iommuMap, iommuUnmap } from '@dmasim/iommu-core';
import { makeV3Rig } from './test-setup';

const BASE = 0x10000000;
const PAGES = 64;

type Op = { kind: 'map'; page: number; count: number; write: boolean } | { kind: 'unmap'; page: number; count: number } | { kind: 'dma'; page: number; write: boolean };

const op: fc.Arbitrary<Op> = fc.oneof(
  fc.record({ kind: fc.constant('map' as const), page: fc.nat(PAGES - 1), count: fc.integer({ min: 1, max: 8 }), write: fc.boolean() }),
  fc.record({ kind: fc.constant('unmap' as const), page: fc.nat(PAGES - 1), count: fc.integer({ min: 1, max: 8 }) }),
  fc.record({ kind: fc.constant('dma' as const), page: fc.nat(PAGES - 1), write: fc.boolean() }),
);

describe('arm-smmu-v3 map/unmap against a model', () => {
  it('the hardware translates exactly what the model says is mapped, after every strict unmap', () => {
    const r = makeV3Rig();
    const dev = r.master('sata', [0x20]);
    const domain = r.iommu.iommuGetDmaDomain(dev)!;
    const phys = Array.from({ length: PAGES }, () => r.core.pages.allocPages(0, GFP_KERNEL)!);
    fc.assert(
      fc.property(fc.array(op, { maxLength: 40 }), (ops) => {
        // start each run from an empty domain (an unmap stops at a hole, so page by page)
        for (let p = 0; p < PAGES; p++) iommuUnmap(domain, BASE + p * 4096, 4096);
        const model = new Map<number, { phys: number; write: boolean }>();
        for (const o of ops) {
          const count = o.kind === 'dma' ? 1 : Math.min(o.count, PAGES - o.page);
          if (o.kind === 'map') {
            // the kernel maps only holes; map the first hole run of the range
            let p = o.page;
            while (p < o.page + count && !model.has(p)) p++;
            const n = p - o.page;
            if (n === 0) continue;
            const contiguous = phys[o.page]!;
            expect(iommuMap(domain, BASE + o.page * 4096, contiguous, n * 4096, IOMMU_READ | (o.write ? IOMMU_WRITE : 0))).toBe(0);
            for (let i = 0; i < n; i++) model.set(o.page + i, { phys: contiguous + i * 4096, write: o.write });
          } else if (o.kind === 'unmap') {
            // unmap only whole mapped runs from the start (a hole ends the kernel's unmap)
            let n = 0;
            while (n < count && model.has(o.page + n)) n++;
            if (n === 0) continue;
            expect(iommuUnmap(domain, BASE + o.page * 4096, n * 4096)).toBe(n * 4096);
            for (let i = 0; i < n; i++) model.delete(o.page + i);
          } else {
            const t = r.hw.translate(0x20, BASE + o.page * 4096 + 8, o.write ? 'write' : 'read');
            const m = model.get(o.page);
            if (m === undefined || (o.write && !m.write)) expect(t.ok).toBe(false);
            else expect(t).toEqual({ ok: true, phys: m.phys + 8, length: 4096 - 8 });
          }
        }
      }),
      { numRuns: 60, seed: 17 },
    );
  });
});
