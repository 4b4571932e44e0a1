/**
 * Runs one package's benchmarks in this process and prints its results as one JSON line prefixed
 * `@@bench ` on stdout (the parent runner collects them). Usage: run-package.ts <package-dir-name>
 */
import 'reflect-metadata';
import { readdirSync, existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { createBenchContext, measureBaselines, type BenchContext } from './context';

const pkg = process.argv[2];
if (!pkg) {
  console.error('usage: run-package.ts <package>');
  process.exit(1);
}
const dir = resolve(import.meta.dirname, '../../../packages', pkg, 'bench');
const ctx = createBenchContext();
await measureBaselines(ctx);
const files = existsSync(dir) ? readdirSync(dir).filter((f) => f.endsWith('.bench.ts')).sort() : [];
for (const f of files) {
  const mod = (await import(pathToFileURL(join(dir, f)).href)) as { default?: (c: BenchContext) => Promise<void> };
  if (typeof mod.default !== 'function') throw new Error(`${pkg}/bench/${f} has no default export`);
  await mod.default(ctx);
}
console.log(`@@bench ${JSON.stringify({ package: pkg, results: ctx.results })}`);
