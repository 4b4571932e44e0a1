import { ilog2 } from '@dmasim/core';
import type { BusDmaRegion, DmaRangeEntry } from '@dmasim/bus';
import type { Board, BoardBus, BoardDevice } from '../board/schema';

/** Where PCI BARs are placed: Juno's 64-bit prefetchable window, above any modelled RAM. */
export const PCI_MMIO_WINDOW_BASE = 0x40_0000_0000;
export const PCI_BAR_STRIDE = 0x100000;
/** Interrupt numbers handed out to parts the board gives none. */
export const AUTO_IRQ_BASE = 512;

/** Hands out interrupt numbers the board did not fix. */
export class IrqNumbers {
  private next = AUTO_IRQ_BASE;
  constructor(private readonly taken: Set<number>) {}

  take(fixed?: number): number {
    if (fixed !== undefined) {
      this.taken.add(fixed);
      return fixed;
    }
    while (this.taken.has(this.next)) this.next++;
    this.taken.add(this.next);
    return this.next++;
  }
}

export function boardIrqs(board: Board): Set<number> {
  const s = new Set<number>();
  for (const m of board.iommus) if (m.irq !== undefined) s.add(m.irq);
  for (const d of board.devices) if (d.irq !== undefined) s.add(d.irq);
  return s;
}

/**
 * of_dma_get_range: the first bus from the device's own upwards that has dma-ranges gives the map.
 * Returns the entries (bus → cpu) or null when no ancestor has any (no DT limit).
 */
export function dmaRangesFor(board: Board, busName: string): readonly DmaRangeEntry[] | null {
  const buses = new Map(board.buses.map((b) => [b.name, b]));
  let cur: BoardBus | undefined = buses.get(busName);
  const seen = new Set<string>();
  while (cur !== undefined && !seen.has(cur.name)) {
    seen.add(cur.name);
    if (cur.dmaRanges !== undefined && cur.dmaRanges.length > 0) return cur.dmaRanges;
    cur = cur.parent === undefined ? undefined : buses.get(cur.parent);
  }
  return null;
}

/** The device's DMA range map and bus limit from dma-ranges, with masks clipped as of_dma_configure does. */
export function dmaParamsFromRanges(ranges: readonly DmaRangeEntry[] | null, maskBits: number): { rangeMap: BusDmaRegion[] | null; busDmaLimit: number; maskBits: number } {
  if (ranges === null) return { rangeMap: null, busDmaLimit: 0, maskBits };
  const rangeMap = ranges.map((r) => ({ cpuStart: r.cpu, dmaStart: r.bus, size: r.size }));
  const end = Math.max(...ranges.map((r) => r.bus + r.size - 1));
  // DMA_BIT_MASK(ilog2(end) + 1): the smallest mask covering the highest bus address
  const bits = Math.min(maskBits, ilog2(end) + 1);
  return { rangeMap, busDmaLimit: end, maskBits: bits };
}

/**
 * Whether a device's DMA snoops the CPU caches. Platform devices are coherent only when the board says
 * so (`dma-coherent`); PCI functions behind these host bridges (which are `dma-coherent`) snoop unless
 * the board says not. The hardware's port and the kernel's view must both come from here, or the
 * kernel skips cache maintenance for a device that does not snoop.
 */
export function deviceCoherent(spec: Pick<BoardDevice, 'coherent' | 'pci'>): boolean {
  return spec.coherent ?? spec.pci !== undefined;
}

/** `01:00.0` → { bus: 1, slot: 0, fn: 0 }. */
export function parseBdf(bdf: string): { bus: number; slot: number; fn: number } {
  const m = /^([0-9a-f]{2}):([0-1][0-9a-f])\.([0-7])$/i.exec(bdf);
  if (!m) throw new RangeError(`bad bdf ${bdf}`);
  return { bus: parseInt(m[1]!, 16), slot: parseInt(m[2]!, 16), fn: parseInt(m[3]!, 10) };
}

