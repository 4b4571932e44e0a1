import { DtError } from './errors';
import { ofFindNodeByPhandle, ofPropertyCells, ofPropertyReadU32 } from './props';
import type { DtNode, DtTree } from './tree';

/** One `iommus` specifier: the IOMMU node and its #iommu-cells arguments (the stream id first). */
export interface OfIommuSpec {
  readonly iommu: DtNode;
  readonly args: readonly number[];
}

/** #iommu-cells of an IOMMU node, required for anything that refers to it. */
export function ofIommuCells(tree: DtTree, iommu: DtNode, from: DtNode, prop: string): number {
  const n = ofPropertyReadU32(tree, iommu, '#iommu-cells');
  if (n === undefined) throw new DtError(tree.file, from.path, `${prop} refers to ${iommu.path}, which has no #iommu-cells`);
  return n;
}

/** of_iommu_configure's walk of `iommus = <&smmu sid ...>`: phandle + #iommu-cells per entry. */
export function ofIommus(tree: DtTree, node: DtNode): OfIommuSpec[] {
  const cells = ofPropertyCells(tree, node, 'iommus');
  if (cells === undefined) return [];
  const out: OfIommuSpec[] = [];
  for (let i = 0; i < cells.length; ) {
    const iommu = ofFindNodeByPhandle(tree, node, 'iommus', cells[i]!);
    const n = ofIommuCells(tree, iommu, node, 'iommus');
    if (i + 1 + n > cells.length) throw new DtError(tree.file, node.path, `iommus ends inside a specifier of ${iommu.path} (#iommu-cells ${n})`);
    out.push({ iommu, args: cells.slice(i + 1, i + 1 + n) });
    i += 1 + n;
  }
  return out;
}

/** One `iommu-map` entry: requester ids [ridBase, ridBase+length) → the IOMMU's ids from outBase. */
export interface OfIdMapEntry {
  readonly ridBase: number;
  readonly iommu: DtNode;
  readonly outBase: number;
  readonly length: number;
}

/** The `iommu-map` (or `msi-map`) of a PCI host bridge: 4 cells per entry (rid-base, phandle, base, length). */
export function ofIdMap(tree: DtTree, node: DtNode, prop: 'iommu-map' | 'msi-map' = 'iommu-map'): OfIdMapEntry[] {
  const cells = ofPropertyCells(tree, node, prop);
  if (cells === undefined) return [];
  if (cells.length % 4 !== 0) throw new DtError(tree.file, node.path, `${prop} has ${cells.length} cells, not a multiple of 4 (rid-base, phandle, base, length)`);
  const out: OfIdMapEntry[] = [];
  for (let i = 0; i < cells.length; i += 4) {
    const iommu = ofFindNodeByPhandle(tree, node, prop, cells[i + 1]!);
    if (prop === 'iommu-map') {
      const n = ofIommuCells(tree, iommu, node, prop);
      if (n !== 1) throw new DtError(tree.file, node.path, `${prop} refers to ${iommu.path} with #iommu-cells ${n}; an id map needs #iommu-cells 1`);
    }
    out.push({ ridBase: cells[i]!, iommu, outBase: cells[i + 2]!, length: cells[i + 3]! });
  }
  return out;
}

/** The `iommu-map-mask` (absent: all ones, as of_map_id reads it). */
export function ofIdMapMask(tree: DtTree, node: DtNode, prop: 'iommu-map-mask' | 'msi-map-mask' = 'iommu-map-mask'): number | undefined {
  return ofPropertyReadU32(tree, node, prop);
}

/**
 * of_map_id: the IOMMU and stream id a requester id maps to, masked first. Undefined when no entry
 * covers it (the kernel then leaves the function without an IOMMU).
 */
export function ofMapId(tree: DtTree, node: DtNode, rid: number): { iommu: DtNode; id: number } | undefined {
  const mask = ofIdMapMask(tree, node) ?? 0xffffffff;
  // requester ids are 16-bit values, not addresses: a 32-bit AND is exact here
  const masked = (mask & rid) >>> 0;
  for (const e of ofIdMap(tree, node)) {
    if (masked >= e.ridBase && masked < e.ridBase + e.length) return { iommu: e.iommu, id: e.outBase + (masked - e.ridBase) };
  }
  return undefined;
}

/** One master of the legacy `mmu-masters = <&dev sid ...>` binding on an arm-smmu node. */
export interface OfMmuMaster {
  readonly master: DtNode;
  readonly streamIds: readonly number[];
}

/** The legacy binding: each master gives its #stream-id-cells, that many stream ids follow. */
export function ofMmuMasters(tree: DtTree, smmu: DtNode): OfMmuMaster[] {
  const cells = ofPropertyCells(tree, smmu, 'mmu-masters');
  if (cells === undefined) return [];
  const out: OfMmuMaster[] = [];
  for (let i = 0; i < cells.length; ) {
    const master = ofFindNodeByPhandle(tree, smmu, 'mmu-masters', cells[i]!);
    const n = ofPropertyReadU32(tree, master, '#stream-id-cells');
    if (n === undefined) throw new DtError(tree.file, smmu.path, `mmu-masters lists ${master.path}, which has no #stream-id-cells`);
    if (i + 1 + n > cells.length) throw new DtError(tree.file, smmu.path, `mmu-masters ends inside the stream ids of ${master.path} (#stream-id-cells ${n})`);
    out.push({ master, streamIds: cells.slice(i + 1, i + 1 + n) });
    i += 1 + n;
  }
  return out;
}

/**
 * Checks an IOMMU node against its binding's #iommu-cells (`expectedCells`, when a model says):
 * `#iommu-cells is 2, the arm,mmu-401 binding expects 1`.
 */
export function checkIommuBinding(tree: DtTree, iommu: DtNode, compatible: string, expectedCells?: number): void {
  const n = ofPropertyReadU32(tree, iommu, '#iommu-cells');
  if (expectedCells !== undefined && n !== undefined && n !== expectedCells) {
    throw new DtError(tree.file, iommu.path, `#iommu-cells is ${n}, the ${compatible} binding expects ${expectedCells}`);
  }
  if (n === undefined && ofPropertyCells(tree, iommu, 'mmu-masters') === undefined) {
    throw new DtError(tree.file, iommu.path, `${compatible} node has neither #iommu-cells nor the legacy mmu-masters`);
  }
}
