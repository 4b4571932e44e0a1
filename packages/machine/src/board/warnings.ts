import { FwNode } from '@dmasim/bus';
import { formatSize, GiB } from '@dmasim/core';
import { ofMapId } from '@dmasim/iommu-core';
import { parseBdf } from '../machine/layout';
import type { Board, BoardBus } from './schema';
import type { BoardIssue } from './errors';
import { iommuBoardEntry, type ModelCatalogue } from './models';

/**
 * Boards the machine runs faithfully but that are probably not what their author meant: shown by
 * `dmasim validate` and refused by `dmasim run --strict`. Each names what the kernel would do.
 */
export function boardWarnings(board: Board, file: string, models: ModelCatalogue): BoardIssue[] {
  const out: BoardIssue[] = [];
  const warn = (path: string, message: string): void => {
    out.push({ file, path, message, warning: true });
  };
  const devices = board.devices.map((d, i) => ({ d, i })).filter(({ d }) => d.status !== 'disabled');

  // swiotlb: the default pool is allocated from low memory (memblock below the DMA zone limit, 4 GiB
  // without a ZONE_DMA), so a pool larger than that RAM cannot be placed
  const tlb = board.kernel.swiotlb.size;
  const lowLimit = board.kernel.dmaZone ?? 4 * GiB;
  const low = board.memory.reduce((n, m) => n + Math.max(0, Math.min(m.base + m.size, lowLimit) - Math.min(m.base, lowLimit)), 0);
  if (tlb > 0 && tlb > low) {
    warn('kernel.swiotlb.size', `the swiotlb pool (${formatSize(tlb)}) is larger than ${low === 0 ? 'the RAM' : `the ${formatSize(low)} of RAM`} below ${formatSize(lowLimit)} it is allocated from${low === 0 ? ' (there is none)' : ''}`);
  }

  // interrupts: a fixed number given twice makes the two share a line; the models request theirs
  // without IRQF_SHARED, so the second request_irq() would fail with -EBUSY
  const irqOwners = new Map<number, string>();
  const claimIrq = (irq: number | undefined, who: string, path: string): void => {
    if (irq === undefined) return;
    const prev = irqOwners.get(irq);
    if (prev !== undefined) warn(path, `interrupt ${irq} is also used by ${prev}; two devices on one IRQ line`);
    else irqOwners.set(irq, who);
  };
  board.iommus.forEach((m, i) => claimIrq(m.irq, m.name, `iommus[${i}].irq`));
  for (const { d, i } of devices) claimIrq(d.irq, d.name, `devices[${i}].irq`);

  // ids: what the IOMMU model makes of the ids its masters emit (an SMMU: one stream match register each)
  board.iommus.forEach((m, i) => {
    const model = models.iommuCompatibles.get(m.compatible);
    const entry = iommuBoardEntry(m);
    if (model?.boardWarnings === undefined || model.checkBoardKeys(entry.keys, entry).length > 0) return;
    const ids = new Set<number>();
    for (const ms of m.masters ?? []) for (const s of ms.streamIds) ids.add(s);
    for (const { d } of devices) for (const l of d.iommus ?? []) if (l.iommu === m.name) for (const s of l.streamIds) ids.add(s);
    for (const b of board.buses) {
      const map = b.iommuMap;
      if (map?.iommu !== m.name) continue;
      for (const { d } of devices) {
        if (d.bus !== b.name || d.pci === undefined) continue;
        const sid = pciStreamId(d.pci.bdf, map);
        if (sid !== undefined) ids.add(sid);
      }
    }
    for (const p of model.boardWarnings(entry, [...ids].sort((x, y) => x - y))) warn(`iommus[${i}].${p.key}`, p.message);
  });
  return out;
}

/** The stream id a PCI function's requester id maps to through its host bridge's iommu-map, if any. */
function pciStreamId(bdf: string, map: NonNullable<BoardBus['iommuMap']>): number | undefined {
  const fw = new FwNode('pci', {});
  fw.set('iommu-map', [{ ridBase: map.ridBase, iommu: map.iommu, iommuBase: map.streamBase, length: map.length }]);
  if (map.mask !== undefined) fw.set('iommu-map-mask', map.mask);
  const { bus, slot, fn } = parseBdf(bdf);
  const r = ofMapId(fw, bus * 256 + slot * 8 + fn, null, map.iommu);
  return r.ret === 0 && r.target !== null ? r.idOut : undefined;
}
