import { DtError } from './errors';
import { createNode, type DtNode, type DtReservation, type DtTree, hex32, indexPhandles, readU32 } from './tree';

/** Flattened device tree format constants (scripts/dtc/libfdt/fdt.h). */
export const FDT_MAGIC = 0xd00dfeed;
export const FDT_BEGIN_NODE = 0x1;
export const FDT_END_NODE = 0x2;
export const FDT_PROP = 0x3;
export const FDT_NOP = 0x4;
export const FDT_END = 0x9;
/** The header is 40 bytes in version 17 (size_dt_struct is its last field). */
export const FDT_V17_SIZE = 40;
export const FDT_LAST_COMP_VERSION = 16;
export const FDT_VERSION = 17;

/** The largest nesting depth dmasim accepts (libfdt's FDT_MAX_DEPTH is 32). */
const MAX_DEPTH = 64;

/**
 * Unflattens a blob (the kernel's unflatten_device_tree over libfdt's fdt_check_header and
 * fdt_next_tag). Every structural defect is a DtError naming the file and where: bad magic, a
 * header that points outside the blob, a truncated token, a property name offset outside the
 * strings block, unbalanced nodes. Never throws anything else for any input.
 */
export function parseFdt(bytes: Uint8Array, file = '<dtb>'): DtTree {
  const fail: (where: string, detail: string) => never = (where, detail) => {
    throw new DtError(file, where, detail);
  };
  const magic = bytes.length >= 4 ? readU32(bytes, 0) : FDT_MAGIC;
  if (magic !== FDT_MAGIC) fail('header', `bad magic ${hex32(magic)}, expected ${hex32(FDT_MAGIC)} (not a flattened device tree; a .dts needs dtc)`);
  if (bytes.length < FDT_V17_SIZE) fail('header', `blob is ${bytes.length} bytes, shorter than the ${FDT_V17_SIZE}-byte FDT header (truncated?)`);
  const totalSize = readU32(bytes, 4);
  const offStruct = readU32(bytes, 8);
  const offStrings = readU32(bytes, 12);
  const offRsvmap = readU32(bytes, 16);
  const version = readU32(bytes, 20);
  const lastComp = readU32(bytes, 24);
  const bootCpuidPhys = readU32(bytes, 28);
  const sizeStrings = readU32(bytes, 32);
  const sizeStruct = readU32(bytes, 36);
  if (version < FDT_LAST_COMP_VERSION || lastComp > FDT_VERSION) fail('header', `version ${version} (last compatible ${lastComp}): only versions 16 and 17 are read`);
  if (totalSize > bytes.length) fail('header', `totalsize ${totalSize} is beyond the ${bytes.length} bytes of the blob (truncated?)`);
  const block = (name: string, off: number, size: number): void => {
    if (off > totalSize || size > totalSize - off) fail('header', `${name} block [${off}, ${off + size}) is outside the ${totalSize}-byte blob`);
  };
  block('structure', offStruct, sizeStruct);
  block('strings', offStrings, sizeStrings);
  if (offRsvmap % 8 !== 0 || offRsvmap > totalSize) fail('header', `memory reservation map offset ${offRsvmap} is misaligned or outside the blob`);
  if (offStruct % 4 !== 0) fail('header', `structure block offset ${offStruct} is not 4-byte aligned`);

  // ---- /memreserve/ ----
  const reservations: DtReservation[] = [];
  for (let p = offRsvmap; ; p += 16) {
    if (p + 16 > totalSize) fail(`offset ${hex32(p)}`, 'memory reservation map runs past the end of the blob without its terminating entry');
    const address = readU32(bytes, p) * 0x100000000 + readU32(bytes, p + 4);
    const size = readU32(bytes, p + 8) * 0x100000000 + readU32(bytes, p + 12);
    if (address === 0 && size === 0) break;
    if (!Number.isSafeInteger(address + size)) fail(`offset ${hex32(p)}`, 'memory reservation beyond the 2^53 addresses dmasim models');
    reservations.push({ address, size });
  }

  // ---- structure block ----
  const end = offStruct + sizeStruct;
  const stringAt = (nameOff: number, where: string): string => {
    if (nameOff >= sizeStrings) fail(where, `property name offset ${nameOff} is outside the ${sizeStrings}-byte strings block`);
    let s = '';
    for (let i = offStrings + nameOff; ; i++) {
      if (i >= offStrings + sizeStrings) fail(where, `property name at strings offset ${nameOff} is not NUL-terminated inside the strings block`);
      if (bytes[i] === 0) return s;
      s += String.fromCharCode(bytes[i]!);
    }
  };
  let p = offStruct;
  const token = (): number => {
    if (p + 4 > end) fail(`offset ${hex32(p)}`, 'structure block ends in the middle of a token (truncated?)');
    const t = readU32(bytes, p);
    p += 4;
    return t;
  };
  const align = (): void => {
    p = p + ((4 - (p % 4)) % 4);
  };

  let root: DtNode | null = null;
  let cur: DtNode | null = null;
  let depth = 0;
  for (;;) {
    const at = p;
    const t = token();
    if (t === FDT_BEGIN_NODE) {
      let name = '';
      for (;;) {
        if (p >= end) fail(`offset ${hex32(at)}`, 'node name runs past the end of the structure block');
        const c = bytes[p++]!;
        if (c === 0) break;
        name += String.fromCharCode(c);
      }
      align();
      if (cur === null) {
        if (root !== null) fail(`offset ${hex32(at)}`, 'a second root node after the first one ended');
        if (name !== '') fail(`offset ${hex32(at)}`, `the root node is named ${JSON.stringify(name)}, expected an empty name`);
        root = createNode('', null);
        cur = root;
      } else {
        if (name === '' || name.includes('/')) fail(`${cur.path}`, `child at offset ${hex32(at)} has an invalid name ${JSON.stringify(name)}`);
        if (cur.children.some((c) => c.name === name)) fail(cur.path, `duplicate child node ${name}`);
        cur = createNode(name, cur);
      }
      if (++depth > MAX_DEPTH) fail(cur.path, `nodes nested deeper than ${MAX_DEPTH} levels`);
    } else if (t === FDT_END_NODE) {
      if (cur === null) fail(`offset ${hex32(at)}`, 'end of a node that was never begun');
      cur = cur.parent;
      depth--;
    } else if (t === FDT_PROP) {
      if (cur === null) fail(`offset ${hex32(at)}`, 'property outside any node');
      const len = token();
      const nameOff = token();
      const name = stringAt(nameOff, cur.path);
      if (len > end - p) fail(cur.path, `property ${name} claims ${len} bytes, past the end of the structure block (truncated?)`);
      if (cur.props.has(name)) fail(cur.path, `duplicate property ${name}`);
      cur.props.set(name, bytes.slice(p, p + len));
      p += len;
      align();
    } else if (t === FDT_NOP) {
      continue;
    } else if (t === FDT_END) {
      if (cur !== null) fail(cur.path, 'structure block ends before this node is closed (truncated?)');
      break;
    } else {
      fail(`offset ${hex32(at)}`, `unknown structure token ${hex32(t)}`);
    }
  }
  if (root === null) fail('header', 'the structure block holds no root node');
  const tree: DtTree = { file, root, reservations, bootCpuidPhys, phandles: new Map() };
  indexPhandles(tree);
  return tree;
}
