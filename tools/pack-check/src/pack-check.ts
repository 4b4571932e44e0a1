/**
 * What a user does with the packages, outside the workspace: pack every package (`pnpm pack` turns
 * `workspace:*` into versions and applies publishConfig), `npm install` the tarballs into a scratch
 * project, run each package README's example with plain `node` and compare what it prints with the
 * README's "Output" block, run `npx dmasim run rpi4 --json` and check the report, and type-check
 * the examples and a consumer of the standalone entry points with NodeNext, strict and
 * exactOptionalPropertyTypes. Exit status 1 with one line per problem.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import ts from 'typescript';
import { REPO_ROOT, STANDALONE_ENTRIES, publishedPackages } from './workspace';
import { readmeExample } from './readme';

const PNPM = ['-y', 'pnpm@10.34.8'];
const problems: string[] = [];
const say = (s: string): void => void process.stderr.write(`pack-check: ${s}\n`);

const scratch = mkdtempSync(join(tmpdir(), 'dmasim-pack-check-'));
const tarballs = join(scratch, 'tarballs');
mkdirSync(tarballs);
const keep = process.argv.includes('--keep');

try {
  say(`building and packing into ${tarballs}`);
  execFileSync('npx', [...PNPM, 'build'], { cwd: REPO_ROOT, stdio: ['ignore', 'ignore', 'inherit'] });
  const pkgs = publishedPackages();
  const deps: Record<string, string> = {};
  for (const p of pkgs) {
    execFileSync('npx', [...PNPM, 'pack', '--pack-destination', tarballs], { cwd: p.path, stdio: ['ignore', 'ignore', 'inherit'] });
  }
  for (const f of readdirSync(tarballs)) {
    const pkg = pkgs.find((p) => f === `${p.manifest.name.slice(1).replace('/', '-')}-${p.manifest.version}.tgz`);
    if (pkg !== undefined) deps[pkg.manifest.name] = `file:${join(tarballs, f)}`;
  }
  for (const p of pkgs) if (deps[p.manifest.name] === undefined) problems.push(`${p.manifest.name}: pnpm pack made no tarball`);

  const app = join(scratch, 'app');
  mkdirSync(app);
  const tsVersion = (JSON.parse(readFileSync(join(REPO_ROOT, 'node_modules/typescript/package.json'), 'utf8')) as { version: string }).version;
  writeFileSync(join(app, 'package.json'), `${JSON.stringify({ name: 'dmasim-user', private: true, type: 'module', dependencies: deps, devDependencies: { typescript: tsVersion, '@types/node': '^20.19.0' } }, null, 2)}\n`);
  say('npm install of the tarballs');
  execFileSync('npm', ['install', '--no-audit', '--no-fund', '--loglevel=error'], { cwd: app, stdio: ['ignore', 'ignore', 'inherit'] });

  const run = (file: string): { status: number | null; out: string; err: string } => {
    const r = spawnSync(process.execPath, [file], { cwd: app, encoding: 'utf8' });
    return { status: r.status, out: r.stdout, err: r.stderr };
  };

  // Each README's example, compiled to JS (types stripped, nothing else) and run by plain node.
  const checked: string[] = [];
  for (const p of pkgs) {
    const ex = readmeExample(readFileSync(join(p.path, 'README.md'), 'utf8'));
    if (ex === undefined) {
      say(`${p.manifest.name}: README has no \`\`\`ts example followed by an Output block; not run`);
      continue;
    }
    const base = `readme-${p.dir}`;
    writeFileSync(join(app, `${base}.ts`), ex.code);
    writeFileSync(join(app, `${base}.mjs`), ts.transpileModule(ex.code, { compilerOptions: { module: ts.ModuleKind.ESNext, target: ts.ScriptTarget.ES2022 } }).outputText);
    checked.push(`${base}.ts`);
    const r = run(`${base}.mjs`);
    if (r.status !== 0) problems.push(`${p.manifest.name}: README example exits ${r.status}: ${r.err.trim().split('\n').slice(0, 3).join(' | ')}`);
    else if (r.out.trimEnd() !== ex.output.trimEnd()) problems.push(`${p.manifest.name}: README example prints\n${r.out}instead of the README's Output block\n${ex.output}`);
  }

  // The standalone entry points load without DI; the machine finds its example boards once installed.
  writeFileSync(
    join(app, 'consumer.ts'),
    `${STANDALONE_ENTRIES.map((e, i) => `import * as m${i} from '${e}';`).join('\n')}
import { IovaDomain } from '@dmasim/iommu-core/iova';

const loaded = [${STANDALONE_ENTRIES.map((_, i) => `m${i}`).join(', ')}].map((m) => Object.keys(m).length);
const iovad = new IovaDomain(4096, 1);
const iova = iovad.allocIova(16, 0xfffff, true);
const reflect = Reflect as unknown as { getMetadata?: unknown };
console.log(JSON.stringify({ loaded: loaded.every((n) => n > 0), reflectMetadata: typeof reflect.getMetadata, iova: iova === null ? null : iovad.iovaDmaAddr(iova).toString(16) }));

const { runBoard } = await import('@dmasim/machine');
const { report } = await runBoard('rpi4');
console.log(JSON.stringify({ board: report.board, devices: report.devices.length > 0 }));
`,
  );
  writeFileSync(join(app, 'consumer.mjs'), ts.transpileModule(readFileSync(join(app, 'consumer.ts'), 'utf8'), { compilerOptions: { module: ts.ModuleKind.ESNext, target: ts.ScriptTarget.ES2022 } }).outputText);
  checked.push('consumer.ts');
  const c = run('consumer.mjs');
  const want = '{"loaded":true,"reflectMetadata":"undefined","iova":"ffff0000"}\n{"board":"rpi4","devices":true}';
  if (c.status !== 0 || c.out.trimEnd() !== want) problems.push(`consumer of the standalone entries: exit ${c.status}, printed ${JSON.stringify(c.out)} (want ${JSON.stringify(want)}) ${c.err.trim().split('\n')[0] ?? ''}`);

  // The bin, as `npx dmasim` runs it from the user's project.
  const v = spawnSync('npx', ['dmasim', '--version'], { cwd: app, encoding: 'utf8' });
  const machineVersion = pkgs.find((p) => p.dir === 'machine')?.manifest.version;
  if (v.status !== 0 || v.stdout !== `${machineVersion}\n`) problems.push(`npx dmasim --version: exit ${v.status}, printed ${JSON.stringify(v.stdout)}`);
  const j = spawnSync('npx', ['dmasim', 'run', 'rpi4', '--json'], { cwd: app, encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 });
  try {
    const report = JSON.parse(j.stdout) as Record<string, unknown>;
    const shape: [string, (v: unknown) => boolean][] = [
      ['board', (x) => x === 'rpi4'],
      ['seed', (x) => Number.isSafeInteger(x)],
      ['profile', (x) => typeof x === 'string'],
      ['outcome', (x) => x === 'ok' || x === 'degraded' || x === 'oops'],
      ['devices', (x) => Array.isArray(x) && x.length > 0],
      ['iommus', Array.isArray],
      ['faults', Array.isArray],
      ['problems', Array.isArray],
      ['workloads', Array.isArray],
      ['log', (x) => Array.isArray(x) && x.every((l) => typeof l === 'string')],
    ];
    for (const [k, ok] of shape) if (!ok(report[k])) problems.push(`npx dmasim run rpi4 --json: "${k}" is ${JSON.stringify(report[k])?.slice(0, 80)}`);
    if (j.status !== 0) problems.push(`npx dmasim run rpi4 --json: exit ${j.status}`);
  } catch {
    problems.push(`npx dmasim run rpi4 --json: stdout is not JSON (exit ${j.status}): ${j.stdout.slice(0, 120)} ${j.stderr.slice(0, 200)}`);
  }

  // A TypeScript consumer: NodeNext, strict, exactOptionalPropertyTypes, the libraries' .d.ts checked too.
  writeFileSync(
    join(app, 'tsconfig.json'),
    `${JSON.stringify({ compilerOptions: { module: 'NodeNext', moduleResolution: 'NodeNext', target: 'ES2022', strict: true, exactOptionalPropertyTypes: true, noEmit: true, skipLibCheck: false, types: ['node'] }, files: checked }, null, 2)}\n`,
  );
  const tsc = spawnSync(process.execPath, [join(app, 'node_modules/typescript/bin/tsc'), '-p', 'tsconfig.json'], { cwd: app, encoding: 'utf8' });
  const errors = tsc.stdout.split('\n').filter((l) => /error TS\d+/.test(l));
  const ours = errors.filter((l) => !l.startsWith('node_modules/') || l.startsWith('node_modules/@dmasim/'));
  for (const l of errors.filter((e) => !ours.includes(e))) say(`(third-party typings) ${l}`);
  for (const l of ours) problems.push(`tsc (NodeNext, strict, exactOptionalPropertyTypes): ${l}`);
  say(`type-checked ${checked.join(', ')}`);
} finally {
  if (!keep) rmSync(scratch, { recursive: true, force: true });
  else say(`kept ${scratch}`);
}

for (const p of problems) process.stderr.write(`pack-check: PROBLEM: ${p}\n`);
say(problems.length === 0 ? 'ok' : `${problems.length} problem(s)`);
process.exitCode = problems.length === 0 ? 0 : 1;
