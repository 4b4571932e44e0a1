import { DtError } from './errors';
import { type DtNode, type DtTree, hex32, readU32 } from './tree';

/**
 * Property readers (the kernel's of_property_read_* and of_get_property). Each returns undefined
 * for an absent property and throws DtError, naming the node, for a value of the wrong shape.
 */

/** of_property_read_bool / of_property_present: present, whatever its value. */
export function ofPropertyPresent(node: DtNode, name: string): boolean {
  return node.props.has(name);
}

/** The property as a list of u32 cells. */
export function ofPropertyCells(tree: DtTree, node: DtNode, name: string): number[] | undefined {
  const v = node.props.get(name);
  if (v === undefined) return undefined;
  if (v.length % 4 !== 0) throw new DtError(tree.file, node.path, `${name} is ${v.length} bytes, not a whole number of 32-bit cells`);
  const out: number[] = [];
  for (let i = 0; i < v.length; i += 4) out.push(readU32(v, i));
  return out;
}

/** of_property_read_u32: exactly one cell. */
export function ofPropertyReadU32(tree: DtTree, node: DtNode, name: string): number | undefined {
  const cells = ofPropertyCells(tree, node, name);
  if (cells === undefined) return undefined;
  if (cells.length !== 1) throw new DtError(tree.file, node.path, `${name} has ${cells.length} cells, expected 1`);
  return cells[0];
}

/** of_property_read_string_array: NUL-terminated strings. */
export function ofPropertyStrings(tree: DtTree, node: DtNode, name: string): string[] | undefined {
  const v = node.props.get(name);
  if (v === undefined) return undefined;
  if (v.length === 0) return [];
  if (v[v.length - 1] !== 0) throw new DtError(tree.file, node.path, `${name} is not a NUL-terminated string list`);
  const out: string[] = [];
  let start = 0;
  for (let i = 0; i < v.length; i++) {
    if (v[i] === 0) {
      out.push(latin1(v, start, i));
      start = i + 1;
    }
  }
  return out;
}

/** of_property_read_string: the first string. */
export function ofPropertyReadString(tree: DtTree, node: DtNode, name: string): string | undefined {
  return ofPropertyStrings(tree, node, name)?.[0];
}

/** The node's compatible list, most specific first (empty when it has none). */
export function ofCompatibles(tree: DtTree, node: DtNode): string[] {
  return ofPropertyStrings(tree, node, 'compatible') ?? [];
}

/** of_device_is_compatible. */
export function ofDeviceIsCompatible(tree: DtTree, node: DtNode, compatible: string): boolean {
  return ofCompatibles(tree, node).includes(compatible);
}

/** of_device_is_available: no status, "okay" or "ok". */
export function ofDeviceIsAvailable(tree: DtTree, node: DtNode): boolean {
  const status = ofPropertyReadString(tree, node, 'status');
  return status === undefined || status === 'okay' || status === 'ok';
}

/** Resolves a phandle cell, naming the property that holds it when it dangles. */
export function ofFindNodeByPhandle(tree: DtTree, node: DtNode, prop: string, phandle: number): DtNode {
  const target = tree.phandles.get(phandle);
  if (target === undefined) throw new DtError(tree.file, node.path, `${prop} refers to phandle ${hex32(phandle)}, which no node has`);
  return target;
}

/**
 * Combines `count` cells starting at `at` into one number (of_read_number). More than two cells keep
 * the low 64 bits (PCI's phys.hi carries flags); a value beyond 2^53 cannot be an address here.
 */
export function readNumber(tree: DtTree, node: DtNode, prop: string, cells: readonly number[], at: number, count: number): number {
  let n = 0;
  const first = Math.max(at, at + count - 2);
  for (let i = first; i < at + count; i++) n = n * 0x100000000 + cells[i]!;
  if (!Number.isSafeInteger(n)) throw new DtError(tree.file, node.path, `${prop} holds ${cells.slice(first, at + count).map(hex32).join(' ')}, beyond the 2^53 addresses dmasim models`);
  return n;
}

function latin1(v: Uint8Array, start: number, end: number): string {
  let s = '';
  for (let i = start; i < end; i++) s += String.fromCharCode(v[i]!);
  return s;
}
