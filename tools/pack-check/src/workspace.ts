/**
 * Reading the workspace as a packager sees it: the published packages under `packages/`, their
 * manifests, and the module specifiers their source files import.
 */
import { existsSync, readFileSync, readdirSync, statSync } from 'node:fs';
import { isBuiltin } from 'node:module';
import { join, resolve } from 'node:path';

export const REPO_ROOT = resolve(import.meta.dirname, '../../..');

/** The parts people reuse alone: importable with no DI container and no global side effects. */
export const STANDALONE_ENTRIES = ['@dmasim/core/standalone', '@dmasim/iommu-core/iova', '@dmasim/iommu-core/io-pgtable', '@dmasim/swiotlb', '@dmasim/smmu/hw'];

export interface ExportEntry {
  readonly source: string;
  readonly types: string;
  readonly import: string;
}

export interface Manifest {
  readonly name: string;
  readonly version?: string;
  readonly private?: boolean;
  readonly description?: string;
  readonly keywords?: readonly string[];
  readonly license?: string;
  readonly repository?: { readonly type?: string; readonly url?: string; readonly directory?: string };
  readonly type?: string;
  readonly engines?: Record<string, string>;
  readonly sideEffects?: boolean | readonly string[];
  readonly bin?: Record<string, string>;
  readonly exports?: Record<string, ExportEntry | string>;
  readonly files?: readonly string[];
  readonly publishConfig?: { readonly access?: string; readonly exports?: Record<string, unknown> };
  readonly scripts?: Record<string, string>;
  readonly dependencies?: Record<string, string>;
  readonly devDependencies?: Record<string, string>;
  readonly peerDependencies?: Record<string, string>;
}

export interface WorkspacePackage {
  /** Directory name under `packages/`. */
  readonly dir: string;
  readonly path: string;
  readonly manifest: Manifest;
}

/** Every directory of `packages/` that has a package.json: each one is published. */
export function publishedPackages(root = REPO_ROOT): WorkspacePackage[] {
  const base = join(root, 'packages');
  return readdirSync(base)
    .filter((d) => existsSync(join(base, d, 'package.json')))
    .sort()
    .map((dir) => ({
      dir,
      path: join(base, dir),
      manifest: JSON.parse(readFileSync(join(base, dir, 'package.json'), 'utf8')) as Manifest,
    }));
}

/** A tsconfig `exclude` pattern (`**`, `*`) as a regular expression over package-relative paths. */
function globRegExp(glob: string): RegExp {
  const body = glob
    .split('**/')
    .map((part) => part.split('**').map((p) => p.replace(/[.+^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '[^/]*')).join('.*'))
    .join('(?:.*/)?');
  return new RegExp(`^${body}$`);
}

/** Source files that ship (tsc compiles the .ts ones): src/ less what the package's tsconfig.build.json excludes (tests, test rigs). */
export function shippedSources(pkgPath: string): string[] {
  const cfgPath = join(pkgPath, 'tsconfig.build.json');
  const excludes = existsSync(cfgPath)
    ? ((JSON.parse(readFileSync(cfgPath, 'utf8')) as { exclude?: string[] }).exclude ?? []).map(globRegExp)
    : [globRegExp('src/**/*.test.ts')];
  const out: string[] = [];
  const walk = (rel: string): void => {
    for (const name of readdirSync(join(pkgPath, rel))) {
      const r = `${rel}/${name}`;
      if (statSync(join(pkgPath, r)).isDirectory()) walk(r);
      else if (name.endsWith('.ts') && !name.endsWith('.d.ts') && !excludes.some((re) => re.test(r))) out.push(join(pkgPath, r));
    }
  };
  if (existsSync(join(pkgPath, 'src'))) walk('src');
  return out.sort();
}

export interface ImportRef {
  readonly specifier: string;
  /** False for `import type` / `export type` and imports whose every binding is `type X`: erased. */
  readonly runtime: boolean;
}

const STATIC = /^[ \t]*(import|export)\s+(type\s+)?([\w*{}\s,$]*?)\s*from\s*['"]([^'"]+)['"]/gm;
const BARE_SIDE_EFFECT = /^[ \t]*import\s*['"]([^'"]+)['"]/gm;

/** The static imports and re-exports of one TypeScript / JS source file. */
export function importsOf(code: string): ImportRef[] {
  const refs: ImportRef[] = [];
  for (const m of code.matchAll(STATIC)) {
    const typeOnly = m[2] !== undefined;
    const clause = (m[3] ?? '').trim();
    const braces = /\{([^}]*)\}/.exec(clause);
    const outside = clause.replace(/\{[^}]*\}/, '').replace(/,/g, '').trim();
    const named = braces ? braces[1]!.split(',').map((s) => s.trim()).filter((s) => s !== '') : [];
    const allTypes = braces !== null && outside === '' && named.length > 0 && named.every((n) => n.startsWith('type '));
    refs.push({ specifier: m[4]!, runtime: !typeOnly && !allTypes });
  }
  for (const m of code.matchAll(BARE_SIDE_EFFECT)) refs.push({ specifier: m[1]!, runtime: true });
  return refs;
}

/** The package a bare specifier names (`@scope/name` or `name`), or undefined for a relative one or a builtin. */
export function packageOf(specifier: string): string | undefined {
  if (specifier.startsWith('.') || specifier.startsWith('/') || isBuiltin(specifier)) return undefined;
  const parts = specifier.split('/');
  return specifier.startsWith('@') ? `${parts[0]}/${parts[1]}` : parts[0];
}
