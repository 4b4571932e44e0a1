import { FDT_BEGIN_NODE, FDT_END, FDT_END_NODE, FDT_LAST_COMP_VERSION, FDT_MAGIC, FDT_PROP, FDT_V17_SIZE, FDT_VERSION } from './fdt';
import { type DtNode, type DtTree, readU32, writeU32 } from './tree';

/** Property values for building trees in code (what dtc makes of `<...>`, `"..."` and `;`). */
export function cellsValue(...cells: readonly number[]): Uint8Array {
  const out = new Uint8Array(cells.length * 4);
  cells.forEach((c, i) => writeU32(out, i * 4, c));
  return out;
}

export function stringsValue(...strings: readonly string[]): Uint8Array {
  const out: number[] = [];
  for (const s of strings) {
    for (let i = 0; i < s.length; i++) out.push(s.charCodeAt(i) % 256);
    out.push(0);
  }
  return Uint8Array.from(out);
}

export const EMPTY_VALUE = new Uint8Array(0);

/** A 64-bit value as two cells (hi, lo). */
export function u64Cells(v: number): [number, number] {
  return [Math.floor(v / 0x100000000), v % 0x100000000];
}

/** Flattens a tree into a version 17 blob (what dtc -O dtb writes). */
export function serializeFdt(tree: Pick<DtTree, 'root' | 'reservations' | 'bootCpuidPhys'>): Uint8Array {
  const strings: number[] = [];
  const stringOffsets = new Map<string, number>();
  const nameOff = (name: string): number => {
    let off = stringOffsets.get(name);
    if (off === undefined) {
      off = strings.length;
      stringOffsets.set(name, off);
      for (let i = 0; i < name.length; i++) strings.push(name.charCodeAt(i) % 256);
      strings.push(0);
    }
    return off;
  };
  const struct: number[] = [];
  const u32 = (v: number): void => {
    struct.push(Math.floor(v / 0x1000000) % 256, Math.floor(v / 0x10000) % 256, Math.floor(v / 0x100) % 256, v % 256);
  };
  const pad = (): void => {
    while (struct.length % 4 !== 0) struct.push(0);
  };
  const emit = (node: DtNode): void => {
    u32(FDT_BEGIN_NODE);
    for (let i = 0; i < node.name.length; i++) struct.push(node.name.charCodeAt(i) % 256);
    struct.push(0);
    pad();
    for (const [name, value] of node.props) {
      u32(FDT_PROP);
      u32(value.length);
      u32(nameOff(name));
      for (const b of value) struct.push(b);
      pad();
    }
    for (const c of node.children) emit(c);
    u32(FDT_END_NODE);
  };
  emit(tree.root);
  u32(FDT_END);

  const rsvmap = (tree.reservations.length + 1) * 16;
  const offRsvmap = FDT_V17_SIZE;
  const offStruct = offRsvmap + rsvmap;
  const offStrings = offStruct + struct.length;
  const total = offStrings + strings.length;
  const out = new Uint8Array(total);
  const header = [FDT_MAGIC, total, offStruct, offStrings, offRsvmap, FDT_VERSION, FDT_LAST_COMP_VERSION, tree.bootCpuidPhys, strings.length, struct.length];
  header.forEach((v, i) => writeU32(out, i * 4, v));
  tree.reservations.forEach((r, i) => {
    const [ah, al] = u64Cells(r.address);
    const [sh, sl] = u64Cells(r.size);
    [ah, al, sh, sl].forEach((v, j) => writeU32(out, offRsvmap + i * 16 + j * 4, v));
  });
  out.set(struct, offStruct);
  out.set(strings, offStrings);
  return out;
}

/**
 * Writes the tree as DTS source that dtc compiles back to the same tree. Values are rendered as
 * dtc's decompiler does: string lists when every byte is printable and NUL-separated, cells when the
 * length is a multiple of 4, bytes otherwise.
 */
export function writeDts(tree: Pick<DtTree, 'root' | 'reservations'>, header: readonly string[] = []): string {
  const lines: string[] = ['/dts-v1/;', ...header.map((h) => `// ${h}`), ''];
  for (const r of tree.reservations) lines.push(`/memreserve/ 0x${r.address.toString(16)} 0x${r.size.toString(16)};`);
  const emit = (node: DtNode, indent: string): void => {
    lines.push(`${indent}${node.parent === null ? '/' : node.name} {`);
    for (const [name, value] of node.props) lines.push(`${indent}\t${name}${value.length === 0 ? '' : ` = ${renderValue(value)}`};`);
    for (const c of node.children) {
      lines.push('');
      emit(c, `${indent}\t`);
    }
    lines.push(`${indent}};`);
  };
  emit(tree.root, '');
  return `${lines.join('\n')}\n`;
}

function renderValue(v: Uint8Array): string {
  if (isStringList(v)) {
    const parts: string[] = [];
    let s = '';
    for (const b of v) {
      if (b === 0) {
        parts.push(JSON.stringify(s));
        s = '';
      } else s += String.fromCharCode(b);
    }
    return parts.join(', ');
  }
  if (v.length % 4 === 0) {
    const cells: string[] = [];
    for (let i = 0; i < v.length; i += 4) cells.push(`0x${readU32(v, i).toString(16)}`);
    return `<${cells.join(' ')}>`;
  }
  return `[${[...v].map((b) => b.toString(16).padStart(2, '0')).join(' ')}]`;
}

function isStringList(v: Uint8Array): boolean {
  if (v.length === 0 || v[v.length - 1] !== 0 || v[0] === 0) return false;
  for (let i = 0; i < v.length; i++) {
    const b = v[i]!;
    if (b === 0) {
      if (v[i - 1] === 0) return false;
    } else if (b < 0x20 || b > 0x7e) return false;
  }
  return true;
}
