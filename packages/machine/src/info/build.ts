import { hex } from '@dmasim/core';
import type { Machine } from '../machine/machine';
import { dmaRangesFor } from '../machine/layout';
import { buildReport } from '../report/build';
import type { DeviceReport } from '../report/types';
import type { AddressRegion, BusDmaWindows, InfoReport, IommuGroupInfo, IommuTopology, IrqLine, MasterInfo } from './types';

/** The bus a device's dma-ranges come from: its own or the nearest ancestor's (of_dma_get_range). */
function windowsOf(m: Machine, busName: string): BusDmaWindows {
  const ranges = dmaRangesFor(m.board, busName);
  const buses = new Map(m.board.buses.map((b) => [b.name, b]));
  let from: string | null = null;
  for (let cur = buses.get(busName), hops = 0; cur !== undefined && hops <= buses.size; cur = cur.parent === undefined ? undefined : buses.get(cur.parent), hops++) {
    if (cur.dmaRanges !== undefined && cur.dmaRanges.length > 0) {
      from = cur.name;
      break;
    }
  }
  return { bus: busName, from, windows: (ranges ?? []).map((r) => ({ bus: hex(r.bus), cpu: hex(r.cpu), size: hex(r.size) })) };
}

function region(start: number, size: number, kind: AddressRegion['kind'], name: string): AddressRegion & { at: number } {
  return { at: start, start: hex(start), end: hex(start + size - 1), kind, name };
}

function addressMap(m: Machine): AddressRegion[] {
  const out: (AddressRegion & { at: number })[] = [];
  m.board.memory.forEach((r, i) => out.push(region(r.base, r.size, 'ram', `ram${i}`)));
  for (const i of m.board.iommus) out.push(region(i.base, i.size, 'iommu', i.name));
  for (const e of m.hw.devices.values()) if (e.hw.mmioSize > 0) out.push(region(e.mmioBase, e.hw.mmioSize, 'mmio', e.spec.name));
  const pool = m.swiotlb?.defaultMem?.defpool;
  if (pool !== undefined) out.push(region(pool.start, pool.end - pool.start, 'swiotlb', 'swiotlb default pool'));
  // stable: by start, then the containing region (RAM) before what lies inside it
  out.sort((a, b) => a.at - b.at || (a.kind === 'ram' ? -1 : b.kind === 'ram' ? 1 : 0));
  return out.map(({ start, end, kind, name }) => ({ start, end, kind, name }));
}

function irqMap(m: Machine): IrqLine[] {
  const out: IrqLine[] = [];
  for (const i of m.board.iommus) if (i.irq !== undefined) out.push({ irq: i.irq, owner: i.name, kind: 'iommu' });
  for (const e of m.hw.devices.values()) out.push({ irq: e.irq, owner: e.spec.name, kind: 'device' });
  return out.sort((a, b) => a.irq - b.irq || a.owner.localeCompare(b.owner));
}

/**
 * instance → group → domain → devices, from the devices' IOMMU facts (groups, domains, stream
 * ids, routes) and the instance's own report section, whatever its model put there.
 */
function iommuTopology(m: Machine, devices: readonly DeviceReport[]): IommuTopology[] {
  return m.iommuReports().map((section) => {
    const { name, domains, ...facts } = section;
    const compatible = m.board.iommus.find((i) => i.name === name)?.compatible ?? '';
    const groups = new Map<number, { domain: IommuGroupInfo['domain']; devices: MasterInfo[] }>();
    const ungrouped: MasterInfo[] = [];
    for (const d of devices) {
      if (d.iommu === null || d.iommu.name !== name) continue;
      const master: MasterInfo = { device: d.name, streamIds: d.iommu.streamIds, route: d.iommu.route };
      if (d.iommu.group === null) {
        ungrouped.push(master);
        continue;
      }
      const dom = d.iommu.domain === null ? null : (domains.find((x) => x.id === d.iommu!.domain) ?? null);
      const g = groups.get(d.iommu.group) ?? { domain: dom === null ? null : { id: dom.id, type: dom.type, contextBank: dom.contextBank }, devices: [] };
      g.devices.push(master);
      groups.set(d.iommu.group, g);
    }
    return {
      name,
      compatible,
      facts,
      groups: [...groups.entries()].sort((a, b) => a[0] - b[0]).map(([group, g]) => ({ group, domain: g.domain, devices: g.devices })),
      ungrouped,
    };
  });
}

/** What `dmasim info` shows of a booted machine. */
export function buildInfo(m: Machine): InfoReport {
  const { devices } = buildReport(m, { devicesOnly: true });
  const busNames = m.board.buses.map((b) => b.name);
  return {
    board: m.board.name,
    file: m.loaded.file,
    chain: m.loaded.chain,
    overrides: m.loaded.overrides,
    resolved: m.board,
    addressMap: addressMap(m),
    dmaWindows: busNames.map((b) => windowsOf(m, b)),
    dmaLimits: devices.map((d) => ({ device: d.name, bus: d.bus, dmaLimit: d.dmaLimit, coherent: d.coherent })),
    irqs: irqMap(m),
    iommus: iommuTopology(m, devices),
  };
}
