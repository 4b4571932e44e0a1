import { PAGE_SIZE } from '@dmasim/core';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { SgTable, forEachSgDma, forEachSgtableSg, sgAllocTableFromPages, sgPhys } from './sg-table';

describe('sgAllocTableFromPages', () => {
  it('merges physically contiguous pages and splits at a gap', () => {
    const sgt = new SgTable();
    const pages = [0x10000, 0x11000, 0x12000, 0x40000, 0x41000];
    expect(sgAllocTableFromPages(sgt, pages, 0x100, 5 * PAGE_SIZE - 0x200)).toBe(0);
    expect(sgt.origNents).toBe(2);
    expect(sgt.sgl[0]).toMatchObject({ pagePhys: 0x10000, offset: 0x100, length: 3 * PAGE_SIZE - 0x100 });
    expect(sgt.sgl[1]).toMatchObject({ pagePhys: 0x40000, offset: 0, length: 2 * PAGE_SIZE - 0x100 });
  });

  it('honours the maximum segment size', () => {
    const sgt = new SgTable();
    const pages = Array.from({ length: 8 }, (_, i) => 0x100000 + i * PAGE_SIZE);
    expect(sgAllocTableFromPages(sgt, pages, 0, 8 * PAGE_SIZE, 3 * PAGE_SIZE)).toBe(0);
    expect([...forEachSgtableSg(sgt)].map(([sg]) => sg.length)).toEqual([3 * PAGE_SIZE, 3 * PAGE_SIZE, 2 * PAGE_SIZE]);
  });

  it('rejects bad arguments as the kernel does', () => {
    const sgt = new SgTable();
    expect(sgAllocTableFromPages(sgt, [], 0, 10)).toBe(-22);
    expect(sgAllocTableFromPages(sgt, [0x1000], 0, 2 * PAGE_SIZE)).toBe(-22);
    expect(sgAllocTableFromPages(sgt, [0x1000], 0, 100, 512)).toBe(-22);
  });

  it('iterates CPU entries by orig_nents and DMA entries by nents', () => {
    const sgt = new SgTable();
    sgAllocTableFromPages(sgt, [0x1000, 0x5000, 0x9000], 0, 3 * PAGE_SIZE);
    sgt.nents = 1;
    expect([...forEachSgtableSg(sgt)]).toHaveLength(3);
    expect([...forEachSgDma(sgt)]).toHaveLength(1);
  });

  it('property: total length preserved, no segment longer than the maximum, bytes in order', () => {
    fc.assert(
      fc.property(
        fc.array(fc.boolean(), { minLength: 1, maxLength: 40 }),
        fc.integer({ min: 0, max: PAGE_SIZE - 1 }),
        fc.integer({ min: 1, max: 16 }),
        fc.integer({ min: 1, max: 40 * PAGE_SIZE }),
        (contiguousWithPrev, offset, maxPages, wanted) => {
          // build pages: each either follows the previous one physically or jumps elsewhere
          const pages: number[] = [];
          let next = 0x100000;
          for (const c of contiguousWithPrev) {
            if (!c) next += 7 * PAGE_SIZE;
            pages.push(next);
            next += PAGE_SIZE;
          }
          const size = Math.min(wanted, pages.length * PAGE_SIZE - offset);
          fc.pre(size > 0);
          const maxSeg = maxPages * PAGE_SIZE;
          const sgt = new SgTable();
          expect(sgAllocTableFromPages(sgt, pages, offset, size, maxSeg)).toBe(0);
          let total = 0;
          // every byte i of the buffer is at pages[floor((offset+i)/PAGE)] + (offset+i)%PAGE
          for (const [sg] of forEachSgtableSg(sgt)) {
            expect(sg.length).toBeGreaterThan(0);
            expect(sg.length).toBeLessThanOrEqual(maxSeg);
            const first = offset + total;
            expect(sgPhys(sg)).toBe(pages[Math.floor(first / PAGE_SIZE)]! + (first % PAGE_SIZE));
            const last = offset + total + sg.length - 1;
            expect(sgPhys(sg) + sg.length - 1).toBe(pages[Math.floor(last / PAGE_SIZE)]! + (last % PAGE_SIZE));
            total += sg.length;
          }
          expect(total).toBe(size);
        },
      ),
      { numRuns: 300 },
    );
  });
});
