import { createHash } from 'node:crypto';
import { existsSync, readFileSync, readdirSync, statSync } from 'node:fs';
import { basename, dirname, extname, isAbsolute, join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { LineCounter, parseDocument } from 'yaml';
import type { Board } from './schema';
import { BoardError, type BoardIssue, describeValue, formatPath, parsePath } from './errors';
import { checkBoard, type PlacedIssue } from './check';
import { mergeTracked, type Tracked } from './merge';
import { builtinModels, type ModelCatalogue } from './models';
import { fileOrigin, locate, type Origin, yamlOrigin } from './origin';
import { type AppliedOverride, applyOverrides } from './overrides';
import { checkBoardDepth, checkBoardFileSize, yamlBoardToJs } from './yaml-text';
import { DEVICETREE_EXTENSIONS, finishDevicetree, isDevicetreeFile, layerDevicetree, readDevicetreeBoard, type DevicetreeContext, type DevicetreeSummary } from './devicetree';

/**
 * Where the example boards live: the copy shipped inside the npm package (`examples/` beside
 * `dist/`, made at pack time), else the repository's `examples/` (src/ and dist/ in the workspace).
 */
export const EXAMPLES_DIR =
  [resolve(import.meta.dirname, '../../examples/boards'), resolve(import.meta.dirname, '../../../../examples/boards')].find((d) => existsSync(d)) ??
  resolve(import.meta.dirname, '../../../../examples/boards');
const BOARD_EXTENSIONS = ['.yaml', '.yml', '.json', '.ts', ...DEVICETREE_EXTENSIONS];

export interface LoadedBoard {
  readonly board: Board;
  /** The file named (after example-name resolution). */
  readonly file: string;
  /** Files of the extends chain, base first. */
  readonly chain: readonly string[];
  /** The merged board as written (before defaults), canonical JSON. */
  readonly source: string;
  /** sha256 of `source`: identifies the board in traces. */
  readonly hash: string;
  /** The `--set path=value` overrides applied over the layers (part of `source`). */
  readonly overrides: readonly string[];
  /** What `dmasim validate` and `run --strict` report: suspicious but runnable parts of the board. */
  readonly warnings: readonly BoardIssue[];
  /** When the board came from a device tree: what the tree said beyond the board. */
  readonly devicetree?: DevicetreeSummary;
}

export interface LoadOptions {
  readonly models?: ModelCatalogue;
  /**
   * Called with the layered board before validation, e.g. to load the plugin modules it lists;
   * returns the catalogue of models to validate against.
   */
  readonly prepare?: (raw: Record<string, unknown>, file: string) => Promise<ModelCatalogue>;
  /** `path=value` overrides (the CLI's `--set`), applied in order over the layered board. */
  readonly overrides?: readonly string[];
}

/** Names of the example boards. */
export function exampleBoards(): string[] {
  if (!existsSync(EXAMPLES_DIR)) return [];
  return readdirSync(EXAMPLES_DIR)
    .filter((f) => BOARD_EXTENSIONS.includes(extname(f)))
    .map((f) => basename(f, extname(f)))
    .sort();
}

/** A path, or the name of an example board. */
export function resolveBoardRef(ref: string, from = process.cwd()): string | undefined {
  const direct = isAbsolute(ref) ? ref : resolve(from, ref);
  if (existsSync(direct) && BOARD_EXTENSIONS.includes(extname(direct))) return direct;
  if (!/[\\/]/.test(ref) && extname(ref) === '') {
    for (const ext of BOARD_EXTENSIONS) {
      const p = join(EXAMPLES_DIR, `${ref}${ext}`);
      if (existsSync(p)) return p;
    }
  }
  return undefined;
}

/**
 * Loads, layers (`extends`), overrides (`--set`), parses and validates a board. Throws a BoardError
 * with every problem found, each at the file and line that wrote the value.
 */
export async function loadBoard(ref: string, options: LoadOptions = {}): Promise<LoadedBoard> {
  const file = resolveBoardRef(ref);
  if (file === undefined) {
    throw new BoardError([{ file: ref, path: '', message: `no such board file or example board; examples: ${exampleBoards().join(', ') || '(none)'}` }]);
  }
  const chain: string[] = [];
  const dt: DevicetreeContext = { models: options.models ?? builtinModels() };
  const layered = await readLayered(file, chain, [], dt);
  const overrides = options.overrides ?? [];
  const { applied, issues } = applyOverrides(layered.value as Record<string, unknown>, overrides);
  const raw = finishDevicetree(layered.value as Record<string, unknown>, dt);
  const models = options.prepare ? await options.prepare(raw, file) : options.models;
  const loaded = finishBoard(raw, file, chain, { ...(models !== undefined ? { models } : {}), origin: layered.origin, applied, overrides, pending: issues });
  return dt.summary === undefined ? loaded : { ...loaded, devicetree: dt.summary };
}

/** Parses and validates an in-memory board (the TS/JSON form), `file` naming it in errors. */
export function parseBoard(raw: unknown, file = '<board>', options: LoadOptions = {}): LoadedBoard {
  return finishBoard(raw, file, [file], options.models !== undefined ? { models: options.models } : {});
}

interface FinishContext {
  readonly models?: ModelCatalogue;
  readonly origin?: Origin | undefined;
  readonly applied?: readonly AppliedOverride[];
  readonly overrides?: readonly string[];
  /** Problems found before the checks (overrides that could not be applied). */
  readonly pending?: readonly BoardIssue[];
}

function finishBoard(raw: unknown, file: string, chain: string[], ctx: FinishContext): LoadedBoard {
  checkBoardDepth(raw, file);
  const { board, errors, warnings } = checkBoard(raw, file, ctx.models ?? builtinModels());
  const place = (i: PlacedIssue): BoardIssue => placeIssue(i, ctx.origin ?? fileOrigin(file), ctx.applied ?? []);
  const allErrors = [...(ctx.pending ?? []), ...sortByPosition(errors.map(place))];
  const allWarnings = sortByPosition(warnings.map(place));
  if (board === undefined || allErrors.length > 0) throw new BoardError(allErrors, allWarnings);
  const source = canonicalJson(raw);
  return { board, file, chain, source, hash: createHash('sha256').update(source).digest('hex'), overrides: ctx.overrides ?? [], warnings: allWarnings };
}

/** In reading order: by file, then line and column (stable, so unplaced issues keep their order). */
function sortByPosition(issues: BoardIssue[]): BoardIssue[] {
  return issues
    .map((i, n) => ({ i, n }))
    .sort((a, b) => a.i.file.localeCompare(b.i.file) || (a.i.line ?? 0) - (b.i.line ?? 0) || (a.i.column ?? 0) - (b.i.column ?? 0) || a.n - b.n)
    .map((x) => x.i);
}

/** The issue at the file, line and column that wrote the value: a `--set`, or the layer that set it last. */
function placeIssue(i: PlacedIssue, origin: Origin, applied: readonly AppliedOverride[]): BoardIssue {
  const { at, atKey, ...issue } = i;
  const set = [...applied].reverse().find((o) => o.path.length <= at.length && o.path.every((seg, k) => at[k] === seg));
  if (set !== undefined) return { ...issue, file: set.at.file };
  const found = locate(origin, at, atKey === true);
  if (found === undefined) return issue;
  const { pos } = found;
  // the path as written in that file; an issue about a key of an object (an unknown key) names the object
  const path = formatPath(found.path.slice(0, found.path.length - (at.length - parsePath(issue.path).length)));
  return { ...issue, file: pos.file, path: issue.path === '' ? '' : path, ...(pos.line !== undefined ? { line: pos.line, column: pos.column ?? 1 } : {}) };
}

/**
 * Reads a board and the boards it extends, depth first: `extends: [a, b]` merges b over a, then this
 * file over both (the last wins). `chain` gets every file once, bases before the files extending them.
 */
async function readLayered(file: string, chain: string[], visiting: string[], dt: DevicetreeContext): Promise<Tracked> {
  if (visiting.includes(file)) {
    const first = visiting[0] ?? file;
    throw new BoardError([{ file: first, path: 'extends', message: `extends cycle: ${[...visiting, file].map((f) => basename(f)).join(' -> ')}` }]);
  }
  const read = isDevicetreeFile(file) ? { value: readDevicetreeBoard(file, dt), origin: fileOrigin(file) } : await readBoardFile(file);
  checkBoardDepth(read.value, file);
  if (typeof read.value !== 'object' || read.value === null || Array.isArray(read.value)) {
    throw new BoardError([{ file, path: '', message: 'expected a board: a mapping with name, memory, buses, ...', found: describeValue(read.value) }]);
  }
  const layer = layerDevicetree(read, file, dt);
  const raw = layer.value;
  const ext = (raw as { extends?: unknown }).extends;
  const refs = ext === undefined ? [] : Array.isArray(ext) ? (ext as unknown[]) : [ext];
  let merged: Tracked | undefined;
  for (const [i, ref] of refs.entries()) {
    const path = Array.isArray(ext) ? `extends[${i}]` : 'extends';
    if (typeof ref !== 'string') throw new BoardError([{ file, path, message: 'expected a board name or path', found: describeValue(ref) }]);
    const baseFile = resolveBoardRef(ref, dirname(file));
    if (baseFile === undefined) throw new BoardError([{ file, path, message: 'no such board file or example board', found: JSON.stringify(ref) }]);
    const base = await readLayered(baseFile, chain, [...visiting, file], dt);
    merged = merged === undefined ? base : mergeTracked(merged, base);
  }
  if (!chain.includes(file)) chain.push(file);
  if (merged === undefined) return layer;
  const out = mergeTracked(merged, layer);
  delete (out.value as Record<string, unknown>).extends;
  return out;
}

async function readBoardFile(file: string): Promise<Tracked> {
  const ext = extname(file);
  if (ext === '.ts') {
    try {
      const mod = (await import(pathToFileURL(file).href)) as { default?: unknown };
      if (mod.default === undefined) throw new Error('the module has no default export');
      return { value: mod.default, origin: fileOrigin(file) };
    } catch (e) {
      throw new BoardError([{ file, path: '', message: `cannot load the TS board: ${(e as Error).message}` }]);
    }
  }
  let text: string;
  try {
    checkBoardFileSize(statSync(file).size, file);
    text = readFileSync(file, 'utf8');
  } catch (e) {
    if (e instanceof BoardError) throw e;
    throw new BoardError([{ file, path: '', message: `cannot read: ${(e as Error).message}` }]);
  }
  const lines = new LineCounter();
  if (ext === '.json') {
    let value: unknown;
    try {
      value = JSON.parse(text) as unknown;
    } catch (e) {
      throw new BoardError([{ file, path: '', message: `invalid JSON: ${(e as Error).message}` }]);
    }
    checkBoardDepth(value, file);
    // JSON is YAML: the YAML parser gives the positions
    const doc = parseDocument(text, { lineCounter: lines });
    return { value, origin: doc.errors.length === 0 ? yamlOrigin(doc.contents, file, lines) : fileOrigin(file) };
  }
  const doc = parseDocument(text, { prettyErrors: true, uniqueKeys: true, lineCounter: lines });
  if (doc.errors.length > 0) {
    throw new BoardError(doc.errors.map((e) => ({ file, path: '', message: `invalid YAML: ${e.message.split('\n')[0]!.replace(/ at line \d+, column \d+:?$/, '')}`, ...(e.linePos ? { line: e.linePos[0].line, column: e.linePos[0].col } : {}) })));
  }
  return { value: yamlBoardToJs(doc, file), origin: yamlOrigin(doc.contents, file, lines) };
}

function canonicalJson(v: unknown): string {
  return JSON.stringify(v, (_k, val: unknown) => {
    if (val !== null && typeof val === 'object' && !Array.isArray(val)) {
      // code-unit order: the hash must not depend on the locale (localeCompare does)
      return Object.fromEntries(Object.entries(val as Record<string, unknown>).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
    }
    return val;
  });
}
