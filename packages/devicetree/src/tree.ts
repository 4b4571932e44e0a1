import { DtError } from './errors';

/**
 * The unflattened tree (the kernel's `struct device_node` / `struct property`): nodes with their
 * full names (`iommu@2b500000`), raw big-endian property values, children in blob order.
 */
export interface DtNode {
  /** Full name with unit address, `iommu@2b500000`; `''` for the root. */
  readonly name: string;
  readonly path: string;
  readonly parent: DtNode | null;
  readonly props: Map<string, Uint8Array>;
  readonly children: DtNode[];
}

export interface DtReservation {
  readonly address: number;
  readonly size: number;
}

export interface DtTree {
  /** Names the tree in errors (the file it came from). */
  readonly file: string;
  readonly root: DtNode;
  /** `/memreserve/` entries of the header. */
  readonly reservations: readonly DtReservation[];
  readonly bootCpuidPhys: number;
  /** phandle → node (`phandle` or `linux,phandle`), filled by `indexPhandles`. */
  readonly phandles: Map<number, DtNode>;
}

export function createNode(name: string, parent: DtNode | null): DtNode {
  const path = parent === null ? '/' : parent.path === '/' ? `/${name}` : `${parent.path}/${name}`;
  const node: DtNode = { name, path, parent, props: new Map(), children: [] };
  parent?.children.push(node);
  return node;
}

/** The node name without its unit address (the kernel's `%pOFn`). */
export function nodeBaseName(node: DtNode): string {
  const at = node.name.indexOf('@');
  return at < 0 ? node.name : node.name.slice(0, at);
}

/** Walks every node, parents before children, in blob order. */
export function* walk(node: DtNode): Generator<DtNode> {
  yield node;
  for (const c of node.children) yield* walk(c);
}

/** of_find_node_by_path: `/soc/hvs@7e400000`. */
export function findNodeByPath(tree: DtTree, path: string): DtNode | undefined {
  if (path === '/') return tree.root;
  let cur: DtNode | undefined = tree.root;
  for (const part of path.split('/').filter((p) => p !== '')) {
    cur = cur.children.find((c) => c.name === part) ?? cur.children.find((c) => nodeBaseName(c) === part && !part.includes('@'));
    if (cur === undefined) return undefined;
  }
  return cur;
}

/** Fills the phandle index; two nodes claiming one phandle is an error, as dtc reports it. */
export function indexPhandles(tree: DtTree): void {
  tree.phandles.clear();
  for (const node of walk(tree.root)) {
    for (const key of ['phandle', 'linux,phandle']) {
      const v = node.props.get(key);
      if (v === undefined) continue;
      if (v.length !== 4) throw new DtError(tree.file, node.path, `${key} is ${v.length} bytes, expected one cell (4 bytes)`);
      const ph = readU32(v, 0);
      if (ph === 0 || ph === 0xffffffff) throw new DtError(tree.file, node.path, `${key} ${hex32(ph)} is not a valid phandle`);
      const prev = tree.phandles.get(ph);
      if (prev !== undefined && prev !== node) throw new DtError(tree.file, node.path, `phandle ${hex32(ph)} is already used by ${prev.path}`);
      tree.phandles.set(ph, node);
    }
  }
}

/** A big-endian u32 (no bitwise operators: results stay unsigned). */
export function readU32(bytes: Uint8Array, offset: number): number {
  return bytes[offset]! * 0x1000000 + bytes[offset + 1]! * 0x10000 + bytes[offset + 2]! * 0x100 + bytes[offset + 3]!;
}

export function writeU32(bytes: Uint8Array, offset: number, value: number): void {
  bytes[offset] = Math.floor(value / 0x1000000) % 256;
  bytes[offset + 1] = Math.floor(value / 0x10000) % 256;
  bytes[offset + 2] = Math.floor(value / 0x100) % 256;
  bytes[offset + 3] = value % 256;
}

export function hex32(v: number): string {
  return `0x${v.toString(16)}`;
}
