import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { parseBoard, type LoadedBoard } from '../board/load';
import { PluginRegistry } from '../machine/plugins';
import { explore, inlineRunner } from './explore';
import { ordersOf, satisfies, type OrderChoices } from './explain';
import { runPath } from './run-path';

/** A small random board: one or two SMMUs, two or three masters behind them (or behind none). */
const boardArb = fc
  .record({
    profile: fc.constantFrom('linux-4.2', 'linux-6.x'),
    defaultDomain: fc.constantFrom('per-group', 'per-iommu'),
    smmus: fc.array(fc.integer({ min: 1, max: 2 }), { minLength: 1, maxLength: 2 }),
    masters: fc.array(fc.record({ smmu: fc.integer({ min: -1, max: 1 }), stream: fc.integer({ min: 0, max: 2 }), ohci: fc.boolean() }), { minLength: 2, maxLength: 3 }),
  })
  .filter((b) => b.smmus.length + b.masters.length <= 4);

function boardOf(b: { profile: string; defaultDomain: string; smmus: readonly number[]; masters: readonly { smmu: number; stream: number; ohci: boolean }[] }): LoadedBoard {
  return parseBoard(
    {
      name: 'random',
      kernel: { arch: b.profile === 'linux-4.2' ? 'arm64' : 'generic', profile: b.profile, defaultDomain: b.defaultDomain },
      memory: [{ base: 0x80000000, size: '1GiB' }],
      iommus: b.smmus.map((banks, i) => ({ name: `smmu${i}`, compatible: 'arm,mmu-401', base: 0x2b500000 + i * 0x100000, contextBanks: banks, streamMatchRegisters: 4 })),
      buses: [{ name: 'soc', type: 'platform' }],
      devices: b.masters.map((m, i) => ({
        name: `m${i}`,
        compatible: m.ohci ? 'generic-ohci' : 'generic-ehci',
        bus: 'soc',
        base: 0x7ff00000 + i * 0x10000,
        ...(m.smmu >= 0 && m.smmu < b.smmus.length ? { iommus: [{ iommu: `smmu${m.smmu}`, streamIds: [m.stream], shared: true }] } : {}),
      })),
    },
    'random.json',
  );
}

/** Every order of the board, run one by one without merging: the truth the explanations must match. */
function everyOrder(loaded: LoadedBoard, registry: PluginRegistry): { orders: OrderChoices; signature: string }[] {
  const out: { orders: OrderChoices; signature: string }[] = [];
  const pending: string[][] = [[]];
  while (pending.length > 0) {
    const prefix = pending.pop()!;
    const r = runPath(loaded, registry, prefix, new Set());
    const choices = [...prefix];
    for (const step of r.steps) {
      for (const alt of step.remaining) if (alt !== step.choice) pending.push([...choices, alt]);
      choices.push(step.choice);
    }
    if (r.end.kind !== 'outcome') throw new Error('a run without merging cannot be pruned');
    out.push({ orders: ordersOf(r.end.decisions), signature: r.end.signature });
  }
  return out;
}

describe('exact explanations (property)', () => {
  it('an order satisfies an outcome explanation exactly when it gives that outcome, and counts match', async () => {
    const registry = new PluginRegistry();
    let split = 0;
    await fc.assert(
      fc.asyncProperty(boardArb, async (b) => {
        const loaded = boardOf(b);
        const r = await explore(loaded, inlineRunner(loaded, registry), { orders: 'all' });
        const truth = everyOrder(loaded, registry);
        expect(r.complete).toBe(true);
        expect(r.orders).toBe(truth.length);
        for (const o of r.outcomes) {
          expect(o.explanation.exact).toBe(true);
          expect(o.count).toBe(truth.filter((t) => t.signature === o.signature).length);
          for (const t of truth) expect(satisfies(t.orders, o.explanation.terms), `${o.explanation.text} on ${JSON.stringify([...t.orders])}`).toBe(t.signature === o.signature);
        }
        // only items that can change the outcome appear: with one outcome, the explanation is empty
        if (r.outcomes.length === 1) expect(r.outcomes[0]!.explanation.terms).toEqual([[]]);
        else split++;
      }),
      { numRuns: 8, seed: 13 },
    );
    // the boards drawn include ones whose outcome depends on the order
    expect(split).toBeGreaterThan(1);
  }, 120_000);

  it('in a sample, the explanation holds on exactly the sampled orders with that outcome', async () => {
    const registry = new PluginRegistry();
    await fc.assert(
      fc.asyncProperty(boardArb, fc.integer({ min: 1, max: 1000 }), async (b, seed) => {
        const loaded = boardOf(b);
        const runs = (await Promise.all(Array.from({ length: 12 }, (_, i) => inlineRunner(loaded, registry)([{ kind: 'sample', seed: seed + i }])))).flat();
        const r = await explore(loaded, inlineRunner(loaded, registry), { orders: 12, seed });
        for (const o of r.outcomes) {
          expect(o.explanation.exact).toBe(false);
          for (const run of runs) {
            if (run.kind !== 'sample') continue;
            expect(satisfies(ordersOf(run.decisions), o.explanation.terms)).toBe(run.signature === o.signature);
          }
        }
      }),
      { numRuns: 6, seed: 7 },
    );
  }, 120_000);
});
