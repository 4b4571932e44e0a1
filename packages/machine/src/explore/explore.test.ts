import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadBoardWithPlugins } from '../machine/run';
import { explore, inlineRunner, orderTester } from './explore';
import { exploreJson } from '../cli/explore-command';
import { workerPool } from './pool';

const SCENARIOS = resolve(import.meta.dirname, '../../../../examples/scenarios');

describe('probe-order exploration', () => {
  it('finds the 2015 arm64 ordering bug and explains it with "before" constraints', async () => {
    const { loaded, registry } = await loadBoardWithPlugins(join(SCENARIOS, 'arm64-2015-ordering.yaml'));
    const r = await explore(loaded, inlineRunner(loaded, registry), { orders: 'all', test: orderTester(loaded, registry) });
    expect(r.mode).toBe('exhaustive');
    expect(r.complete).toBe(true);
    expect(r.outcomes.length).toBeGreaterThan(1);
    const bypass = r.outcomes.find((o) => o.signature.includes('ohci=bound/direct'));
    expect(bypass).toBeDefined();
    expect(bypass!.explanationText).toMatch(/ohci before smmu_usb/);
    const attached = r.outcomes.find((o) => o.signature.includes('ohci=bound/iommu-dma'));
    expect(attached).toBeDefined();
    // orders are counted over the merged graph: every order of the four devices and the initcalls
    expect(r.outcomes.reduce((n, o) => n + o.count, 0)).toBe(r.orders);
    expect(r.runs).toBeLessThan(r.orders);
    expect(r.pruned).toBeGreaterThan(0);
  });

  it('the same board under linux-6.x has a single outcome: probe deferral removes the bug', async () => {
    const { loaded, registry } = await loadBoardWithPlugins(join(SCENARIOS, 'arm64-6x-ordering.yaml'));
    const r = await explore(loaded, inlineRunner(loaded, registry), { orders: 'all' });
    expect(r.outcomes).toHaveLength(1);
    expect(r.outcomes[0]!.signature).toMatch(/ohci=bound\/iommu-dma/);
  });

  it('which devices get context banks depends on order on the context-bank board', async () => {
    const { loaded, registry } = await loadBoardWithPlugins(join(SCENARIOS, 'context-banks-per-group.yaml'));
    const r = await explore(loaded, inlineRunner(loaded, registry), { orders: 8, seed: 3 });
    expect(r.mode).toBe('sample');
    expect(r.runs).toBe(8);
    expect(r.outcomes.length).toBeGreaterThan(1);
  });

  it('gives the same result whatever the number of workers', async () => {
    const { loaded, registry } = await loadBoardWithPlugins(join(SCENARIOS, 'arm64-2015-ordering.yaml'));
    const inline = await explore(loaded, inlineRunner(loaded, registry), { orders: 'all' });
    const pool = workerPool(loaded.file, 2);
    try {
      const parallel = await explore(loaded, pool.runner, { orders: 'all' });
      expect(JSON.stringify(exploreJson(parallel))).toBe(JSON.stringify(exploreJson(inline)));
    } finally {
      await pool.close();
    }
  });
});
