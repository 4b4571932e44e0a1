import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { describe, expect, it } from 'vitest';
import { BoardError } from '../board/errors';
import { stateSignature } from '../explore/signature';
import { Machine } from './machine';
import { loadBoardWithPlugins, runBoard } from './run';

const busModule = pathToFileURL(resolve(import.meta.dirname, '../../../bus/src/index.ts')).href;

/**
 * A third-party IOMMU model, written as a user would: a DMA fence with one CTRL register. Until its
 * driver writes CTRL = 1 it lets every transaction through; then it refuses all of them. Its one
 * board key, `mode`, says whether the driver fences (`block`) or leaves it open (`pass`).
 */
const FENCE_PLUGIN = `
import { FwNode } from ${JSON.stringify(busModule)};
export const iommuModels = [{
  name: 'acme-fence',
  compatibles: ['acme,dma-fence'],
  iommuCells: 0,
  boardKeys: [{ key: 'mode', description: 'block | pass', required: true }],
  checkBoardKeys(keys) {
    const out = [];
    for (const k of Object.keys(keys)) if (k !== 'mode') out.push({ key: k, message: 'unknown key for an acme,dma-fence' });
    if (keys.mode !== 'block' && keys.mode !== 'pass') out.push({ key: 'mode', message: 'expected block or pass', found: JSON.stringify(keys.mode) });
    return out;
  },
  createHardware(ctx, entry) {
    const state = { ctrl: 0 };
    const irq = ctx.takeIrq(entry.irq);
    ctx.core.mmio.map(entry.name, entry.base, 0x1000, { read32: () => state.ctrl, write32: (o, v) => { if (o === 0) state.ctrl = v; } });
    return {
      fwnode: new FwNode(entry.name, { compatible: [entry.compatible], reg: [entry.base, 0x1000], interrupts: [irq], '#iommu-cells': 0 }),
      hop: (master) => ({
        translate(addr, len, access) {
          if (state.ctrl === 0) return { ok: true, addr, length: len };
          master.fault({ id: null, iova: addr, access, kind: 'fenced' });
          return { ok: false, fault: 'iommu-fault', addr };
        },
      }),
    };
  },
  createDriver(ctx) {
    const fenced = new Set();
    return {
      initcalls: [{ level: 'device', name: 'acme_fence_init', run: () => ctx.bus.core.driverRegister({
        name: 'acme-fence', bus: ctx.bus.platform, ofMatchTable: [{ compatible: 'acme,dma-fence' }],
        probe(pdev) {
          const entry = ctx.entries.find((e) => e.name === pdev.name);
          if (entry.keys.mode === 'block') { ctx.core.mmio.writel(entry.base, 1); fenced.add(entry.name); }
          ctx.core.log.info('acme-fence ' + pdev.name + ': ' + entry.keys.mode);
          return 0;
        },
      }) }],
      domainOf: () => null,
      report: (entry) => ({ name: entry.name, fenced: fenced.has(entry.name), domains: [] }),
      stateKeys: () => [...fenced].map((n) => n + ':fenced'),
    };
  },
}];
`;

function boardWith(dir: string, mode: string, extra = ''): string {
  const file = join(dir, `fence-${mode}.yaml`);
  writeFileSync(
    file,
    `name: fence
plugins: [./fence.mjs]
kernel: { arch: generic, profile: linux-6.x }
memory: [{ base: 0x80000000, size: 1GiB }]
iommus:
  - { name: fence0, compatible: "acme,dma-fence", base: 0x7f000000, mode: ${mode}${extra} }
buses: [{ name: soc, type: platform }]
devices:
  - { name: ehci, compatible: generic-ehci, bus: soc, base: 0x7ff00000, iommus: [{ iommu: fence0 }] }
workloads:
  - { kind: dma-selftest, device: ehci, rounds: 1 }
`,
  );
  return file;
}

describe('third-party IOMMU plugins', () => {
  const dir = mkdtempSync(join(tmpdir(), 'dmasim-iommu-plugin-'));
  writeFileSync(join(dir, 'fence.mjs'), FENCE_PLUGIN);

  it('build the hardware, run their driver, translate the master’s DMA and report their instances', async () => {
    const open = (await runBoard(boardWith(dir, 'pass'))).report;
    expect(open.iommus).toEqual([{ name: 'fence0', fenced: false, domains: [] }]);
    expect(open.workloads[0]).toMatchObject({ ok: true });
    expect(open.faults).toEqual([]);
    expect(open.log.some((l) => l.includes('acme-fence fence0: pass'))).toBe(true);

    const shut = (await runBoard(boardWith(dir, 'block'))).report;
    expect(shut.iommus).toEqual([{ name: 'fence0', fenced: true, domains: [] }]);
    expect(shut.workloads[0]!.ok).toBe(false);
    expect(shut.faults.length).toBeGreaterThan(0);
    expect(shut.faults[0]).toMatchObject({ iommu: 'fence0', device: 'ehci', streamId: null, kind: 'fenced' });
  });

  it('validate the board keys of their model, naming file and path', async () => {
    const bad = boardWith(dir, 'sometimes', ', colour: red');
    const err = await loadBoardWithPlugins(bad).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(BoardError);
    const text = (err as BoardError).message;
    expect(text).toMatch(/fence-sometimes\.yaml:\d+:\d+: iommus\[0\]\.mode: expected block or pass/);
    expect(text).toMatch(/iommus\[0\]\.colour: unknown key for an acme,dma-fence/);
  });

  it('refuse ids in a master’s iommus entry when the model has no id cells', async () => {
    const file = boardWith(dir, 'pass');
    writeFileSync(file, (await import('node:fs')).readFileSync(file, 'utf8').replace('iommus: [{ iommu: fence0 }]', 'iommus: [{ iommu: fence0, streamIds: [3] }]'));
    const err = await loadBoardWithPlugins(file).catch((e: unknown) => e);
    expect((err as BoardError).message).toMatch(/devices\[0\]\.iommus\[0\]\.streamIds: a acme,dma-fence takes no ids/);
  });

  it('refuse a module whose iommuModels entry is not a model', async () => {
    writeFileSync(join(dir, 'broken.mjs'), 'export const iommuModels = [{ name: "x", compatibles: ["x,y"] }];\n');
    const file = join(dir, 'broken.yaml');
    writeFileSync(file, 'name: b\nplugins: [./broken.mjs]\nmemory: [{ base: 0, size: 1GiB }]\nbuses: [{ name: soc, type: platform }]\n');
    const err = await loadBoardWithPlugins(file).catch((e: unknown) => e);
    expect((err as BoardError).message).toMatch(/plugins\[0\]: iommuModels\[0\] is not an IommuModel: no iommuCells/);
  });

  it('contribute to the exploration state key, so fenced and open machines are told apart', async () => {
    const key = async (mode: string): Promise<string> => {
      const { loaded, registry } = await loadBoardWithPlugins(boardWith(dir, mode));
      const m = new Machine(loaded, { registry });
      m.boot();
      return stateSignature(m);
    };
    expect(await key('block')).toContain('|fence0:fenced|');
    expect(await key('pass')).not.toContain('fence0:fenced');
  });
});
