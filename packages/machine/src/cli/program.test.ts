import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { buildProgram } from './program';

async function cli(...argv: string[]): Promise<{ code: number; out: string; err: string }> {
  let out = '';
  let err = '';
  const code = await buildProgram({ out: (s) => (out += s), err: (s) => (err += s) }).run(argv);
  return { code, out, err };
}

describe('dmasim CLI', () => {
  it('lists the example boards', async () => {
    const r = await cli('boards');
    expect(r.code).toBe(0);
    expect(r.out).toMatch(/^rpi4\s+Raspberry Pi 4/m);
    expect(r.out).toMatch(/^calxeda-ecx2000\s+/m);
  });

  it('validates an example board by name', async () => {
    const r = await cli('validate', 'juno-r1');
    expect(r.code).toBe(0);
    expect(r.out).toMatch(/juno-r1\.yaml: valid board "juno-r1"/);
  });

  it('exits 1 with the reason on stderr for a missing board', async () => {
    const r = await cli('validate', 'no-such-board');
    expect(r.code).toBe(1);
    expect(r.err).toMatch(/^dmasim: no-such-board: no such board file or example board; examples: .*rpi4/);
  });

  it('exits 1 on an unknown command or flag', async () => {
    expect((await cli('frobnicate')).code).toBe(1);
    expect((await cli('validate', 'rpi4', '--bogus')).code).toBe(1);
  });
});

describe('traces and replay', () => {
  it('replays a recorded run byte for byte and refuses a trace whose board changed', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'dmasim-trace-'));
    const board = join(dir, 'board.yaml');
    writeFileSync(board, 'extends: juno-r1\nname: traced\nkernel: { probe: { order: shuffle, seed: 5 } }\n');
    const trace = join(dir, 'run.trace.json');
    const first = await cli('run', board, '--json', '--trace', trace);
    expect(first.code).toBe(0);
    const recorded = JSON.parse(readFileSync(trace, 'utf8')) as { decisions: unknown[]; board: { hash: string } };
    expect(recorded.decisions.length).toBeGreaterThan(3);
    const replayed = await cli('replay', trace, '--json');
    expect(replayed.code).toBe(0);
    expect(replayed.out).toBe(first.out);

    writeFileSync(board, 'extends: juno-r1\nname: traced\nkernel: { probe: { order: shuffle, seed: 5 }, defaultDomain: per-iommu }\n');
    const refused = await cli('replay', trace);
    expect(refused.code).toBe(1);
    expect(refused.err).toMatch(/changed since the trace was recorded:\n {2}kernel\.defaultDomain: was "per-group", now "per-iommu"/);
  });

  it('refuses a file that is not a trace', async () => {
    const r = await cli('replay', 'package.json');
    expect(r.code).toBe(1);
    expect(r.err).toMatch(/not a dmasim trace/);
  });
});

describe('explore command', () => {
  it('prints the JSON contract: orders, outcomes with count and an example order', async () => {
    const r = await cli('explore', 'examples/scenarios/arm64-6x-ordering.yaml', '--json', '--workers', '1');
    expect(r.code).toBe(0);
    const j = JSON.parse(r.out) as { board: string; orders: number; outcomes: { signature: string; count: number; example: { seed: number; order: string[] } }[] };
    expect(j.board).toBe('arm64-6x-ordering');
    expect(j.outcomes).toHaveLength(1);
    expect(j.outcomes[0]!.count).toBe(j.orders);
    expect(j.outcomes[0]!.example.order.length).toBeGreaterThan(0);
  });

  it('refuses a bad --orders value', async () => {
    const r = await cli('explore', 'rpi4', '--orders', 'lots');
    expect(r.code).toBe(1);
    expect(r.err).toMatch(/--orders must be a number or "all"/);
  });
});

describe('third-party plugins', () => {
  it('loads device models from the modules a board lists and validates against them', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'dmasim-plugin-'));
    writeFileSync(
      join(dir, 'acme.mjs'),
      `export const deviceModels = [{
        name: 'acme-blaster', compatibles: ['acme,dma-blaster'], workloads: [],
        createHardware(ctx) { return { name: ctx.name, mmioSize: 0x1000, destroy() {} }; },
        drivers() { return []; },
      }];\n`,
    );
    const board = 'name: acme\nplugins: [./acme.mjs]\nmemory: [{ base: 0, size: 1GiB }]\nbuses: [{ name: soc, type: platform }]\ndevices:\n  - { name: blaster, compatible: "acme,dma-blaster", bus: soc, base: 0x50000000 }\n';
    writeFileSync(join(dir, 'acme.yaml'), board);
    const r = await cli('run', join(dir, 'acme.yaml'), '--json');
    expect(r.code).toBe(0);
    const report = JSON.parse(r.out) as { devices: { name: string; state: string }[] };
    expect(report.devices).toEqual([expect.objectContaining({ name: 'blaster', state: 'no-driver' })]);
    writeFileSync(join(dir, 'bare.yaml'), board.replace('plugins: [./acme.mjs]\n', ''));
    const refused = await cli('validate', join(dir, 'bare.yaml'));
    expect(refused.code).toBe(1);
    expect(refused.err).toMatch(/devices\[0\]\.compatible: unknown device model/);
  });
});
