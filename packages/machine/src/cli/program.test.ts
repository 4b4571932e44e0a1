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
