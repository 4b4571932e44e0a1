import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadBoardWithPlugins } from '../machine/run';
import { explore, inlineRunner } from './explore';
import { exploreJson } from '../cli/explore-command';
import { workerPool } from './pool';

const SCENARIOS = resolve(import.meta.dirname, '../../../../examples/scenarios');

async function exploreFile(file: string, orders: number | 'all' = 'all', seed?: number) {
  const { loaded, registry } = await loadBoardWithPlugins(file);
  return explore(loaded, inlineRunner(loaded, registry), { orders, ...(seed !== undefined ? { seed } : {}) });
}

describe('probe-order exploration', () => {
  it('finds the 2015 arm64 ordering bug, flags the bypass and says exactly when it happens', async () => {
    const r = await exploreFile(join(SCENARIOS, 'arm64-2015-ordering.yaml'));
    expect(r.mode).toBe('exhaustive');
    expect(r.complete).toBe(true);
    expect(r.outcomes).toHaveLength(3);
    const bypass = r.outcomes.find((o) => o.signature.includes('ohci=bound/direct'))!;
    expect(bypass.outcome).toBe('degraded');
    expect(bypass.problems.map((p) => `${p.kind}:${p.device}`)).toEqual(['iommu-bypass:ohci', 'iommu-bypass:ehci']);
    expect(bypass.explanation).toMatchObject({ exact: true, text: 'happens exactly when: ohci before smmu_usb and ehci before smmu_usb' });
    expect(bypass.explanation.terms).toEqual([
      [
        { decision: 'device-add', before: 'ohci', after: 'smmu_usb' },
        { decision: 'device-add', before: 'ehci', after: 'smmu_usb' },
      ],
    ]);
    const attached = r.outcomes.find((o) => o.signature.includes('ohci=bound/iommu-dma'))!;
    expect(attached.problems.map((p) => p.kind)).toEqual(['attach-failed', 'probe-failed', 'fault']);
    // smmu_pcie has no part in which USB master wins: it may not appear in any explanation
    for (const o of r.outcomes) expect(o.explanation.text).not.toMatch(/smmu_pcie|initcall/);
    // orders are counted over the merged graph: every order of the four devices and the initcalls
    expect(r.outcomes.reduce((n, o) => n + o.count, 0)).toBe(r.orders);
    expect(r.orders).toBe(192);
    expect(r.runs).toBeLessThan(r.orders);
    expect(r.pruned).toBeGreaterThan(0);
  });

  it('the same board under linux-6.x has a single outcome with no problems: probe deferral removes the bug', async () => {
    const r = await exploreFile(join(SCENARIOS, 'arm64-6x-ordering.yaml'));
    expect(r.outcomes).toHaveLength(1);
    expect(r.outcomes[0]!.signature).toMatch(/ohci=bound\/iommu-dma/);
    expect(r.outcomes[0]!.outcome).toBe('ok');
    expect(r.outcomes[0]!.explanation.text).toBe('happens exactly when: any order');
  });

  it('flags juno-r1 PCIe masters bypassing smmu_pcie in every outcome', async () => {
    const r = await exploreFile('juno-r1');
    for (const o of r.outcomes) {
      const bypassed = o.problems.filter((p) => p.kind === 'iommu-bypass').map((p) => p.device);
      expect(bypassed).toEqual(expect.arrayContaining(['lan', 'sata', 'slot0', 'slot1', 'slot2', 'slot3']));
      expect(o.outcome).not.toBe('ok');
    }
  });

  it('outcomes are told apart up to renaming: which master got context bank 0 is not an outcome', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'dmasim-explore-'));
    const file = join(dir, 'two-masters.yaml');
    writeFileSync(
      file,
      `name: two-masters
kernel: { arch: generic, profile: linux-6.x }
memory: [{ base: 0x80000000, size: 1GiB }]
iommus: [{ name: smmu0, compatible: "arm,mmu-401", base: 0x2b500000, contextBanks: 4, streamMatchRegisters: 8, irq: 40 }]
buses: [{ name: soc, type: platform }]
devices:
  - { name: a, compatible: generic-ehci, bus: soc, base: 0x7ff00000, iommus: [{ iommu: smmu0, streamIds: [0] }] }
  - { name: b, compatible: generic-ehci, bus: soc, base: 0x7ff10000, iommus: [{ iommu: smmu0, streamIds: [1] }] }
`,
    );
    const r = await exploreFile(file);
    expect(r.outcomes).toHaveLength(1);
    // sampled orders give both bank assignments, still one outcome
    const sampled = await exploreFile(file, 12, 1);
    expect(sampled.outcomes).toHaveLength(1);
    // the example keeps the concrete numbers
    expect(r.outcomes[0]!.example.devices.map((d) => d.contextBank).sort()).toEqual([0, 1]);
  });

  it('a sample explains from the orders it ran and says so', async () => {
    const r = await exploreFile(join(SCENARIOS, 'context-banks-per-group.yaml'), 8, 3);
    expect(r.mode).toBe('sample');
    expect(r.runs).toBe(8);
    expect(r.outcomes.length).toBeGreaterThan(1);
    for (const o of r.outcomes) {
      expect(o.explanation.exact).toBe(false);
      expect(o.explanation.text).toMatch(/^in the 8 sampled orders, happens when: /);
    }
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
