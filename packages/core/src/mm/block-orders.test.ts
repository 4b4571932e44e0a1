import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { BlockOrders } from './block-orders';

const TOP = 10;

describe('BlockOrders', () => {
  it('answers as a Map from head pfn to order would, for top-order and smaller blocks alike (property)', () => {
    // heads on a few top-aligned pfns and their neighbours, so top and page tables share pfns
    const pfnArb = fc.oneof(fc.integer({ min: 0, max: 40 }).map((k) => k * 2 ** TOP), fc.integer({ min: 0, max: 50_000 }));
    const opArb = fc.oneof(
      fc.record({ kind: fc.constant('set' as const), pfn: pfnArb, order: fc.integer({ min: 0, max: TOP }) }),
      fc.record({ kind: fc.constant('delete' as const), pfn: pfnArb }),
    );
    fc.assert(
      fc.property(fc.array(opArb, { maxLength: 200 }), (ops) => {
        const orders = new BlockOrders(TOP);
        const model = new Map<number, number>();
        for (const op of ops) {
          if (op.kind === 'set') {
            orders.set(op.pfn, op.order);
            model.set(op.pfn, op.order);
          } else {
            expect(orders.delete(op.pfn)).toBe(model.delete(op.pfn));
          }
          expect(orders.get(op.pfn)).toBe(model.get(op.pfn));
          expect(orders.size).toBe(model.size);
        }
        for (const [pfn, order] of model) expect(orders.get(pfn)).toBe(order);
      }),
    );
  });

  it('knows nothing of fractional or negative pfns', () => {
    const orders = new BlockOrders(TOP);
    orders.set(1024, TOP);
    expect(orders.get(1024.5)).toBeUndefined();
    expect(orders.get(-1024)).toBeUndefined();
    expect(orders.delete(1024.5)).toBe(false);
    expect(orders.get(1024)).toBe(TOP);
  });
});
