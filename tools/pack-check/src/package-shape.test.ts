/**
 * The package convention (root README, "Package convention"): every directory under packages/ is
 * published to npm, so its package.json, build config and dependencies are checked here. A new
 * package gets told what to fix.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { REPO_ROOT, importsOf, packageOf, publishedPackages, shippedSources, type ExportEntry } from './workspace';

const BUILD_SCRIPT = 'tsc -b tsconfig.build.json && tsc-alias -p tsconfig.build.json';
const rootLicense = readFileSync(join(REPO_ROOT, 'LICENSE'), 'utf8');
const rootBuild = JSON.parse(readFileSync(join(REPO_ROOT, 'tsconfig.build.json'), 'utf8')) as { references: { path: string }[] };

interface BuildConfig {
  extends?: string;
  compilerOptions?: { rootDir?: string; outDir?: string };
  include?: string[];
  exclude?: string[];
  references?: { path: string }[];
}

/** What a package is told to fix, one line per problem (empty when it follows the convention). */
function problemsOf(dir: string, path: string): string[] {
  const pj = JSON.parse(readFileSync(join(path, 'package.json'), 'utf8')) as import('./workspace').Manifest;
  const p: string[] = [];
  const need = (ok: boolean, what: string): void => {
    if (!ok) p.push(what);
  };
  need(pj.name === `@dmasim/${dir}`, `name must be "@dmasim/${dir}"`);
  need(pj.private !== true, 'packages/* are published: no "private": true (put private tools under tools/)');
  need(typeof pj.version === 'string', 'needs a "version"');
  need(typeof pj.description === 'string' && pj.description.length > 20, 'needs a one-sentence "description"');
  need(Array.isArray(pj.keywords) && pj.keywords.includes('dmasim'), '"keywords" must include "dmasim"');
  need(pj.license === 'MIT', '"license" must be "MIT"');
  need(existsSync(join(path, 'LICENSE')) && readFileSync(join(path, 'LICENSE'), 'utf8') === rootLicense, 'needs a copy of the root LICENSE file');
  need(pj.repository?.type === 'git' && typeof pj.repository.url === 'string' && pj.repository.directory === `packages/${dir}`, `"repository" must be { type: "git", url, directory: "packages/${dir}" }`);
  need(pj.type === 'module', '"type" must be "module"');
  need(pj.engines?.node === '>=20', '"engines.node" must be ">=20"');
  need(pj.sideEffects === false || Array.isArray(pj.sideEffects), '"sideEffects" must be false or the list of modules with side effects');
  need(existsSync(join(path, 'README.md')), 'needs a README.md');
  need(pj.scripts?.build === BUILD_SCRIPT, `"scripts.build" must be "${BUILD_SCRIPT}"`);

  const files = pj.files ?? [];
  need(files.includes('dist'), '"files" must list "dist"');
  need(!files.some((f) => f === 'src' || f.startsWith('src/')), '"files" must not ship src/ (dist has the source maps with their sources)');

  const exp = pj.exports ?? {};
  need(typeof exp['.'] === 'object', '"exports" needs a "." entry');
  const published: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(exp)) {
    if (typeof value === 'string' && key !== '.' && !value.startsWith('./src/') && !value.endsWith('.ts')) {
      // A data file shipped as is (package.json, a JSON schema).
      need(existsSync(join(path, value)), `exports["${key}"]: ${value} does not exist`);
      need(value === './package.json' || files.some((f) => value === `./${f}` || value.startsWith(`./${f}/`)), `exports["${key}"]: ${value} must be in "files"`);
      published[key] = value;
      continue;
    }
    if (typeof value !== 'object') {
      p.push(`exports["${key}"] must be { source, types, import }`);
      continue;
    }
    const e = value as Partial<ExportEntry>;
    need(JSON.stringify(Object.keys(e)) === '["source","types","import"]', `exports["${key}"] must have exactly the conditions source, types, import, in that order`);
    const m = /^\.\/src\/(.+)\.ts$/.exec(e.source ?? '');
    if (m === null) {
      p.push(`exports["${key}"].source must be ./src/<entry>.ts`);
      continue;
    }
    need(existsSync(join(path, e.source!)), `exports["${key}"].source ${e.source} does not exist`);
    need(e.types === `./dist/${m[1]}.d.ts`, `exports["${key}"].types must be ./dist/${m[1]}.d.ts`);
    need(e.import === `./dist/${m[1]}.js`, `exports["${key}"].import must be ./dist/${m[1]}.js`);
    published[key] = { types: e.types, import: e.import };
  }
  need(pj.publishConfig?.access === 'public', '"publishConfig.access" must be "public"');
  need(
    JSON.stringify(pj.publishConfig?.exports) === JSON.stringify(published),
    `"publishConfig.exports" must be "exports" without the source condition: ${JSON.stringify(published)}`,
  );

  // Build config: the package's own tsconfig.build.json, referenced from the root one.
  const cfgPath = join(path, 'tsconfig.build.json');
  const workspaceDeps = Object.entries(pj.dependencies ?? {}).filter(([d]) => d.startsWith('@dmasim/'));
  if (!existsSync(cfgPath)) {
    p.push('needs a tsconfig.build.json (copy one from packages/swiotlb)');
  } else {
    const cfg = JSON.parse(readFileSync(cfgPath, 'utf8')) as BuildConfig;
    need(cfg.extends === '../../tsconfig.build.base.json', 'tsconfig.build.json must extend ../../tsconfig.build.base.json');
    need(cfg.compilerOptions?.rootDir === 'src' && cfg.compilerOptions.outDir === 'dist', 'tsconfig.build.json must have rootDir "src" and outDir "dist"');
    need((cfg.exclude ?? []).includes('src/**/*.test.ts'), 'tsconfig.build.json must exclude src/**/*.test.ts');
    const refs = (cfg.references ?? []).map((r) => r.path).sort();
    const want = workspaceDeps.map(([d]) => `../${d.slice('@dmasim/'.length)}/tsconfig.build.json`).sort();
    need(JSON.stringify(refs) === JSON.stringify(want), `tsconfig.build.json "references" must be its @dmasim dependencies: ${JSON.stringify(want)}`);
  }
  need(rootBuild.references.some((r) => r.path === `packages/${dir}/tsconfig.build.json`), `the root tsconfig.build.json must reference packages/${dir}/tsconfig.build.json`);
  for (const [d, range] of workspaceDeps) need(range === 'workspace:*', `dependency ${d} must be "workspace:*" (pnpm pack writes the version)`);

  // Dependencies: exactly what the shipped sources import.
  const imported = new Set<string>();
  for (const f of shippedSources(path)) {
    for (const ref of importsOf(readFileSync(f, 'utf8'))) {
      const name = packageOf(ref.specifier);
      if (name !== undefined && name !== pj.name) imported.add(name);
    }
  }
  const declared = new Set([...Object.keys(pj.dependencies ?? {}), ...Object.keys(pj.peerDependencies ?? {})]);
  for (const name of [...imported].sort()) need(declared.has(name), `src imports ${name}: list it in "dependencies"`);
  for (const name of [...declared].sort()) need(imported.has(name), `"dependencies" lists ${name} but no shipped file of src/ imports it: drop it or make it a devDependency`);
  return p;
}

describe('every packages/* package follows the package convention', () => {
  const pkgs = publishedPackages();
  it('finds the packages', () => {
    expect(pkgs.map((p) => p.dir)).toContain('core');
  });
  for (const { dir, path } of pkgs) {
    it(`packages/${dir}`, () => {
      expect(problemsOf(dir, path)).toEqual([]);
    });
  }
});

describe('the convention check itself', () => {
  it('reports what a bare new package lacks', () => {
    // A package laid out like a newcomer's first commit: only a name and a src/ export.
    const problems = problemsOf('core', join(import.meta.dirname, '__fixtures__', 'bare'));
    expect(problems).toContain('"license" must be "MIT"');
    expect(problems).toContain('"publishConfig.access" must be "public"');
    expect(problems).toContain('exports["."] must be { source, types, import }');
    expect(problems).toContain('needs a tsconfig.build.json (copy one from packages/swiotlb)');
    expect(problems).toContain('src imports tinybench: list it in "dependencies"');
  });
});
