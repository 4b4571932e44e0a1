import { parse as parseYaml } from 'yaml';
import { type BoardIssue, formatPath } from './errors';
import type { SourcePos } from './origin';
import { isOpenAt, keysAt, typesAt } from './schema-walk';
import { suggestion } from './suggest';

/** A value set from the command line, applied over the layered board. */
export interface AppliedOverride {
  /** The resolved path (names of named items turned into indices). */
  readonly path: readonly (string | number)[];
  /** What error messages cite as the place the value was written. */
  readonly at: SourcePos;
}

/**
 * Applies `--set path=value` overrides, in order, to a layered board (in place). A path is dotted:
 * `kernel.profile`, `kernel.swiotlb.size`, `devices.sata.coherent` (an item of a named list by its
 * name) or `memory[0].size` / `memory.0.size` (by index; the index past the end appends). The value is typed by the schema at that
 * path: a number, a boolean, or a string where those are allowed, YAML flow syntax (`[a, b]`,
 * `{ ... }`) for lists and objects. Returns the problems found, each naming the option.
 */
export function applyOverrides(board: Record<string, unknown>, sets: readonly string[]): { applied: AppliedOverride[]; issues: BoardIssue[] } {
  const applied: AppliedOverride[] = [];
  const issues: BoardIssue[] = [];
  for (const text of sets) {
    const file = `--set ${text}`;
    const eq = text.indexOf('=');
    if (eq <= 0) {
      issues.push({ file, path: '', message: 'expected path=value, e.g. --set kernel.profile=linux-4.2' });
      continue;
    }
    const pathText = text.slice(0, eq).trim();
    const result = setAt(board, splitPath(pathText), text.slice(eq + 1));
    if ('error' in result) issues.push({ file, path: result.at, message: result.error, ...(result.found !== undefined ? { found: result.found } : {}) });
    else applied.push({ path: result.path, at: { file } });
  }
  return { applied, issues };
}

/** `devices.sata.iommus[0].streamIds` → `['devices', 'sata', 'iommus', 0, 'streamIds']`. */
function splitPath(text: string): (string | number)[] {
  const out: (string | number)[] = [];
  for (const part of text.split('.')) {
    for (const m of part.matchAll(/([^[\]]+)|\[(\d+)\]/g)) {
      const s = m[2] ?? m[1]!;
      out.push(/^\d+$/.test(s) ? Number(s) : s);
    }
  }
  return out;
}

type SetResult = { path: (string | number)[] } | { error: string; at: string; found?: string };

function setAt(board: Record<string, unknown>, segs: readonly (string | number)[], valueText: string): SetResult {
  if (segs.length === 0) return { error: 'expected a path into the board', at: '' };
  const resolved: (string | number)[] = [];
  let cur: unknown = board;
  for (const [i, seg] of segs.entries()) {
    const last = i === segs.length - 1;
    const here = formatPath(resolved);
    if (Array.isArray(cur)) {
      let index: number;
      if (typeof seg === 'number') {
        // the index one past the end appends an item (memory[1].base=... on a board with one region)
        if (seg > cur.length) return { error: `${here} has ${cur.length} item${cur.length === 1 ? '' : 's'}; an index up to ${cur.length} (to append) is allowed`, at: here, found: `index ${seg}` };
        if (seg === cur.length && !last) cur.push({});
        index = seg;
      } else {
        const names = cur.map((x) => (x !== null && typeof x === 'object' ? (x as { name?: unknown }).name : undefined)).filter((n): n is string => typeof n === 'string');
        index = cur.findIndex((x) => x !== null && typeof x === 'object' && (x as { name?: unknown }).name === seg);
        if (index < 0) return { error: `no item named "${seg}" in ${here}${suggestion(seg, names)} (names: ${names.join(', ') || 'none'})`, at: here, found: JSON.stringify(seg) };
      }
      resolved.push(index);
      if (last) return assign(board, cur, index, resolved, valueText);
      cur = cur[index];
      continue;
    }
    if (cur === null || typeof cur !== 'object') return { error: `${here} is not an object or list`, at: here };
    if (typeof seg === 'number') return { error: `${here} is an object, not a list`, at: here, found: `index ${seg}` };
    const keys = keysAt(resolved, board);
    // a device's properties, an IOMMU model's own keys: the board checks take them from here
    if (!isOpenAt(resolved, board) && !keys.includes(seg)) return { error: `unknown key "${seg}"${suggestion(seg, keys)}; expected one of ${keys.join(', ')}`, at: formatPath([...resolved, seg]) };
    resolved.push(seg);
    const obj = cur as Record<string, unknown>;
    if (last) return assign(board, obj, seg, resolved, valueText);
    if (obj[seg] === undefined) obj[seg] = typeof segs[i + 1] === 'number' || typesAt(resolved, board).has('array') ? [] : {};
    cur = obj[seg];
  }
  return { error: 'unreachable', at: '' };
}

function assign(board: Record<string, unknown>, container: object, key: string | number, path: (string | number)[], text: string): SetResult {
  const types = typesAt(path, board);
  const typed = typeValue(text, types);
  if ('error' in typed) return { error: typed.error, at: formatPath(path), found: JSON.stringify(text) };
  (container as Record<string | number, unknown>)[key] = typed.value;
  return { path };
}

/** The value `text` stands for where the schema allows `types`. */
export function typeValue(text: string, types: ReadonlySet<string>): { value: unknown } | { error: string } {
  const t = text.trim();
  const structured = types.has('array') || types.has('object') || types.size === 0;
  if (structured && /^[[{]/.test(t)) {
    try {
      return { value: parseYaml(t) as unknown };
    } catch (e) {
      return { error: `invalid YAML flow value: ${(e as Error).message.split('\n')[0]}` };
    }
  }
  if ((types.has('boolean') || types.size === 0) && (t === 'true' || t === 'false')) return { value: t === 'true' };
  if (types.has('number') || types.has('integer') || types.size === 0) {
    if (/^-?\d+(\.\d+)?$/.test(t)) return { value: Number(t) };
    if (/^0x[0-9a-f]+$/i.test(t) && !types.has('string')) return { value: parseInt(t.slice(2), 16) };
  }
  if (types.has('string') || types.size === 0) return { value: text };
  return { error: `expected ${[...types].join(' or ')}` };
}
