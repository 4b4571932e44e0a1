import { fls } from '@dmasim/core';
import { ofDmaGetMaxCpuAddress, ofDmaGetRange, ofRegs, type BusDmaRegion } from './address';
import { DtError } from './errors';
import { checkIommuBinding, ofIdMap, ofIdMapMask, ofIommus, ofMmuMasters } from './iommu';
import { irqNumber, ofIrqs } from './irq';
import { ofDeviceIsAvailable, ofCompatibles, ofPropertyReadString, ofPropertyReadU32, ofPropertyCells, ofPropertyStrings } from './props';
import { OF_DEFAULT_BUS_MATCH, ofDmaIsCoherent, ofPlatformPopulate, type OfPlatformNode } from './platform';
import { type DtNode, type DtTree, walk } from './tree';
import { DMASIM_PROP, pciCompatibleId } from './dmasim-props';

/** What the machine models, asked by the import (so this package needs no machine). */
export interface DtModels {
  /** A device model exists for this compatible. */
  device(compatible: string): boolean;
  /** An IOMMU model exists for this compatible: its binding's #iommu-cells and its own board keys for a node. */
  iommu(compatible: string): DtIommuModel | undefined;
  /** A PCI host bridge the machine models (gets a PCI bus). */
  pciHost(compatible: string): boolean;
}

/** An IOMMU model as the import needs it. */
export interface DtIommuModel {
  /** `#iommu-cells` of its binding. */
  readonly iommuCells: number;
  /** The model's own keys for a node (defaults for what a tree does not carry: ID registers). */
  keys(node: { compatible: string; regSize: number; dmaCoherent: boolean }): Record<string, unknown>;
}

/** PCI host bridges dmasim's generic host models: ECAM, and Juno r1's PLDA bridge (ECAM too). */
export const MODELLED_PCI_HOSTS = ['pci-host-ecam-generic', 'pci-host-cam-generic', 'arm,juno-r1-pcie'];

/** Board-shaped plain objects (the board file's keys; the machine validates them). */
export interface DtBoardMemory { base: number; size: number }
/** An IOMMU: the keys every model has, and the model's own (`contextBanks`, ...). */
export interface DtBoardIommu {
  name: string; compatible: string; base: number; size: number; irq?: number; masters?: { device: string; streamIds: number[] }[];
  [modelKey: string]: unknown;
}
export interface DtBoardBus {
  name: string; type: 'platform' | 'amba' | 'pci';
  dmaRanges?: { bus: number; cpu: number; size: number }[];
  iommuMap?: { iommu: string; ridBase: number; streamBase: number; length: number; mask?: number };
}
export interface DtBoardDevice {
  name: string; compatible?: string; pci?: { bdf: string; vendor: number; device: number }; bus: string;
  base?: number; size?: number; irq?: number; iommus?: { iommu: string; streamIds: number[]; shared: boolean }[];
  coherent?: boolean; dmaMask?: number; status?: 'okay' | 'disabled'; properties?: Record<string, unknown>;
}
export interface DtBoard {
  name: string; description?: string; kernel: Record<string, unknown>; cpus?: number; memory: DtBoardMemory[];
  iommus: DtBoardIommu[]; buses: DtBoardBus[]; devices: DtBoardDevice[]; workloads?: unknown[];
}

/** What became of one node the kernel would populate. */
export interface DtNodeReport {
  readonly name: string;
  readonly path: string;
  readonly compatible: string;
  readonly as: 'device' | 'iommu' | 'bus' | 'pci-host' | 'no-driver' | 'iommu-unmodelled' | 'disabled';
  /** For no-driver nodes: the DMA limit the kernel gives a platform device there (32-bit default mask). */
  readonly dmaLimit?: number;
  readonly coherent?: boolean;
  /** For no-driver nodes: the board bus it sits on (named as the board's buses are). */
  readonly bus?: string;
  readonly detail?: string;
}

/** An IOMMU node the machine has no model for, and the board names of what it would translate. */
export interface DtUnmodelledIommu {
  readonly name: string;
  readonly path: string;
  readonly compatible: string;
  readonly masters: string[];
}

export interface DtImport {
  readonly board: DtBoard;
  readonly nodes: DtNodeReport[];
  readonly unmodelledIommus: DtUnmodelledIommu[];
  /** of_dma_get_max_cpu_address over the whole tree. */
  readonly maxDmaCpuAddress: number;
  /** arm64 zone_dma_bits: min(32, fls64(max DMA CPU address)). */
  readonly zoneDmaBits: number;
}

/** arm64 zone_dma_bits from the tree's lowest DMA limit. */
export function arm64ZoneDmaBits(maxDmaCpuAddress: number): number {
  return Math.min(32, fls(maxDmaCpuAddress));
}

/**
 * arm64 max_zone_phys: the end of ZONE_DMA for zone_bits, clamped to the DRAM: all of RAM when it
 * starts above 4 GiB, the first 4 GiB when it starts above the zone mask.
 */
export function arm64MaxZonePhys(zoneBits: number, memory: readonly DtBoardMemory[]): number {
  const live = memory.filter((m) => m.size > 0);
  if (live.length === 0) return 2 ** zoneBits;
  const start = Math.min(...live.map((m) => m.base));
  const end = Math.max(...live.map((m) => m.base + m.size));
  let mask = 2 ** zoneBits - 1;
  if (start > 0xffffffff) mask = Number.MAX_SAFE_INTEGER;
  else if (start > mask) mask = 0xffffffff;
  return Math.min(mask, end - 1) + 1;
}

/**
 * The DMA limit the kernel gives a device configured from `bus` with its default 32-bit mask
 * (of_dma_configure: mask clipped to cover the highest bus address, bus_dma_limit, then dma_to_phys).
 */
export function ofDmaLimit(regions: readonly BusDmaRegion[] | null, maskBits = 32): number {
  const mask = 2 ** maskBits - 1;
  if (regions === null || regions.length === 0) return mask;
  const end = Math.max(...regions.map((r) => r.dmaStart + r.size - 1));
  const limit = Math.min(mask, 2 ** fls(end) - 1, end);
  const r = regions.find((x) => limit >= x.dmaStart && limit < x.dmaStart + x.size) ?? regions[regions.length - 1]!;
  return Math.min(limit, r.dmaStart + r.size - 1) - r.dmaStart + r.cpuStart;
}

/**
 * Reads a tree as the kernel boots it and describes the machine as a board: memory from /memory,
 * platform devices as of_platform_populate creates them (named as the kernel names them), IOMMUs
 * with their masters, PCI host bridges as PCI buses with their iommu-map, DMA windows per bus from
 * dma-ranges, ZONE_DMA from the lowest DMA limit. Nodes no model exists for are reported, not lost.
 */
export function importDevicetree(tree: DtTree, models: DtModels, name?: string): DtImport {
  const nodes: DtNodeReport[] = [];
  const unmodelled = new Map<DtNode, DtUnmodelledIommu>();
  const boardName = new Map<DtNode, string>();
  const populated = ofPlatformPopulate(tree);
  const nameOf = (p: OfPlatformNode): string => ofPropertyReadString(tree, p.node, DMASIM_PROP.name) ?? p.name;
  for (const p of populated) boardName.set(p.node, nameOf(p));

  // ---- memory ----
  const memory: DtBoardMemory[] = [];
  for (const n of tree.root.children) {
    if (ofPropertyReadString(tree, n, 'device_type') !== 'memory' || !ofDeviceIsAvailable(tree, n)) continue;
    for (const r of ofRegs(tree, n)) if (r.size > 0 && r.cpuAddr !== undefined) memory.push({ base: r.cpuAddr, size: r.size });
  }
  memory.sort((a, b) => a.base - b.base);

  // ---- IOMMUs ----
  const iommus: DtBoardIommu[] = [];
  const boardIommus = new Map<DtNode, string>();
  const iommuNodes = ofIommuNodes(tree);
  for (const p of populated) {
    const compatibles = ofCompatibles(tree, p.node);
    const modelled = compatibles.find((c) => models.iommu(c) !== undefined);
    if (modelled === undefined && !iommuNodes.has(p.node)) continue;
    const iommuCompat = modelled ?? compatibles[0]!;
    const model = modelled === undefined ? undefined : models.iommu(modelled);
    checkIommuBinding(tree, p.node, iommuCompat, model?.iommuCells);
    if (!p.available) {
      nodes.push({ name: p.name, path: p.node.path, compatible: iommuCompat, as: 'disabled', detail: 'status is not "okay": no device, its masters get no IOMMU' });
      continue;
    }
    if (modelled === undefined) {
      unmodelled.set(p.node, { name: nameOf(p), path: p.node.path, compatible: iommuCompat, masters: [] });
      nodes.push({ name: nameOf(p), path: p.node.path, compatible: iommuCompat, as: 'iommu-unmodelled', detail: `no IOMMU model for ${iommuCompat}: its masters' DMA would be translated by hardware dmasim lacks` });
      continue;
    }
    const reg = ofRegs(tree, p.node)[0];
    if (reg?.cpuAddr === undefined) throw new DtError(tree.file, p.node.path, 'an IOMMU needs a reg the CPU can reach');
    const irq = ofIrqs(tree, p.node)[0];
    const spec: DtBoardIommu = {
      name: nameOf(p),
      compatible: modelled,
      base: reg.cpuAddr,
      size: reg.size,
      ...(irq !== undefined ? { irq: irqNumber(irq) } : {}),
      // a tree dmasim exported carries the model's keys as written; a real one has the model derive them
      ...(jsonProp(tree, p.node, DMASIM_PROP.keys) ?? model!.keys({ compatible: modelled, regSize: reg.size, dmaCoherent: ofDmaIsCoherent(p.node) })),
    };
    iommus.push(spec);
    boardIommus.set(p.node, spec.name);
    nodes.push({ name: spec.name, path: p.node.path, compatible: modelled, as: 'iommu' });
  }

  // ---- buses and devices ----
  const buses = new Map<string, DtBoardBus>();
  const devices: DtBoardDevice[] = [];
  const busNameFor = (p: OfPlatformNode): string => {
    const own = ofPropertyReadString(tree, p.bus, DMASIM_PROP.name);
    const base = p.bus.parent === null ? 'platform' : (boardName.get(p.bus) ?? p.bus.name);
    return own ?? (p.kind === 'amba' ? (p.bus.parent === null ? 'amba' : `${base}-amba`) : base);
  };
  const busFor = (p: OfPlatformNode): string => {
    const busName = busNameFor(p);
    if (!buses.has(busName)) {
      const range = ofDmaGetRange(tree, p.bus);
      buses.set(busName, { name: busName, type: p.kind, ...(range !== null ? { dmaRanges: range.regions.map((r) => ({ bus: r.dmaStart, cpu: r.cpuStart, size: r.size })) } : {}) });
    }
    return busName;
  };
  const streamClaims = new Map<string, DtBoardDevice[]>();
  const linkIommus = (dev: DtBoardDevice, node: DtNode): void => {
    const links: { iommu: string; streamIds: number[]; shared: boolean }[] = [];
    for (const spec of ofIommus(tree, node)) {
      const u = unmodelled.get(spec.iommu);
      if (u !== undefined) {
        u.masters.push(dev.name);
        continue;
      }
      const iommu = boardIommus.get(spec.iommu);
      if (iommu === undefined) continue; // disabled IOMMU: the kernel leaves the master on dma-direct
      let link = links.find((l) => l.iommu === iommu);
      if (link === undefined) links.push((link = { iommu, streamIds: [], shared: false }));
      if (spec.args.length > 0) link.streamIds.push(spec.args[0]!);
    }
    if (links.length > 0) dev.iommus = links;
    for (const l of links) for (const sid of l.streamIds) {
      const key = `${l.iommu}:${sid}`;
      streamClaims.set(key, [...(streamClaims.get(key) ?? []), dev]);
    }
  };

  for (const p of populated) {
    if (boardIommus.has(p.node) || unmodelled.has(p.node)) continue;
    const compatibles = ofCompatibles(tree, p.node);
    const first = compatibles[0]!;
    const nm = nameOf(p);
    if (compatibles.some((c) => OF_DEFAULT_BUS_MATCH.includes(c))) {
      nodes.push({ name: nm, path: p.node.path, compatible: first, as: p.available ? 'bus' : 'disabled' });
      continue;
    }
    const host = compatibles.find((c) => models.pciHost(c));
    if (host !== undefined && p.available) {
      buses.set(nm, pciBus(tree, p.node, nm, boardIommus, unmodelled));
      nodes.push({ name: nm, path: p.node.path, compatible: host, as: 'pci-host' });
      for (const fn of pciFunctions(tree, p.node)) {
        const dev: DtBoardDevice = { name: ofPropertyReadString(tree, fn.node, DMASIM_PROP.name) ?? `0000:${fn.bdf}`, pci: { bdf: fn.bdf, vendor: fn.vendor, device: fn.device }, bus: nm };
        if (fn.node.props.has('dma-noncoherent')) dev.coherent = false;
        extras(tree, fn.node, dev);
        devices.push(dev);
        nodes.push({ name: dev.name, path: fn.node.path, compatible: ofCompatibles(tree, fn.node)[0]!, as: 'device' });
      }
      continue;
    }
    const modelled = compatibles.find((c) => models.device(c));
    if (modelled === undefined) {
      if (!p.available) continue;
      const range = ofDmaGetRange(tree, p.bus);
      nodes.push({ name: nm, path: p.node.path, compatible: first, as: 'no-driver', dmaLimit: ofDmaLimit(range?.regions ?? null), coherent: ofDmaIsCoherent(p.node), bus: busNameFor(p) });
      for (const spec of ofIommus(tree, p.node)) unmodelled.get(spec.iommu)?.masters.push(nm);
      continue;
    }
    const reg = ofRegs(tree, p.node)[0];
    if (reg?.cpuAddr === undefined) throw new DtError(tree.file, p.node.path, `${modelled} is modelled as a device with registers, but its reg is missing or does not translate to a CPU address`);
    const irq = ofIrqs(tree, p.node)[0];
    const dev: DtBoardDevice = { name: nm, compatible: modelled, bus: busFor(p), base: reg.cpuAddr, size: reg.size, ...(irq !== undefined ? { irq: irqNumber(irq) } : {}) };
    if (ofDmaIsCoherent(p.node)) dev.coherent = true;
    if (!p.available) dev.status = 'disabled';
    extras(tree, p.node, dev);
    linkIommus(dev, p.node);
    devices.push(dev);
    nodes.push({ name: nm, path: p.node.path, compatible: modelled, as: p.available ? 'device' : 'disabled' });
  }
  // a tree dmasim exported lists the board's device order (the tree groups devices by bus)
  const order = ofPropertyStrings(tree, tree.root, DMASIM_PROP.deviceOrder);
  if (order !== undefined) {
    const rank = (d: DtBoardDevice): number => (order.includes(d.name) ? order.indexOf(d.name) : order.length);
    devices.sort((a, b) => rank(a) - rank(b));
  }
  for (const claim of streamClaims.values()) if (claim.length > 1) for (const d of claim) for (const l of d.iommus ?? []) l.shared = true;

  // legacy mmu-masters on the SMMU side
  for (const [node, iommuName] of boardIommus) {
    const masters = ofMmuMasters(tree, node).filter((m) => devices.some((d) => d.name === boardName.get(m.master)));
    if (masters.length > 0) iommus.find((i) => i.name === iommuName)!.masters = masters.map((m) => ({ device: boardName.get(m.master)!, streamIds: [...m.streamIds] }));
  }

  // num_possible_cpus(): the available cpu nodes under /cpus
  const cpuNodes = tree.root.children.find((n) => n.name === 'cpus')?.children.filter((n) => ofPropertyReadString(tree, n, 'device_type') === 'cpu' && ofDeviceIsAvailable(tree, n)) ?? [];
  const maxDmaCpuAddress = ofDmaGetMaxCpuAddress(tree);
  const zoneDmaBits = arm64ZoneDmaBits(maxDmaCpuAddress);
  const description = ofPropertyReadString(tree, tree.root, 'model');
  const board: DtBoard = {
    name: ofPropertyReadString(tree, tree.root, DMASIM_PROP.name) ?? sanitizeName(name ?? 'devicetree'),
    ...(description !== undefined ? { description } : {}),
    kernel: { arch: 'arm64', ...jsonProp(tree, tree.root, DMASIM_PROP.kernel) },
    ...(cpuNodes.length > 0 ? { cpus: cpuNodes.length } : {}),
    memory,
    iommus,
    buses: [...buses.values()],
    devices,
  };
  const workloads = jsonProp(tree, tree.root, DMASIM_PROP.workloads);
  if (Array.isArray(workloads)) board.workloads = workloads;
  return { board, nodes, unmodelledIommus: [...unmodelled.values()], maxDmaCpuAddress, zoneDmaBits };
}

/**
 * The nodes that are IOMMUs: they have #iommu-cells or the legacy mmu-masters, or some master's
 * iommus or iommu-map points at them.
 */
export function ofIommuNodes(tree: DtTree): Set<DtNode> {
  const out = new Set<DtNode>();
  for (const n of walk(tree.root)) {
    if (n.props.has('#iommu-cells') || n.props.has('mmu-masters')) out.add(n);
    const iommus = ofPropertyCells(tree, n, 'iommus');
    if (iommus !== undefined && iommus.length > 0) {
      const target = tree.phandles.get(iommus[0]!);
      if (target !== undefined) out.add(target);
    }
  }
  return out;
}

function pciBus(tree: DtTree, node: DtNode, name: string, iommus: Map<DtNode, string>, unmodelled: Map<DtNode, DtUnmodelledIommu>): DtBoardBus {
  const range = ofDmaGetRange(tree, node);
  const bus: DtBoardBus = { name, type: 'pci', ...(range !== null ? { dmaRanges: range.regions.map((r) => ({ bus: r.dmaStart, cpu: r.cpuStart, size: r.size })) } : {}) };
  const map = ofIdMap(tree, node);
  if (map.length > 1) throw new DtError(tree.file, node.path, `iommu-map has ${map.length} entries; dmasim models one requester-id window per host bridge`);
  const e = map[0];
  if (e !== undefined) {
    const u = unmodelled.get(e.iommu);
    if (u !== undefined) u.masters.push(name);
    const iommu = iommus.get(e.iommu);
    const mask = ofIdMapMask(tree, node);
    if (iommu !== undefined) bus.iommuMap = { iommu, ridBase: e.ridBase, streamBase: e.outBase, length: e.length, ...(mask !== undefined ? { mask } : {}) };
  }
  return bus;
}

/** PCI functions the tree lists under a host bridge (`compatible = "pciVVVV,DDDD"`, reg phys.hi = bus/dev/fn). */
function pciFunctions(tree: DtTree, host: DtNode): { node: DtNode; bdf: string; vendor: number; device: number }[] {
  const out: { node: DtNode; bdf: string; vendor: number; device: number }[] = [];
  for (const n of walk(host)) {
    if (n === host || !ofDeviceIsAvailable(tree, n)) continue;
    const id = ofCompatibles(tree, n).map(pciCompatibleId).find((x) => x !== undefined);
    const reg = ofPropertyCells(tree, n, 'reg');
    if (id === undefined || reg === undefined || reg.length < 1) continue;
    const hi = reg[0]!;
    const busNo = Math.floor(hi / 0x10000) % 0x100;
    const devNo = Math.floor(hi / 0x800) % 0x20;
    const fnNo = Math.floor(hi / 0x100) % 0x8;
    out.push({ node: n, bdf: `${hex2(busNo)}:${hex2(devNo)}.${fnNo}`, vendor: id.vendor, device: id.device });
  }
  return out;
}

/** What the tree carries for dmasim only (written by export-dts): DMA mask width, model options. */
function extras(tree: DtTree, node: DtNode, dev: DtBoardDevice): void {
  const mask = ofPropertyReadU32(tree, node, DMASIM_PROP.dmaMask);
  if (mask !== undefined) dev.dmaMask = mask;
  const opts = jsonProp(tree, node, DMASIM_PROP.options);
  if (opts !== undefined && typeof opts === 'object' && !Array.isArray(opts)) dev.properties = opts;
}

function jsonProp(tree: DtTree, node: DtNode, prop: string): Record<string, unknown> | undefined {
  const text = ofPropertyReadString(tree, node, prop);
  if (text === undefined) return undefined;
  try {
    return JSON.parse(text) as Record<string, unknown>;
  } catch (e) {
    throw new DtError(tree.file, node.path, `${prop} is not JSON: ${(e as Error).message}`);
  }
}

function hex2(n: number): string {
  return n.toString(16).padStart(2, '0');
}

/** A board name from a file name: letters, digits and `_.-` only, starting with a letter. */
function sanitizeName(s: string): string {
  const t = s.replace(/[^A-Za-z0-9_.-]/g, '-');
  return /^[A-Za-z]/.test(t) ? t : `dt-${t}`;
}
