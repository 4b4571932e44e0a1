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
    expect(r.err).toMatch(/^no-such-board: no such board file or example board; examples: .*rpi4\ndmasim: 1 error, 0 warnings\n$/);
    const run = await cli('run', 'no-such-board');
    expect(run.err).toMatch(/^dmasim: no-such-board: no such board file/);
  });

  it('--set overrides board values on run, typed by the schema; several are allowed', async () => {
    const r = await cli('run', 'juno-r1', '--json', '--set', 'kernel.profile=linux-6.x', '--set', 'devices.sata.coherent=false', '--set', 'kernel.swiotlb.size=16MiB');
    expect(r.code).toBe(0);
    const report = JSON.parse(r.out) as { profile: string; devices: { name: string; coherent: boolean }[]; swiotlb: { totalSlots: number } };
    expect(report.profile).toBe('linux-6.x');
    expect(report.devices.find((d) => d.name === 'sata')?.coherent).toBe(false);
    expect(report.swiotlb.totalSlots).toBe(8192); // 16 MiB of 2 KiB slots
  });

  it('--set with a misspelt path names the option and suggests the key', async () => {
    const r = await cli('validate', 'juno-r1', '--set', 'kernel.profil=linux-6.x');
    expect(r.code).toBe(1);
    expect(r.err).toMatch(/^--set kernel\.profil=linux-6\.x: kernel\.profil: unknown key "profil"; did you mean "profile"\?/);
  });

  it('validate shows warnings and still exits 0; run --strict refuses the board', async () => {
    const v = await cli('validate', 'juno-r1', '--set', 'devices.lan.irq=116');
    expect(v.code).toBe(0);
    expect(v.err).toMatch(/^--set devices\.lan\.irq=116: devices\[2\]\.irq: warning: interrupt 116 is also used by ohci/);
    expect(v.out).toMatch(/valid board "juno-r1", 1 warning/);
    expect((await cli('run', 'juno-r1', '--set', 'devices.lan.irq=116')).code).toBe(0);
    const strict = await cli('run', 'juno-r1', '--strict', '--set', 'devices.lan.irq=116');
    expect(strict.code).toBe(1);
    expect(strict.out).toBe('');
    expect(strict.err).toMatch(/warning: interrupt 116[^\n]*\ndmasim: --strict: 1 warning; not running the board/);
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

  it('records --set overrides in the trace and applies them again on replay', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'dmasim-trace-'));
    const trace = join(dir, 'set.trace.json');
    const first = await cli('run', 'juno-r1', '--json', '--trace', trace, '--set', 'kernel.profile=linux-6.x');
    expect(first.code).toBe(0);
    expect((JSON.parse(readFileSync(trace, 'utf8')) as { board: { overrides?: string[] } }).board.overrides).toEqual(['kernel.profile=linux-6.x']);
    const replayed = await cli('replay', trace, '--json');
    expect(replayed.code).toBe(0);
    expect(replayed.out).toBe(first.out);
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

  it('explores with --set overrides', async () => {
    const r = await cli('explore', 'examples/scenarios/arm64-2015-ordering.yaml', '--json', '--workers', '1', '--set', 'kernel.profile=linux-6.x');
    expect(r.code).toBe(0);
    expect((JSON.parse(r.out) as { outcomes: unknown[] }).outcomes).toHaveLength(1); // the 6.x order-independence
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
