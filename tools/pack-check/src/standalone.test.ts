/**
 * The parts people reuse alone (DESIGN, "Packages are built") import without the DI container:
 * following every run-time import from their entry points never reaches tsyringe, reflect-metadata
 * (a global side effect) or the bus. The packed-install check runs the same imports in plain node.
 */
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { STANDALONE_ENTRIES, importsOf, packageOf, publishedPackages, type ExportEntry } from './workspace';

const FORBIDDEN = ['tsyringe', 'reflect-metadata', '@dmasim/bus'];

const pkgs = new Map(publishedPackages().map((p) => [p.manifest.name, p]));

function sourceOfSpecifier(spec: string): string | undefined {
  const name = packageOf(spec);
  const pkg = name === undefined ? undefined : pkgs.get(name);
  if (name === undefined || pkg === undefined) return undefined;
  const entry = pkg.manifest.exports?.[`.${spec.slice(name.length)}`] as ExportEntry | undefined;
  return entry === undefined ? undefined : join(pkg.path, entry.source);
}

function resolveRelative(from: string, spec: string): string {
  const base = resolve(dirname(from), spec);
  for (const c of [base, `${base}.ts`, join(base, 'index.ts')]) if (existsSync(c) && c.endsWith('.ts')) return c;
  throw new Error(`${from}: cannot resolve ${spec}`);
}

/** Every bare specifier reached at run time from `entry`, with the chain of files that reaches it. */
function runtimeReach(entry: string): Map<string, string[]> {
  const reached = new Map<string, string[]>();
  const seen = new Set<string>();
  const visit = (file: string, chain: string[]): void => {
    if (seen.has(file)) return;
    seen.add(file);
    for (const ref of importsOf(readFileSync(file, 'utf8'))) {
      if (!ref.runtime) continue;
      const next = ref.specifier.startsWith('.') ? resolveRelative(file, ref.specifier) : sourceOfSpecifier(ref.specifier);
      if (!ref.specifier.startsWith('.') && !reached.has(ref.specifier)) reached.set(ref.specifier, [...chain, file]);
      if (next !== undefined) visit(next, [...chain, file]);
    }
  };
  const start = sourceOfSpecifier(entry);
  if (start === undefined) throw new Error(`${entry} is not an export of a workspace package`);
  visit(start, []);
  return reached;
}

describe('standalone entry points load no DI', () => {
  for (const entry of STANDALONE_ENTRIES) {
    it(entry, () => {
      const reached = runtimeReach(entry);
      const bad = [...reached].filter(([spec]) => FORBIDDEN.includes(packageOf(spec) ?? '') || spec === '@dmasim/core').map(([spec, chain]) => `${spec} via ${chain.map((f) => f.replace(/.*packages\//, '')).join(' > ')}`);
      expect(bad).toEqual([]);
    });
  }

  it('the check sees through to the DI of a full entry point', () => {
    expect([...runtimeReach('@dmasim/iommu-core').keys()]).toContain('tsyringe');
  });
});
