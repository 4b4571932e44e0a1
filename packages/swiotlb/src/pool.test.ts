import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { IO_TLB_SEGSIZE, IO_TLB_SIZE } from './constants';
import { DEFAULT_REACH } from './device';
import type { SwiotlbDevice } from './device';
import { IoTlbPool } from './pool';

const dev: SwiotlbDevice = { name: 'dev', dma: { minAlignMask: 0 } };

/** What `list` must hold for a set of used slots: 0 when used, else the free run to the next used slot or the segment end. */
function expectedList(nslabs: number, used: readonly boolean[]): number[] {
  const out = new Array<number>(nslabs).fill(0);
  for (let i = nslabs - 1; i >= 0; i--) {
    if (used[i]) continue;
    const segEnd = i % IO_TLB_SEGSIZE === IO_TLB_SEGSIZE - 1 || i === nslabs - 1;
    out[i] = segEnd ? 1 : out[i + 1]! + 1;
  }
  return out;
}

describe('IoTlbPool slot list', () => {
  it('keeps every free slot counting its free run to the next used slot or segment end (property)', () => {
    const nslabs = 3 * IO_TLB_SEGSIZE + 40; // a short last segment too
    const op = fc.oneof(
      fc.record({ kind: fc.constant('map' as const), bytes: fc.integer({ min: 1, max: 40 * IO_TLB_SIZE }), start: fc.nat(nslabs - 1) }),
      fc.record({ kind: fc.constant('unmap' as const), pick: fc.nat() }),
    );
    fc.assert(
      fc.property(fc.array(op, { maxLength: 120 }), (ops) => {
        const pool = new IoTlbPool(0x100000, nslabs, 1, 'default');
        const used = new Array<boolean>(nslabs).fill(false);
        const live: { index: number; nslots: number }[] = [];
        for (const o of ops) {
          if (o.kind === 'map') {
            pool.areaIndex[0] = o.start;
            const index = pool.searchArea(dev, DEFAULT_REACH, 0, 0x4000_0000, o.bytes, 0);
            if (index < 0) continue;
            const nslots = Math.ceil(o.bytes / IO_TLB_SIZE);
            for (let i = index; i < index + nslots; i++) {
              expect(used[i]).toBe(false);
              used[i] = true;
            }
            expect(Math.floor(index / IO_TLB_SEGSIZE)).toBe(Math.floor((index + nslots - 1) / IO_TLB_SEGSIZE));
            pool.setOrig(index, 0, nslots, 0x4000_0000);
            live.push({ index, nslots });
          } else if (live.length > 0) {
            const [m] = live.splice(o.pick % live.length, 1);
            expect(pool.releaseSlots(dev, pool.slotAddr(m!.index))).toBe(m!.nslots);
            for (let i = m!.index; i < m!.index + m!.nslots; i++) used[i] = false;
          }
          expect(Array.from(pool.list)).toEqual(expectedList(nslabs, used));
        }
      }),
      { numRuns: 200 },
    );
  });
});
