import { builtinInputJsonSchema } from './json-schema';

type Json = Record<string, unknown>;

/**
 * Walks the board's JSON Schema along a path, to learn what may be written there: the keys an
 * object may have (for did-you-mean) and the JSON types a value may take (to type `--set` values).
 * Alternatives (`anyOf`, `oneOf`) are followed together; a workload's branch is picked by its `kind`
 * when the board at hand says which.
 */
export function schemasAt(path: readonly (string | number)[], board?: unknown): Json[] {
  let cur: Json[] = [builtinInputJsonSchema()];
  let value: unknown = board;
  for (const seg of path) {
    const next: Json[] = [];
    for (const s of alternatives(cur, value)) {
      if (typeof seg === 'number') {
        if (isJson(s.items)) next.push(s.items);
        continue;
      }
      const props = s.properties as Record<string, Json> | undefined;
      if (props?.[seg] !== undefined) next.push(props[seg]);
      else if (isJson(s.additionalProperties)) next.push(s.additionalProperties);
    }
    cur = next;
    value = value !== null && typeof value === 'object' ? (value as Record<string | number, unknown>)[seg] : undefined;
  }
  return alternatives(cur, value);
}

/** The keys an object at `path` may have. */
export function keysAt(path: readonly (string | number)[], board?: unknown): string[] {
  return [...new Set(schemasAt(path, board).flatMap((s) => Object.keys((s.properties as Json | undefined) ?? {})))];
}

/** Whether an object at `path` may have keys beyond `keysAt` (a property bag, an IOMMU model's own keys). */
export function isOpenAt(path: readonly (string | number)[], board?: unknown): boolean {
  return schemasAt(path, board).some((s) => isJson(s.additionalProperties));
}

/** The JSON types (`string`, `number`, `integer`, `boolean`, `array`, `object`) allowed at `path`. */
export function typesAt(path: readonly (string | number)[], board?: unknown): Set<string> {
  const out = new Set<string>();
  for (const s of schemasAt(path, board)) {
    const t = s.type;
    if (typeof t === 'string') out.add(t);
    else if (Array.isArray(t)) for (const x of t) out.add(String(x));
    if ('const' in s) out.add(jsonType(s.const));
    if (Array.isArray(s.enum)) for (const v of s.enum) out.add(jsonType(v));
  }
  return out;
}

function alternatives(schemas: readonly Json[], value: unknown): Json[] {
  const out: Json[] = [];
  const visit = (s: Json): void => {
    const branches = [...((s.anyOf as Json[] | undefined) ?? []), ...((s.oneOf as Json[] | undefined) ?? [])];
    if (branches.length === 0) {
      out.push(s);
      return;
    }
    const kind = value !== null && typeof value === 'object' ? (value as { kind?: unknown }).kind : undefined;
    const byKind = branches.filter((b) => (b.properties as Record<string, Json> | undefined)?.kind?.const === kind);
    for (const b of kind !== undefined && byKind.length > 0 ? byKind : branches) visit(b);
  };
  for (const s of schemas) visit(s);
  return out;
}

function jsonType(v: unknown): string {
  if (Array.isArray(v)) return 'array';
  if (v === null) return 'null';
  return typeof v;
}

function isJson(x: unknown): x is Json {
  return typeof x === 'object' && x !== null && !Array.isArray(x);
}
