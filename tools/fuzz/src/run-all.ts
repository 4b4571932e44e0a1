/**
 * `pnpm fuzz [id-prefix...] [--runs N] [--seconds S] [--seed N] [--case I] [--hang S]`: runs every
 * fuzz target of the packages (`packages/*\/src/**\/*.fuzz.ts`) for N cases each (default 10,000)
 * or S seconds, prints cases/s and units/s per target and every defect class found, each with its
 * reproducer. A case running over `--hang` seconds (default 30) stops the run and is named; `--case I`
 * prints case I's reproducer and runs it alone; `--trace` prints each case index before it runs
 * (to find a case that kills the process). Exit status 1 when any target found a defect.
 */
import 'reflect-metadata';
import { readdirSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import { Worker } from 'node:worker_threads';
import { caseInput, runTarget, type FuzzStats } from './run';
import type { FuzzTarget } from './target';

const root = resolve(import.meta.dirname, '../../..');
const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: { runs: { type: 'string' }, seconds: { type: 'string' }, seed: { type: 'string' }, case: { type: 'string' }, hang: { type: 'string' }, trace: { type: 'boolean' } },
});
const num = (v: string | undefined, name: string, dflt: number): number => {
  if (v === undefined) return dflt;
  const n = Number(v);
  if (!Number.isSafeInteger(n) || n < 0) {
    console.error(`--${name} must be a non-negative integer (found ${v})`);
    process.exit(1);
  }
  return n;
};
const runs = num(values.runs, 'runs', values.seconds !== undefined ? Number.MAX_SAFE_INTEGER : 10_000);
const seconds = values.seconds === undefined ? undefined : num(values.seconds, 'seconds', 0);
const seed = num(values.seed, 'seed', 1);
const hangMs = num(values.hang, 'hang', 30) * 1000;
const trace = values.trace === true;

function fuzzFiles(dir: string): string[] {
  const out: string[] = [];
  for (const name of readdirSync(dir)) {
    const p = join(dir, name);
    if (name === 'node_modules' || name === 'dist') continue;
    if (statSync(p).isDirectory()) out.push(...fuzzFiles(p));
    else if (name.endsWith('.fuzz.ts')) out.push(p);
  }
  return out;
}

const targets: FuzzTarget<unknown>[] = [];
for (const pkg of readdirSync(join(root, 'packages'))) {
  const src = join(root, 'packages', pkg, 'src');
  if (!statSync(join(root, 'packages', pkg)).isDirectory()) continue;
  for (const f of fuzzFiles(src)) {
    const mod = (await import(pathToFileURL(f).href)) as { fuzzTargets?: FuzzTarget<unknown>[] };
    targets.push(...(mod.fuzzTargets ?? []));
  }
}
const chosen = positionals.length === 0 ? targets : targets.filter((t) => positionals.some((p) => t.id.startsWith(p)));
if (chosen.length === 0) {
  console.error(`no fuzz target matches ${positionals.join(', ')}; targets: ${targets.map((t) => t.id).join(', ')}`);
  process.exit(1);
}

if (values.case !== undefined) {
  const index = num(values.case, 'case', 0);
  const t = chosen[0]!;
  const input = caseInput(t, seed, index);
  console.log(`# ${t.id}, seed ${seed}, case ${index}\n${t.describe(input)}`);
  try {
    t.check(input);
    console.log('# ran without a defect');
    process.exit(0);
  } catch (e) {
    console.log(`# DEFECT: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}`);
    process.exit(1);
  }
}

// the watchdog names a case that hangs (this thread cannot interrupt itself)
const shared = new SharedArrayBuffer(8);
const cell = new Int32Array(shared);
const watchdog = new Worker(new URL('./watchdog.mjs', import.meta.url), { workerData: { shared, hangMs, ids: chosen.map((t) => t.id), seed } });
watchdog.unref();

const fmt = (v: number): string => (v >= 100 ? Math.round(v).toLocaleString('en-US') : v.toPrecision(3));
const all: FuzzStats[] = [];
for (const t of chosen) {
  process.stderr.write(`fuzz ${t.id} (seed ${seed}) ...\n`);
  Atomics.store(cell, 1, chosen.indexOf(t));
  const s = runTarget(t, {
    seed,
    runs,
    onCase: (i) => {
      if (trace) process.stderr.write(`case ${i}\n`);
      Atomics.store(cell, 0, i);
      Atomics.notify(cell, 0);
    },
    ...(seconds !== undefined ? { seconds } : {}),
    progress: (p) => process.stderr.write(`  ${p.id}: ${p.cases} cases, ${fmt(p.cases / p.seconds)} cases/s, ${p.defects.length} defect classes\n`),
  });
  all.push(s);
  for (const d of s.defects) {
    console.log(`\nDEFECT ${s.id}: ${d.kind} (${d.count}×; first at case ${d.caseIndex}, seed ${d.seed})\n${d.message.split('\n').slice(0, 8).join('\n')}\nreproducer:\n${d.reproducer}`);
  }
}
Atomics.store(cell, 0, -2);
Atomics.notify(cell, 0);
console.log('');
const rows = all.map((s) => [s.id, String(s.cases), `${fmt(s.cases / s.seconds)} cases/s`, `${fmt(s.units / s.seconds)} ${s.unit}/s`, `${fmt(s.units)} ${s.unit}`, `${s.defects.length} defect classes`]);
const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => r[i]!.length)));
for (const r of rows) console.log(r.map((c, i) => c.padEnd(widths[i]!)).join('  '));
process.exit(all.some((s) => s.defects.length > 0) ? 1 : 0);
