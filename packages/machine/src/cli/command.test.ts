/**
 * The `dmasim` command as a user's shell runs it: its own process, the user's working directory,
 * stdout that a JSON consumer reads whole.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { describe, expect, it } from 'vitest';

const main = resolve(import.meta.dirname, 'main.ts');
// tsx as the repository root has it, whatever directory the command runs in.
const tsx = pathToFileURL(resolve(import.meta.dirname, '../../../../node_modules/tsx/dist/loader.mjs')).href;
const version = (JSON.parse(readFileSync(resolve(import.meta.dirname, '../../package.json'), 'utf8')) as { version: string }).version;

function dmasim(cwd: string, ...argv: string[]): { status: number | null; stdout: string; stderr: string } {
  // The sources through tsx (tests need no build); the bin runs the same main from dist/.
  const r = spawnSync(process.execPath, ['--conditions=source', '--import', tsx, main, ...argv], { cwd, encoding: 'utf8', env: { ...process.env, npm_lifecycle_event: '' } });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

describe('the dmasim command', () => {
  it('--version prints the package version alone', () => {
    const r = dmasim(tmpdir(), '--version');
    expect(r).toMatchObject({ status: 0, stdout: `${version}\n` });
  });

  it('--help shows examples and the exit status', () => {
    const r = dmasim(tmpdir(), '--help');
    expect(r.status).toBe(0);
    expect(r.stdout).toMatch(/Examples:\n {2}dmasim boards/);
    expect(r.stdout).toMatch(/Exit status:\n {2}0 {2}the run completed.*\n {2}1 {2}the board or the arguments are invalid/);
  });

  it('resolves a board path against the working directory and prints nothing but JSON', () => {
    const dir = mkdtempSync(join(tmpdir(), 'dmasim-cwd-'));
    writeFileSync(join(dir, 'tiny.yaml'), 'name: tiny\nmemory: [{ base: 0, size: 1GiB }]\nbuses: [{ name: soc, type: platform }]\n');
    const r = dmasim(dir, 'run', 'tiny.yaml', '--json');
    expect(r.status).toBe(0);
    expect((JSON.parse(r.stdout) as { board: string }).board).toBe('tiny');
    const missing = dmasim(tmpdir(), 'run', 'tiny.yaml');
    expect(missing.status).toBe(1);
    expect(missing.stderr).toMatch(/^dmasim: tiny\.yaml: no such board file/);
  });
});
