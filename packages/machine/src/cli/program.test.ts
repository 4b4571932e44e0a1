import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadBoard } from '../board';
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

  it('seeds above 2^32 are runs of their own, not the seed of their low 32 bits', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'dmasim-seed-'));
    const board = join(dir, 'board.yaml');
    writeFileSync(board, 'extends: ./eight.yaml\nname: shuffled\nkernel: { probe: { order: shuffle } }\n');
    writeFileSync(join(dir, 'eight.yaml'), readFileSync('examples/scenarios/eight-masters.yaml', 'utf8'));
    const orderOf = async (seed: string): Promise<string> => {
      const trace = join(dir, `${seed}.trace.json`);
      expect((await cli('run', board, '--seed', seed, '--json', '--trace', trace)).code).toBe(0);
      const t = JSON.parse(readFileSync(trace, 'utf8')) as { decisions: { point: string; chosen: string[] }[] };
      return t.decisions.find((d) => d.point === 'device-add')!.chosen.join(' ');
    };
    expect(await orderOf('4294967297')).not.toBe(await orderOf('1'));
    expect(await orderOf('9007199254740991')).toBe(await orderOf('9007199254740991'));
  });

  it('an unwritable --trace path is a one-line error with exit status 1', async () => {
    const r = await cli('run', 'rpi4', '--trace', '/nonexistent-dir/run.trace.json');
    expect(r.code).toBe(1);
    expect(r.err).toBe('dmasim: /nonexistent-dir/run.trace.json: cannot write the trace: ENOENT: no such file or directory\n');
  });

  it('the board hash orders keys by code unit, whatever the locale', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'dmasim-hash-'));
    const board = join(dir, 'board.yaml');
    writeFileSync(board, 'extends: rpi4\nname: keys\ndevices:\n  - { name: hvs, properties: { b: 1, B: 2, _x: 3, a: 4 } }\n');
    const loaded = await loadBoard(board);
    // localeCompare would give _x, a, b, B (or another order in another locale)
    expect(loaded.source).toContain('"properties":{"B":2,"_x":3,"a":4,"b":1}');
  });

  it('replay --board re-runs the recorded order on a changed board and shows both outcomes', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'dmasim-other-'));
    const scenario = resolve('examples/scenarios/arm64-2015-ordering.yaml');
    writeFileSync(join(dir, 'bug.yaml'), `extends: ${scenario}\nname: bug\n`);
    writeFileSync(join(dir, 'fixed.yaml'), `extends: ${scenario}\nname: fixed\nkernel: { profile: linux-6.x, arch: generic, probe: { order: natural } }\n`);
    const trace = join(dir, 'bug.trace.json');
    const first = await cli('run', join(dir, 'bug.yaml'), '--json', '--trace', trace);
    expect(first.code).toBe(0);
    // the same board: the recorded order is followed everywhere and gives the same report
    const same = await cli('replay', trace, '--board', join(dir, 'bug.yaml'), '--json');
    const j = JSON.parse(same.out) as { changes: string[]; followed: number; recordedDecisions: number; recorded: unknown; other: unknown };
    expect(j.changes).toEqual([]);
    expect(j.followed).toBe(j.recordedDecisions);
    expect(JSON.stringify(j.other)).toBe(JSON.stringify(j.recorded));
    expect(JSON.stringify(j.recorded)).toBe(JSON.stringify(JSON.parse(first.out)));
    // the fixed profile: side by side, the bypass gone
    const fixed = await cli('replay', trace, '--board', join(dir, 'fixed.yaml'));
    expect(fixed.code).toBe(0);
    expect(fixed.out).toMatch(/^ {2}kernel\.profile: was "linux-4\.2", now "linux-6\.x"$/m);
    expect(fixed.out).toMatch(/^outcome +DEGRADED +OK$/m);
    expect(fixed.out).toMatch(/^ohci +bound direct no-domain +bound iommu-dma DMA domain \d+ cb \d+$/m);
    expect(fixed.out).toMatch(/^problems, on fixed \(0\):\n {2}\(none\)$/m);
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

  it('gives each outcome its problems and an exact explanation in the JSON', async () => {
    const r = await cli('explore', 'examples/scenarios/arm64-2015-ordering.yaml', '--json', '--workers', '1', '--quiet');
    expect(r.code).toBe(0);
    expect(r.err).toBe('');
    const j = JSON.parse(r.out) as { outcomes: { outcome: string; problems: { kind: string }[]; explanation: { exact: boolean; text: string; terms: unknown[][] }; example: { decisions: { decision: string; order: string[] }[] } }[] };
    const bypass = j.outcomes.find((o) => o.problems.some((p) => p.kind === 'iommu-bypass'))!;
    expect(bypass.outcome).toBe('degraded');
    expect(bypass.explanation.exact).toBe(true);
    expect(bypass.explanation.text).toBe('happens exactly when: ohci before smmu_usb and ehci before smmu_usb');
    expect(bypass.example.decisions.find((d) => d.decision === 'device-add')!.order).toHaveLength(4);
  });

  it('prints progress on stderr unless --quiet, and groups the example order by decision', async () => {
    const r = await cli('explore', 'examples/scenarios/arm64-2015-ordering.yaml', '--workers', '1');
    expect(r.code).toBe(0);
    expect(r.err).toMatch(/^explore: 27\/27 runs, \d+\.\d s, \d+ runs\/s$/m);
    expect(r.out).toMatch(/^ {6}device-add: ohci, ehci, smmu_pcie, smmu_usb$/m);
    expect(r.out).toMatch(/^ {4}iommu-bypass +ohci: DMA bypasses smmu_usb: firmware lists it, kernel attached no domain/m);
    // only the columns that differ between outcomes: the dma limit and coherence never do
    expect(r.out).toMatch(/^ {4}device +state +dma ops +domain +context bank$/m);
    expect(r.out).not.toMatch(/dma limit|coherent/);
  });

  it('refuses bad --orders, --workers and --seed values with exit status 1', async () => {
    for (const [flag, value, message] of [
      ['--orders', 'lots', /--orders must be a number of orders from 1 up, or "all"/],
      ['--orders', '0', /--orders must be a number of orders from 1 up/],
      ['--orders', '-3', /--orders must be a number of orders from 1 up/],
      ['--workers', '0', /--workers must be an integer from 1 to \d+/],
      ['--workers', '1000', /--workers must be an integer from 1 to \d+/],
      ['--seed', '9007199254740992', /--seed must be an integer from 0 to 9007199254740991/],
      ['--seed', '-1', /--seed must be an integer from 0 to 9007199254740991/],
    ] as const) {
      const r = await cli('explore', 'rpi4', flag, value, '--quiet');
      expect(r.code, `${flag} ${value}`).toBe(1);
      expect(r.err, `${flag} ${value}`).toMatch(message);
    }
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
