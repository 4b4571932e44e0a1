import { hex, rangesOverlap } from '@dmasim/core';
import { DEFAULT_MMIO_WINDOW } from '@dmasim/devices';
import { PCI_BAR_STRIDE, PCI_MMIO_WINDOW_BASE } from '../machine/layout';
import type { BoardIssue } from './errors';
import { type ModelCatalogue, pciIdKey } from './models';
import type { Board } from './schema';

/** One register window the machine will map, and the board path that asks for it. */
export interface MmioWindow {
  readonly path: string;
  readonly base: number;
  readonly size: number;
}

/**
 * Every register window the machine maps for this board: IOMMUs at their `base` and `size`,
 * platform devices at `base` with their model's window (or the board's larger `size`), and PCI
 * functions' BAR 0, placed one stride apart in the host window in board order, as the machine
 * places them when it builds the hardware.
 */
export function mmioWindows(board: Board, models: ModelCatalogue): MmioWindow[] {
  const out: MmioWindow[] = board.iommus.map((m, i) => ({ path: `iommus[${i}]`, base: m.base, size: m.size }));
  let bar = 0;
  board.devices.forEach((d, i) => {
    const key = d.pci !== undefined ? pciIdKey(d.pci.vendor, d.pci.device) : (d.compatible ?? '');
    const modelSize = models.mmioSizes?.get(key) ?? DEFAULT_MMIO_WINDOW;
    if (d.pci !== undefined) {
      if (d.status !== 'disabled') out.push({ path: `devices[${i}] (PCI BAR 0)`, base: PCI_MMIO_WINDOW_BASE + PCI_BAR_STRIDE * bar++, size: modelSize });
    } else if (d.base !== undefined) {
      out.push({ path: `devices[${i}]`, base: d.base, size: Math.max(modelSize, d.size ?? 0) });
    }
  });
  return out;
}

/** Windows that overlap each other or RAM, each issue naming both paths. */
export function validateMmioWindows(board: Board, file: string, models: ModelCatalogue): BoardIssue[] {
  const issues: BoardIssue[] = [];
  const range = (base: number, size: number): string => `${hex(base)}-${hex(base + size - 1)}`;
  const windows = mmioWindows(board, models);
  for (const [i, j] of overlapPairs(windows)) {
    const first = windows[i]!;
    const second = windows[j]!;
    issues.push({ file, path: `${second.path.replace(/ \(PCI BAR 0\)$/, '')}.base`, message: `MMIO range overlaps ${first.path} (${range(first.base, first.size)})`, found: `${range(second.base, second.size)}${second.path.endsWith(')') ? ' (its PCI BAR 0)' : ''}` });
  }
  for (const r of windows) {
    board.memory.forEach((m, k) => {
      if (rangesOverlap(r.base, r.size, m.base, m.size)) issues.push({ file, path: `${r.path.replace(/ \(PCI BAR 0\)$/, '')}.base`, message: `MMIO range overlaps RAM memory[${k}] (${range(m.base, m.size)})`, found: `${range(r.base, r.size)}${r.path.endsWith(')') ? ' (its PCI BAR 0)' : ''}` });
    });
  }
  return issues;
}

/**
 * Overlapping ranges as pairs of indices `[earlier, later]` in list order, each range reported at
 * most once: sorted by base, a range overlaps when it starts before the furthest end seen so far,
 * and is paired with the range reaching furthest. Linear after the sort, so a board with a thousand
 * copies of one window gets a thousand issues, not half a million.
 */
export function overlapPairs(ranges: readonly { readonly base: number; readonly size: number }[]): [number, number][] {
  const order = ranges.map((_, i) => i).sort((a, b) => ranges[a]!.base - ranges[b]!.base || a - b);
  const pairs: [number, number][] = [];
  let reach: number | undefined;
  for (const i of order) {
    const r = ranges[i]!;
    if (r.size <= 0) continue;
    if (reach !== undefined) {
      const o = ranges[reach]!;
      if (r.base < o.base + o.size) pairs.push(reach < i ? [reach, i] : [i, reach]);
      if (r.base + r.size <= o.base + o.size) continue;
    }
    reach = i;
  }
  return pairs;
}
