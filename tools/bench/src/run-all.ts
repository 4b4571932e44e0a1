/**
 * `pnpm bench [package...]`: runs each package's benchmarks in its own process, prints one table and
 * writes bench/results.json (every figure, baselines included, with ratios to same-process baselines).
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { BenchResult } from './context';

const root = resolve(import.meta.dirname, '../../..');
const wanted = process.argv.slice(2);
const all = readdirSync(join(root, 'packages')).filter((p) => existsSync(join(root, 'packages', p, 'bench')));
const packages = wanted.length > 0 ? wanted : all;
const unknown = packages.filter((p) => !all.includes(p));
if (unknown.length > 0) {
  console.error(`unknown package(s): ${unknown.join(', ')}; known: ${all.join(', ')}`);
  process.exit(1);
}

const collected: (BenchResult & { package: string })[] = [];
let failed = false;
for (const pkg of packages) {
  const files = readdirSync(join(root, 'packages', pkg, 'bench')).filter((f) => f.endsWith('.bench.ts'));
  if (files.length === 0) continue;
  process.stderr.write(`bench ${pkg} ...\n`);
  const child = spawnSync(process.execPath, ['--conditions=source', '--import', 'tsx', join(import.meta.dirname, 'run-package.ts'), pkg], {
    cwd: root,
    encoding: 'utf8',
    maxBuffer: 64 * 1024 * 1024,
  });
  const line = child.stdout.split('\n').find((l) => l.startsWith('@@bench '));
  if (child.status !== 0 || !line) {
    failed = true;
    console.error(`bench ${pkg} failed:\n${child.stderr}`);
    continue;
  }
  const parsed = JSON.parse(line.slice('@@bench '.length)) as { results: BenchResult[] };
  for (const r of parsed.results) {
    if (pkg !== packages[0] && r.id.startsWith('raw.')) continue; // baselines printed once
    collected.push({ package: pkg, ...r });
  }
}

const fmt = (v: number): string => (Math.abs(v) >= 1e5 ? v.toExponential(3) : v.toPrecision(4));
const rows = collected.map((r) => ({
  id: r.id,
  value: `${fmt(r.value)} ${r.unit}`,
  ratio: r.ratio === undefined ? '' : r.better === 'lower' ? `costs ${fmt(r.ratio)} × ${r.baseline} op` : `${r.ratio.toFixed(3)} × ${r.baseline}`,
  target: r.target === undefined ? '' : `${r.target} ${r.met ? 'ok' : 'MISSED'}`,
}));
const widths = ['id', 'value', 'ratio', 'target'].map((k) => Math.max(k.length, ...rows.map((r) => r[k as keyof typeof r].length)));
const line = (cells: string[]): string => cells.map((c, i) => c.padEnd(widths[i]!)).join('  ');
console.log(line(['id', 'value', 'ratio', 'target']));
for (const r of rows) console.log(line([r.id, r.value, r.ratio, r.target]));

mkdirSync(join(root, 'bench'), { recursive: true });
writeFileSync(join(root, 'bench', 'results.json'), `${JSON.stringify(collected, null, 2)}\n`);
process.exit(failed ? 1 : 0);
