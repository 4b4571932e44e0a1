import { isMap, isPair, isScalar, isSeq, type LineCounter, type Node as YamlNode } from 'yaml';

/** Where a value was written: a file and, when the file has positions, the 1-based line and column. */
export interface SourcePos {
  readonly file: string;
  readonly line?: number;
  readonly column?: number;
}

/**
 * The origin of every value of a board, mirroring its shape: which file (and line) set it. Merging
 * layers merges their origins the same way, so a value in a merged board points at the layer that
 * last wrote it, not at a position in the merged result.
 */
export interface Origin {
  readonly at: SourcePos;
  /** Where the value is inside its own file (`devices[1]` there may be `devices[9]` once merged). */
  readonly path: readonly (string | number)[];
  /** Mapping entries: where the key is written and where its value came from. */
  readonly keys?: ReadonlyMap<string, { readonly key: SourcePos; readonly value: Origin }>;
  readonly items?: readonly Origin[];
}

/** The origin tree of a parsed YAML (or JSON) document's contents. */
export function yamlOrigin(node: unknown, file: string, lines: LineCounter, path: readonly (string | number)[] = []): Origin {
  const pos = (n: unknown): SourcePos => {
    const range = (n as { range?: [number, number, number] } | null)?.range;
    if (range === undefined) return { file };
    const { line, col } = lines.linePos(range[0]);
    return { file, line, column: col };
  };
  if (isMap(node)) {
    const keys = new Map<string, { key: SourcePos; value: Origin }>();
    for (const pair of node.items) {
      if (!isPair(pair)) continue;
      const k = isScalar(pair.key) ? String(pair.key.value) : String(pair.key);
      const keyPos = pos(pair.key);
      keys.set(k, { key: keyPos, value: pair.value === null ? { at: keyPos, path: [...path, k] } : yamlOrigin(pair.value, file, lines, [...path, k]) });
    }
    return { at: pos(node), path, keys };
  }
  if (isSeq(node)) return { at: pos(node), path, items: node.items.map((n, i) => yamlOrigin(n as YamlNode, file, lines, [...path, i])) };
  return { at: pos(node), path };
}

/** An origin with no positions inside: every value of it comes from `file` (TS boards, in-memory boards). */
export function fileOrigin(file: string, path: readonly (string | number)[] = []): Origin {
  return { at: { file }, path };
}

/**
 * Where the value at `path` (of the merged board) was written, and its path in that file. For a path
 * into something that is not there (a missing key), the nearest enclosing value; with `key`, the
 * position of the last segment's key rather than of its value.
 */
export function locate(origin: Origin | undefined, path: readonly (string | number)[], key = false): { pos: SourcePos; path: (string | number)[] } | undefined {
  if (origin === undefined) return undefined;
  let cur = origin;
  let at = origin.at;
  let i = 0;
  for (; i < path.length; i++) {
    const seg = path[i]!;
    if (typeof seg === 'number') {
      const item = cur.items?.[seg];
      if (item === undefined) break;
      cur = item;
      at = item.at;
      continue;
    }
    const entry = cur.keys?.get(seg);
    if (entry === undefined) break;
    at = key && i === path.length - 1 ? entry.key : entry.value.at;
    cur = entry.value;
  }
  return { pos: at, path: [...cur.path, ...path.slice(i)] };
}
