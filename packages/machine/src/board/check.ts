import type { z } from 'zod';
import { BoardSchema, BusSchema, DeviceSchema, IommuSchema, KernelSchema, MemorySchema, WorkloadSchema, type Board } from './schema';
import { type BoardIssue, describeValue, formatPath, parsePath } from './errors';
import type { ModelCatalogue } from './models';
import { keysAt } from './schema-walk';
import { suggestion } from './suggest';
import { validateBoard } from './validate';
import { boardWarnings } from './warnings';

/** An issue with where to point at: the path of the value, or of a key when the key is at fault. */
export interface PlacedIssue extends BoardIssue {
  readonly at: readonly (string | number)[];
  readonly atKey?: boolean;
}

export interface BoardCheck {
  /** The parsed board; undefined when there are errors. */
  readonly board: Board | undefined;
  readonly errors: PlacedIssue[];
  readonly warnings: PlacedIssue[];
}

const LISTS = { memory: MemorySchema, iommus: IommuSchema, buses: BusSchema, devices: DeviceSchema, workloads: WorkloadSchema } as const;

/**
 * Every problem of a layered board in one pass: what the schema refuses, and what the semantic
 * checks find in the parts the schema accepts (a list item the schema refuses is left out of those,
 * and references to it are not reported again), then the warnings.
 */
export function checkBoard(raw: unknown, file: string, models: ModelCatalogue): BoardCheck {
  const full = BoardSchema.safeParse(raw);
  if (full.success) {
    const errors = validateBoard(full.data, file, models).map(placed);
    return { board: errors.length === 0 ? full.data : undefined, errors, warnings: boardWarnings(full.data, file, models).map(placed) };
  }
  const schemaErrors = zodIssues(full.error, raw, file);
  const { board, unparsed, indexOf } = partialBoard(raw);
  const remap = (i: BoardIssue): PlacedIssue => {
    const segs = parsePath(i.path);
    const original = typeof segs[0] === 'string' && typeof segs[1] === 'number' ? indexOf.get(segs[0])?.[segs[1]] : undefined;
    if (original !== undefined) segs[1] = original;
    return { ...placed(i), path: formatPath(segs), at: segs };
  };
  const semantic = validateBoard(board, file, models, { unparsed }).map(remap);
  // no warnings about a partial board: what is missing from it would make them wrong
  return { board: undefined, errors: [...schemaErrors, ...semantic], warnings: [] };
}

/** A semantic issue at its path; an unknown key (an IOMMU model's check) points at the key itself. */
function placed(i: BoardIssue): PlacedIssue {
  return { ...i, at: parsePath(i.path), ...(i.message.startsWith('unknown key') ? { atKey: true } : {}) };
}

/**
 * The parts of a board the schema accepts, each list item parsed on its own (unknown keys dropped
 * first, they are reported already), with the names of the refused items and, per list, the
 * original index of each kept item.
 */
function partialBoard(raw: unknown): { board: Board; unparsed: Set<string>; indexOf: Map<string, number[]> } {
  const r = (raw !== null && typeof raw === 'object' ? raw : {}) as Record<string, unknown>;
  const unparsed = new Set<string>();
  const indexOf = new Map<string, number[]>();
  const lists: Record<string, unknown[]> = {};
  for (const [key, schema] of Object.entries(LISTS)) {
    const items = Array.isArray(r[key]) ? (r[key] as unknown[]) : [];
    const kept: unknown[] = [];
    const idx: number[] = [];
    items.forEach((item, i) => {
      const res = (schema as z.ZodType).safeParse(withoutUnknownKeys(schema as z.ZodType, item));
      if (res.success) {
        kept.push(res.data);
        idx.push(i);
      } else {
        const n = (item as { name?: unknown } | null)?.name;
        if (typeof n === 'string') unparsed.add(n);
      }
    });
    lists[key] = kept;
    indexOf.set(key, idx);
  }
  const kernel = KernelSchema.safeParse(r.kernel ?? {});
  const board = {
    name: typeof r.name === 'string' ? r.name : '',
    kernel: kernel.success ? kernel.data : KernelSchema.parse({}),
    ...lists,
  } as unknown as Board;
  return { board, unparsed, indexOf };
}

/** A copy of `item` without the keys its schema does not know (at any depth). */
function withoutUnknownKeys(schema: z.ZodType, item: unknown): unknown {
  const res = schema.safeParse(item);
  if (res.success) return item;
  const copy = structuredClone(item);
  for (const i of res.error.issues) {
    if (i.code !== 'unrecognized_keys') continue;
    const obj = valueAt(copy, i.path) as Record<string, unknown> | undefined;
    if (obj !== undefined && typeof obj === 'object') for (const k of i.keys) delete obj[k];
  }
  return copy;
}

function zodIssues(error: z.ZodError, raw: unknown, file: string): PlacedIssue[] {
  return error.issues.flatMap((i): PlacedIssue[] => {
    const at = i.path.filter((p): p is string | number => typeof p !== 'symbol');
    const path = formatPath(at);
    const found = describeValue(valueAt(raw, at));
    const missing = valueAt(raw, at) === undefined && at.length > 0 && (i.code === 'invalid_type' || i.code === 'invalid_union');
    if (missing) return [{ file, path, at, message: `missing required key "${String(at[at.length - 1])}"` }];
    switch (i.code) {
      case 'unrecognized_keys': {
        const known = keysAt(at, raw);
        return i.keys.map((k) => ({
          file,
          path,
          at: [...at, k],
          atKey: true,
          message: `unknown key "${k}"${suggestion(k, known) || '; expected only the keys the board format defines'}${splitCompatibleHint(valueAt(raw, at), [k])}`,
        }));
      }
      case 'invalid_type':
        return [{ file, path, at, message: `expected ${i.expected}`, found }];
      case 'invalid_value':
        return [{ file, path, at, message: `expected one of ${i.values.map((v) => JSON.stringify(v)).join(', ')}${suggestion(String(valueAt(raw, at)), i.values.map(String))}`, found }];
      case 'invalid_union':
        return [{ file, path, at, message: unionMessage(i), found }];
      default:
        return [{ file, path, at, message: i.message, found }];
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
