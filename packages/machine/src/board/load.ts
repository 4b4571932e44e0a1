import { createHash } from 'node:crypto';
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { basename, dirname, extname, isAbsolute, join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { parseDocument } from 'yaml';
import type { z } from 'zod';
import { BoardSchema, type Board } from './schema';
import { BoardError, type BoardIssue, describeValue, formatPath } from './errors';
import { mergeBoards } from './merge';
import { builtinModels, type ModelCatalogue } from './models';
import { validateBoard } from './validate';

/** Where the example boards live. */
export const EXAMPLES_DIR = resolve(import.meta.dirname, '../../../../examples/boards');
const BOARD_EXTENSIONS = ['.yaml', '.yml', '.json', '.ts'];

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
}

export interface LoadOptions {
  readonly models?: ModelCatalogue;
  /**
   * Called with the layered board before validation, e.g. to load the plugin modules it lists;
   * returns the catalogue of models to validate against.
   */
  readonly prepare?: (raw: Record<string, unknown>, file: string) => Promise<ModelCatalogue>;
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

/** Loads, layers (`extends`), parses and validates a board. Throws BoardError naming file and path. */
export async function loadBoard(ref: string, options: LoadOptions = {}): Promise<LoadedBoard> {
  const file = resolveBoardRef(ref);
  if (file === undefined) {
    throw new BoardError([{ file: ref, path: '', message: `no such board file or example board; examples: ${exampleBoards().join(', ') || '(none)'}` }]);
  }
  const chain: string[] = [];
  const raw = await readLayered(file, chain);
  const models = options.prepare ? await options.prepare(raw as Record<string, unknown>, file) : options.models;
  return finishBoard(raw, file, chain, models === undefined ? {} : { models });
}

/** Parses and validates an in-memory board (the TS/JSON form), `file` naming it in errors. */
export function parseBoard(raw: unknown, file = '<board>', options: LoadOptions = {}): LoadedBoard {
  return finishBoard(raw, file, [file], options);
}

function finishBoard(raw: unknown, file: string, chain: string[], options: LoadOptions): LoadedBoard {
  const result = BoardSchema.safeParse(raw);
  if (!result.success) throw new BoardError(zodIssues(result.error, raw, file));
  const issues = validateBoard(result.data, file, options.models ?? builtinModels());
  if (issues.length > 0) throw new BoardError(issues);
  const source = canonicalJson(raw);
  return { board: result.data, file, chain, source, hash: createHash('sha256').update(source).digest('hex') };
}

/**
 * Reads a board and the boards it extends, depth first: `extends: [a, b]` merges b over a, then this
 * file over both (the last wins). `chain` gets every file once, bases before the files extending them.
 */
async function readLayered(file: string, chain: string[], visiting: string[] = []): Promise<unknown> {
  if (visiting.includes(file)) {
    const first = visiting[0] ?? file;
    throw new BoardError([{ file: first, path: 'extends', message: `extends cycle: ${[...visiting, file].map((f) => basename(f)).join(' -> ')}` }]);
  }
  const raw = await readBoardFile(file);
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) {
    throw new BoardError([{ file, path: '', message: 'expected a board: a mapping with name, memory, buses, ...', found: describeValue(raw) }]);
  }
  const ext = (raw as { extends?: unknown }).extends;
  const refs = ext === undefined ? [] : Array.isArray(ext) ? (ext as unknown[]) : [ext];
  let merged: unknown = undefined;
  for (const [i, ref] of refs.entries()) {
    const path = Array.isArray(ext) ? `extends[${i}]` : 'extends';
    if (typeof ref !== 'string') throw new BoardError([{ file, path, message: 'expected a board name or path', found: describeValue(ref) }]);
    const baseFile = resolveBoardRef(ref, dirname(file));
    if (baseFile === undefined) throw new BoardError([{ file, path, message: 'no such board file or example board', found: JSON.stringify(ref) }]);
    const base = await readLayered(baseFile, chain, [...visiting, file]);
    merged = merged === undefined ? base : mergeBoards(merged, base);
  }
  if (!chain.includes(file)) chain.push(file);
  if (merged === undefined) return raw;
  const out = mergeBoards(merged, raw) as Record<string, unknown>;
  delete out.extends;
  return out;
}

async function readBoardFile(file: string): Promise<unknown> {
  const ext = extname(file);
  if (ext === '.ts') {
    try {
      const mod = (await import(pathToFileURL(file).href)) as { default?: unknown };
      if (mod.default === undefined) throw new Error('the module has no default export');
      return mod.default;
    } catch (e) {
      throw new BoardError([{ file, path: '', message: `cannot load the TS board: ${(e as Error).message}` }]);
    }
  }
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (e) {
    throw new BoardError([{ file, path: '', message: `cannot read: ${(e as Error).message}` }]);
  }
  if (ext === '.json') {
    try {
      return JSON.parse(text) as unknown;
    } catch (e) {
      throw new BoardError([{ file, path: '', message: `invalid JSON: ${(e as Error).message}` }]);
    }
  }
  const doc = parseDocument(text, { prettyErrors: true, uniqueKeys: true });
  if (doc.errors.length > 0) {
    throw new BoardError(doc.errors.map((e) => ({ file, path: e.linePos ? `line ${e.linePos[0].line}, column ${e.linePos[0].col}` : '', message: `invalid YAML: ${e.message.split('\n')[0]}` })));
  }
  return doc.toJS() as unknown;
}

function zodIssues(error: z.ZodError, raw: unknown, file: string): BoardIssue[] {
  return error.issues.map((i) => {
    const path = formatPath(i.path);
    const found = describeValue(valueAt(raw, i.path));
    switch (i.code) {
      case 'unrecognized_keys':
        return { file, path, message: `unknown key${i.keys.length > 1 ? 's' : ''} ${i.keys.map((k) => `"${k}"`).join(', ')}; expected only the keys the board format defines${splitCompatibleHint(valueAt(raw, i.path), i.keys)}` };
      case 'invalid_type':
        return { file, path, message: `expected ${i.expected}`, found };
      case 'invalid_value':
        return { file, path, message: `expected one of ${i.values.map((v) => JSON.stringify(v)).join(', ')}`, found };
      case 'invalid_union':
        return { file, path, message: unionMessage(i), found };
      default:
        return { file, path, message: i.message, found };
    }
  });
}

function unionMessage(i: z.core.$ZodIssueInvalidUnion): string {
  if (i.discriminator !== undefined && 'options' in i && i.options !== undefined) {
    return `expected "${i.discriminator}" to be one of ${i.options.map((k) => JSON.stringify(k)).join(', ')}`;
  }
  const first = i.errors.flat()[0];
  return first?.message ?? i.message;
}

/**
 * In a YAML flow mapping `{ compatible: arm,mmu-401 }` the comma ends the value, leaving a key
 * "mmu-401" with no value: say so, since the fix (quoting) is not obvious.
 */
function splitCompatibleHint(obj: unknown, keys: readonly string[]): string {
  if (typeof obj !== 'object' || obj === null) return '';
  const o = obj as Record<string, unknown>;
  const stray = keys.find((k) => o[k] === null);
  if (stray === undefined || typeof o.compatible !== 'string' || o.compatible.includes(',')) return '';
  return `; inside { ... } a comma ends a value: quote the compatible string, e.g. compatible: "${o.compatible},${stray}"`;
}

function valueAt(raw: unknown, path: readonly PropertyKey[]): unknown {
  let cur: unknown = raw;
  for (const p of path) {
    if (cur === null || typeof cur !== 'object') return undefined;
    cur = (cur as Record<PropertyKey, unknown>)[p];
  }
  return cur;
}

function canonicalJson(v: unknown): string {
  return JSON.stringify(v, (_k, val: unknown) => {
    if (val !== null && typeof val === 'object' && !Array.isArray(val)) {
      return Object.fromEntries(Object.entries(val as Record<string, unknown>).sort(([a], [b]) => a.localeCompare(b)));
    }
    return val;
  });
}
