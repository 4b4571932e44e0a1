import type { Document } from 'yaml';
import { BoardError } from './errors';

/** Largest board file read (bytes): a real board is a few KiB; beyond this it is not a board. */
export const MAX_BOARD_FILE_BYTES = 8 * 1024 * 1024;
/** Deepest nesting of mappings and lists a board may have (a board needs six levels). */
export const MAX_BOARD_DEPTH = 64;
/**
 * Aliases a board may expand (the yaml library's own guard against "billion laughs" documents;
 * a board repeating one anchor a hundred times is already odd).
 */
const MAX_ALIAS_COUNT = 100;

/** Rejects a board file too large to be a board, before reading or parsing it. */
export function checkBoardFileSize(bytes: number, file: string): void {
  if (bytes > MAX_BOARD_FILE_BYTES) {
    throw new BoardError([{ file, path: '', message: `the file is ${bytes} bytes; a board file is at most ${MAX_BOARD_FILE_BYTES} bytes` }]);
  }
}

/**
 * The plain data of a parsed YAML board, bounded: aliases may expand to at most a hundred nodes,
 * and an alias must name an anchor already defined. Each failure is a BoardError naming the file,
 * never the parser's ReferenceError.
 */
export function yamlBoardToJs(doc: Document, file: string): unknown {
  let data: unknown;
  try {
    data = doc.toJS({ maxAliasCount: MAX_ALIAS_COUNT });
  } catch (e) {
    // toJS throws ReferenceError for an alias bomb and for an alias to an anchor not yet defined
    const msg = (e as Error).message;
    const why = /Excessive alias count/.test(msg)
      ? `aliases expand beyond ${MAX_ALIAS_COUNT} nodes (an alias bomb?); write the values out instead`
      : `an alias cannot be resolved: ${msg.split('\n')[0]}`;
    throw new BoardError([{ file, path: '', message: `invalid YAML: ${why}` }]);
  }
  checkBoardDepth(data, file);
  return data;
}

/** Rejects data nested deeper than any board (iteratively: the point is not to overflow the stack). */
export function checkBoardDepth(data: unknown, file: string): void {
  const stack: [unknown, number][] = [[data, 0]];
  while (stack.length > 0) {
    const [v, depth] = stack.pop()!;
    if (v === null || typeof v !== 'object') continue;
    if (depth >= MAX_BOARD_DEPTH) throw new BoardError([{ file, path: '', message: `nesting deeper than ${MAX_BOARD_DEPTH} levels; a board is a few levels deep` }]);
    for (const child of Object.values(v)) stack.push([child, depth + 1]);
  }
}
