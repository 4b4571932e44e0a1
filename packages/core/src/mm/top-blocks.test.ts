import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { TopBlocks } from './top-blocks';

const BLOCK = 1024;

describe('TopBlocks', () => {
  it('gives blocks back oldest first, as a plain queue of pfns would (property)', () => {
    const opArb = fc.oneof(
      fc.record({ kind: fc.constant('push' as const), block: fc.integer({ min: 0, max: 300 }), n: fc.integer({ min: 1, max: 5 }) }),
      fc.record({ kind: fc.constant('shift' as const), times: fc.integer({ min: 1, max: 90 }) }),
    );
    fc.assert(
      fc.property(fc.array(opArb, { maxLength: 150 }), (ops) => {
        const q = new TopBlocks(BLOCK);
        const model: number[] = [];
        for (const op of ops) {
          if (op.kind === 'push') {
            q.push(op.block * BLOCK, op.n);
            for (let i = 0; i < op.n; i++) model.push((op.block + i) * BLOCK);
          } else {
            for (let i = 0; i < op.times; i++) expect(q.shift()).toBe(model.length > 0 ? model.shift() : -1);
          }
          expect(q.size).toBe(model.length);
        }
      }),
    );
  });
});
