import { DtError } from './errors';
import { ofDeviceIsAvailable, ofPropertyCells, ofPropertyReadU32, ofPropertyReadString, readNumber } from './props';
import type { DtNode, DtTree } from './tree';

/** Defaults when no ancestor says (OF_ROOT_NODE_ADDR_CELLS_DEFAULT, OF_ROOT_NODE_SIZE_CELLS_DEFAULT). */
export const OF_ROOT_NODE_ADDR_CELLS_DEFAULT = 2;
export const OF_ROOT_NODE_SIZE_CELLS_DEFAULT = 1;
/** OF_MAX_ADDR_CELLS: the kernel refuses more. */
export const OF_MAX_ADDR_CELLS = 4;
/** PHYS_ADDR_MAX as dmasim holds it: the largest safe integer. */
export const PHYS_ADDR_MAX = Number.MAX_SAFE_INTEGER;

/** of_bus_n_addr_cells: #address-cells of `bus` for its children, inherited upwards. */
export function ofBusNAddrCells(tree: DtTree, bus: DtNode): number {
  for (let n: DtNode | null = bus; n !== null; n = n.parent) {
    const v = ofPropertyReadU32(tree, n, '#address-cells');
    if (v !== undefined) {
      if (v > OF_MAX_ADDR_CELLS) throw new DtError(tree.file, n.path, `#address-cells is ${v}, the kernel handles at most ${OF_MAX_ADDR_CELLS}`);
      return v;
    }
  }
  return OF_ROOT_NODE_ADDR_CELLS_DEFAULT;
}

/** of_bus_n_size_cells. */
export function ofBusNSizeCells(tree: DtTree, bus: DtNode): number {
  for (let n: DtNode | null = bus; n !== null; n = n.parent) {
    const v = ofPropertyReadU32(tree, n, '#size-cells');
    if (v !== undefined) {
      if (v > 2) throw new DtError(tree.file, n.path, `#size-cells is ${v}, dmasim reads sizes of at most 2 cells`);
      return v;
    }
  }
  return OF_ROOT_NODE_SIZE_CELLS_DEFAULT;
}

/** of_n_addr_cells / of_n_size_cells: the cells of the node's own `reg` (its parent's counts). */
export function ofNAddrCells(tree: DtTree, node: DtNode): number {
  return ofBusNAddrCells(tree, node.parent ?? node);
}

export function ofNSizeCells(tree: DtTree, node: DtNode): number {
  return ofBusNSizeCells(tree, node.parent ?? node);
}

/** Whether the bus is PCI (of_bus_pci_match): 3-cell addresses with a flags cell first. */
export function isPciBus(tree: DtTree, bus: DtNode): boolean {
  const type = ofPropertyReadString(tree, bus, 'device_type');
  return type === 'pci' || type === 'pciex';
}

/** One entry of `ranges` or `dma-ranges` (struct of_range): child bus address, parent address, size. */
export interface OfRange {
  readonly busAddr: number;
  readonly parentAddr: number;
  readonly size: number;
  /** PCI phys.hi of the child address (space code in bits 24-25), 0 elsewhere. */
  readonly flags: number;
}

/**
 * Parses `ranges` or `dma-ranges` of `node` (of_range_parser): entries of the node's #address-cells,
 * its parent's #address-cells and its #size-cells. Absent: undefined; empty (`ranges;`): [].
 */
export function ofParseRanges(tree: DtTree, node: DtNode, prop: 'ranges' | 'dma-ranges'): OfRange[] | undefined {
  const cells = ofPropertyCells(tree, node, prop);
  if (cells === undefined) return undefined;
  const na = ofBusNAddrCells(tree, node);
  const pna = node.parent === null ? na : ofBusNAddrCells(tree, node.parent);
  const ns = ofBusNSizeCells(tree, node);
  const per = na + pna + ns;
  if (cells.length % per !== 0) {
    throw new DtError(tree.file, node.path, `${prop} has ${cells.length} cells, not a multiple of ${per} (#address-cells ${na} + parent #address-cells ${pna} + #size-cells ${ns})`);
  }
  const out: OfRange[] = [];
  for (let i = 0; i < cells.length; i += per) {
    out.push({
      busAddr: readNumber(tree, node, prop, cells, i, na),
      parentAddr: readNumber(tree, node, prop, cells, i + na, pna),
      size: readNumber(tree, node, prop, cells, i + na + pna, ns),
      flags: na === 3 ? cells[i]! : 0,
    });
  }
  out.forEach((r, i) => {
    for (let j = 0; j < i; j++) {
      const o = out[j]!;
      if (r.size > 0 && o.size > 0 && r.busAddr < o.busAddr + o.size && o.busAddr < r.busAddr + r.size && spaceOf(r.flags) === spaceOf(o.flags)) {
        throw new DtError(tree.file, node.path, `${prop} entries ${j} and ${i} overlap at child address 0x${r.busAddr.toString(16)}: a translation through them is ambiguous`);
      }
    }
  });
  return out;
}

/** PCI address space code (phys.hi bits 24-25): config, I/O, 32-bit or 64-bit memory. */
function spaceOf(flags: number): number {
  return Math.floor(flags / 0x1000000) % 4;
}

/**
 * Translates an address in `node`'s parent bus space up to the CPU (of_translate_address for
 * `ranges`, of_translate_dma_address for `dma-ranges`). A parent without `ranges` stops CPU
 * translation (OF_BAD_ADDR: returns undefined); a parent without `dma-ranges` is 1:1, as Linux
 * has treated it since 5.x. `flags` is the PCI space code of the address when it has one.
 */
export function ofTranslate(tree: DtTree, node: DtNode, addr: number, prop: 'ranges' | 'dma-ranges', flags = 0): number | undefined {
  let cur = addr;
  let curFlags = flags;
  for (let bus = node.parent; bus !== null && bus.parent !== null; bus = bus.parent) {
    const ranges = ofParseRanges(tree, bus, prop);
    if (ranges === undefined) {
      if (prop === 'ranges') return undefined;
      continue;
    }
    if (ranges.length === 0) continue;
    const pci = isPciBus(tree, bus);
    const hit = ranges.find((r) => cur >= r.busAddr && cur < r.busAddr + r.size && (!pci || curFlags === 0 || spaceOf(r.flags) === spaceOf(curFlags) || (spaceOf(curFlags) >= 2 && spaceOf(r.flags) >= 2)));
    if (hit === undefined) return undefined;
    cur = hit.parentAddr + (cur - hit.busAddr);
    curFlags = 0;
  }
  return cur;
}

/** One `reg` entry translated to the CPU: address (undefined when not translatable) and size. */
export interface OfReg {
  readonly busAddr: number;
  readonly cpuAddr: number | undefined;
  readonly size: number;
  readonly flags: number;
}

/** of_address_to_resource for every `reg` entry of the node. */
export function ofRegs(tree: DtTree, node: DtNode): OfReg[] {
  const cells = ofPropertyCells(tree, node, 'reg');
  if (cells === undefined) return [];
  const na = ofNAddrCells(tree, node);
  const ns = ofNSizeCells(tree, node);
  const per = na + ns;
  if (per === 0 || cells.length % per !== 0) {
    throw new DtError(tree.file, node.path, `reg has ${cells.length} cells, not a multiple of ${per} (parent #address-cells ${na} + #size-cells ${ns})`);
  }
  const out: OfReg[] = [];
  for (let i = 0; i < cells.length; i += per) {
    const busAddr = na === 0 ? 0 : readNumber(tree, node, 'reg', cells, i, na);
    const size = ns === 0 ? 0 : readNumber(tree, node, 'reg', cells, i + na, ns);
    const flags = na === 3 ? cells[i]! : 0;
    out.push({ busAddr, size, flags, cpuAddr: na === 0 ? undefined : ofTranslate(tree, node, busAddr, 'ranges', flags) });
  }
  return out;
}

/** A DMA region of a device (struct bus_dma_region): CPU address, bus (DMA) address, size. */
export interface BusDmaRegion {
  readonly cpuStart: number;
  readonly dmaStart: number;
  readonly size: number;
}

/**
 * of_dma_get_range: from `bus` upwards, the first non-empty `dma-ranges` gives the map, its CPU side
 * translated through the ancestors' dma-ranges. Empty `dma-ranges;` passes on to the parent; a node
 * with none ends the walk: no map (the device reaches what its mask allows, 1:1).
 */
export function ofDmaGetRange(tree: DtTree, bus: DtNode): { node: DtNode; regions: BusDmaRegion[] } | null {
  for (let n: DtNode | null = bus; n !== null; n = n.parent) {
    const ranges = ofParseRanges(tree, n, 'dma-ranges');
    if (ranges === undefined) return null;
    if (ranges.length === 0) continue;
    return { node: n, regions: ranges.map((r) => ({ cpuStart: dmaCpuAddr(tree, n, r), dmaStart: r.busAddr, size: r.size })) };
  }
  return null;
}

function dmaCpuAddr(tree: DtTree, node: DtNode, r: OfRange): number {
  const cpu = ofTranslate(tree, node, r.parentAddr, 'dma-ranges');
  if (cpu === undefined) throw new DtError(tree.file, node.path, `dma-ranges parent address 0x${r.parentAddr.toString(16)} is outside every dma-ranges window of the ancestors`);
  return cpu;
}

/**
 * of_dma_get_max_cpu_address: the lowest, over every available node of the subtree, of the highest
 * CPU address its dma-ranges reach. PHYS_ADDR_MAX when no node limits DMA.
 */
export function ofDmaGetMaxCpuAddress(tree: DtTree, np: DtNode = tree.root): number {
  let max = PHYS_ADDR_MAX;
  const ranges = ofParseRanges(tree, np, 'dma-ranges');
  if (ranges !== undefined && ranges.length > 0) {
    let cpuEnd = 0;
    for (const r of ranges) cpuEnd = Math.max(cpuEnd, dmaCpuAddr(tree, np, r) + r.size - 1);
    max = Math.min(max, cpuEnd);
  }
  for (const child of np.children) {
    if (!ofDeviceIsAvailable(tree, child)) continue;
    max = Math.min(max, ofDmaGetMaxCpuAddress(tree, child));
  }
  return max;
}
