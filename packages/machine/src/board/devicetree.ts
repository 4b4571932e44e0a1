import { extname, resolve, dirname, basename } from 'node:path';
import { arm64MaxZonePhys, boardToTree, DtError, importDevicetree, MODELLED_PCI_HOSTS, readDevicetreeFile, type DtImport, type DtModels } from '@dmasim/devicetree';
import { BoardError, describeValue } from './errors';
import { mergeTracked, type Tracked } from './merge';
import { fileOrigin } from './origin';
import type { ModelCatalogue } from './models';
import type { Board } from './schema';
import { DEFAULT_MMIO_WINDOW } from '@dmasim/devices';

/** Board files that are device trees: a blob, or source compiled by dtc. */
export const DEVICETREE_EXTENSIONS = ['.dtb', '.dts'];

/** What an imported tree said beyond the board: nodes no model exists for, unmodelled IOMMUs. */
export interface DevicetreeSummary {
  /** The tree file. */
  readonly file: string;
  readonly nodes: DtImport['nodes'];
  readonly unmodelledIommus: DtImport['unmodelledIommus'];
  readonly maxDmaCpuAddress: number;
  readonly zoneDmaBits: number;
}

/** Carries the models to import against and the tree the board came from through the loader. */
export interface DevicetreeContext {
  readonly models: ModelCatalogue;
  summary?: DevicetreeSummary;
}

export function isDevicetreeFile(file: string): boolean {
  return DEVICETREE_EXTENSIONS.includes(extname(file));
}

/**
 * The machine's models as the tree import asks for them: device models by compatible, IOMMU models
 * through the plugin registry (their #iommu-cells, and their own keys for a node, which each model
 * derives; a model without that hook leaves its keys to the board).
 */
function dtModels(models: ModelCatalogue): DtModels {
  return {
    device: (c) => models.deviceCompatibles.has(c),
    iommu: (c) => {
      const m = models.iommuCompatibles.get(c);
      return m === undefined ? undefined : { iommuCells: m.iommuCells, keys: (node) => m.devicetreeKeys?.(node) ?? {} };
    },
    pciHost: (c) => MODELLED_PCI_HOSTS.includes(c),
  };
}

/** A parsed board as a device tree, IOMMU bindings from the models (what `dmasim export-dts` writes). */
export function boardTree(board: Board, models: ModelCatalogue): ReturnType<typeof boardToTree> {
  // a device without a size gets its model's register window, as the machine maps it
  return boardToTree(board, (c) => models.mmioSizes?.get(c ?? '') ?? DEFAULT_MMIO_WINDOW, (c) => models.iommuCompatibles.get(c)?.iommuCells ?? 1);
}

/** A `.dtb`/`.dts` file as a board as written (plain numbers), the summary kept in `ctx`. */
export function readDevicetreeBoard(file: string, ctx: DevicetreeContext): Record<string, unknown> {
  let imp: DtImport;
  try {
    imp = importDevicetree(readDevicetreeFile(file), dtModels(ctx.models), basename(file, extname(file)));
  } catch (e) {
    if (e instanceof DtError) throw new BoardError([{ file: e.file, path: e.where, message: e.detail }]);
    throw e;
  }
  ctx.summary = { file, nodes: imp.nodes, unmodelledIommus: imp.unmodelledIommus, maxDmaCpuAddress: imp.maxDmaCpuAddress, zoneDmaBits: imp.zoneDmaBits };
  return { ...imp.board };
}

/**
 * A board with `devicetree: file.dtb`: the tree's board first, this file's keys over it (as with
 * `extends`), each value keeping the position of the layer that wrote it.
 */
export function layerDevicetree(layer: Tracked, file: string, ctx: DevicetreeContext): Tracked {
  const raw = layer.value as Record<string, unknown>;
  const dt = raw.devicetree;
  if (dt === undefined) return layer;
  if (typeof dt !== 'string' || !isDevicetreeFile(dt)) throw new BoardError([{ file, path: 'devicetree', message: 'expected the path of a .dtb or .dts file, relative to this board', found: describeValue(dt) }]);
  const dtFile = resolve(dirname(file), dt);
  const out = mergeTracked({ value: readDevicetreeBoard(dtFile, ctx), origin: fileOrigin(dtFile) }, layer);
  delete (out.value as Record<string, unknown>).devicetree;
  return out;
}

/** After every layer: a board from a tree must have RAM, and gets the tree's ZONE_DMA limit. */
export function finishDevicetree(raw: Record<string, unknown>, ctx: DevicetreeContext): Record<string, unknown> {
  if (ctx.summary === undefined) return raw;
  if (!Array.isArray(raw.memory) || raw.memory.length === 0) {
    throw new BoardError([{ file: ctx.summary.file, path: 'memory', message: 'the tree gives no RAM (its /memory reg is empty: the firmware fills it in); give it in a YAML board: devicetree: <this file> and memory: [{ base, size }]' }]);
  }
  return devicetreeKernel(raw, ctx);
}

/**
 * ZONE_DMA for an imported real tree: the board derives it from the dma-ranges of its buses; a tree
 * node with a lower DMA limit that is no board bus (a bus without modelled devices, as the RPi4's
 * /emmc2bus could be) still limits it, so its end is given explicitly then. Trees dmasim exported
 * carry their kernel settings and are left as they are.
 */
function devicetreeKernel(raw: Record<string, unknown>, ctx: DevicetreeContext): Record<string, unknown> {
  const s = ctx.summary;
  const kernel = (raw.kernel ?? {}) as Record<string, unknown>;
  if (s === undefined || 'dmaZone' in kernel || kernel.profile === 'linux-4.2' || (kernel.arch !== undefined && kernel.arch !== 'arm64')) return raw;
  // what the board's own derivation sees: the lowest, over its buses, of the highest CPU address each reaches
  const buses = Array.isArray(raw.buses) ? (raw.buses as { dmaRanges?: { cpu: unknown; size: unknown }[] }[]) : [];
  const perBus = buses
    .map((b) => (b.dmaRanges ?? []).flatMap((r) => (typeof r.cpu === 'number' && typeof r.size === 'number' ? [r.cpu + r.size - 1] : [])))
    .filter((ends) => ends.length > 0)
    .map((ends) => Math.max(...ends));
  const boardMax = perBus.length === 0 ? Number.MAX_SAFE_INTEGER : Math.min(...perBus);
  if (s.maxDmaCpuAddress >= boardMax) return raw;
  const memory = (raw.memory as { base: number; size: number }[]).filter((m) => typeof m.base === 'number' && typeof m.size === 'number');
  return { ...raw, kernel: { ...kernel, dmaZone: arm64MaxZonePhys(s.zoneDmaBits, memory) } };
}
