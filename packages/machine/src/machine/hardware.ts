import { FwNode, PciBridgeHw, PciHostBridge, PciHostBridgeHw, type Device, type PhandleArgs } from '@dmasim/bus';
import { BusWindowTranslation, EventEmitter, hex, TranslatingDmaPort, type CoreServices, type DmaTranslation } from '@dmasim/core';
import type { DeviceHardware, DeviceModel } from '@dmasim/devices';
import type { IommuBoardEntry, IommuHardware, IommuModel } from '@dmasim/iommu-core';
import type { Board, BoardDevice } from '../board/schema';
import { BoardError } from '../board/errors';
import { iommuBoardEntry } from '../board/models';
import type { FaultReport } from '../report/types';
import { deviceCoherent, dmaRangesFor, parseBdf, PCI_BAR_STRIDE, PCI_MMIO_WINDOW_BASE, type IrqNumbers } from './layout';
import { pciIdKey } from '../board/models';
import type { PluginRegistry } from './plugins';

/** One IOMMU instance of the board: its model, its board entry, and the hardware the model built. */
export interface MachineIommu {
  readonly entry: IommuBoardEntry;
  readonly model: IommuModel;
  readonly hw: IommuHardware;
}

/** One device of the board: its model, hardware, and (once created) its kernel device. */
export interface MachineDevice {
  readonly spec: BoardDevice;
  readonly model: DeviceModel;
  /** Set once the model has created it (the DMA port needs the entry first). */
  hw: DeviceHardware;
  readonly irq: number;
  readonly mmioBase: number;
  /** The IOMMU in front of it and the ids it carries (PCI: filled after enumeration). */
  iommu: { name: string; streamIds: number[] } | null;
  /** The kernel's device: a platform device now, a PCI function after enumeration. */
  dev: Device | null;
}

/** A PCI host bridge of the board with the hardware behind it. */
export interface MachinePciHost {
  readonly busName: string;
  readonly hw: PciHostBridgeHw;
  readonly bridge: PciHostBridge;
}

export interface BuiltHardware {
  readonly iommus: Map<string, MachineIommu>;
  readonly devices: Map<string, MachineDevice>;
  readonly pciHosts: Map<string, MachinePciHost>;
  readonly faults: FaultReport[];
  /** Each IOMMU fault as a device meets it, for traces (observational only). */
  readonly events: EventEmitter<{ fault: (f: FaultReport) => void }>;
}

/**
 * Instantiates the board's hardware before the kernel boots: IOMMUs (built by their model plugins)
 * on the MMIO bus with their interrupts, every device model with its DMA port (the bus window, then
 * the hop its IOMMU model gave, then memory), and
 * PCI host bridges with root ports and functions plugged in at the board's bus:device.function.
 */
export function buildHardware(board: Board, file: string, core: CoreServices, registry: PluginRegistry, irqNumbers: IrqNumbers): BuiltHardware {
  const faults: FaultReport[] = [];
  const events = new EventEmitter<{ fault: (f: FaultReport) => void }>();
  const iommus = new Map<string, MachineIommu>();
  board.iommus.forEach((spec, i) => {
    const entry = iommuBoardEntry(spec);
    const model = registry.findIommuModel(spec.compatible);
    const fail = (key: string, message: string, found?: string): never => {
      throw new BoardError([{ file, path: `iommus[${i}].${key}`, message, ...(found !== undefined ? { found } : {}) }]);
    };
    if (model === undefined) return fail('compatible', 'no plugin provides this IOMMU model');
    iommus.set(spec.name, { entry, model, hw: model.createHardware({ core, takeIrq: (fixed) => irqNumbers.take(fixed), fail }, entry) });
  });

  // which IOMMU ids each platform device carries: its `iommus`, or the IOMMU's mmu-masters
  const platformStreams = new Map<string, { name: string; streamIds: number[] }>();
  for (const m of board.iommus) for (const ms of m.masters ?? []) platformStreams.set(ms.device, { name: m.name, streamIds: [...ms.streamIds] });
  for (const d of board.devices) {
    const link = d.iommus?.[0];
    if (link !== undefined) platformStreams.set(d.name, { name: link.iommu, streamIds: [...link.streamIds] });
  }

  const pciHosts = new Map<string, MachinePciHost>();
  for (const b of board.buses) {
    if (b.type !== 'pci') continue;
    const props: Record<string, never> = {};
    const fw = new FwNode(b.name, props);
    if (b.iommuMap !== undefined) {
      fw.set('iommu-map', [{ ridBase: b.iommuMap.ridBase, iommu: b.iommuMap.iommu, iommuBase: b.iommuMap.streamBase, length: b.iommuMap.length }]);
      if (b.iommuMap.mask !== undefined) fw.set('iommu-map-mask', b.iommuMap.mask);
    }
    const ranges = dmaRangesFor(board, b.name);
    if (ranges !== null) fw.set('dma-ranges', ranges);
    fw.set('dma-coherent', true);
    const hw = new PciHostBridgeHw(0);
    pciHosts.set(b.name, { busName: b.name, hw, bridge: new PciHostBridge(hw, fw, pciHosts.size) });
  }

  const devices = new Map<string, MachineDevice>();
  let bar = 0;
  for (const spec of board.devices) {
    if (spec.status === 'disabled') continue;
    const model = spec.pci !== undefined ? registry.findByPciId(pciIdKey(spec.pci.vendor, spec.pci.device)) : registry.findByCompatible(spec.compatible ?? '');
    if (model === undefined) throw new BoardError([{ file, path: `devices[${board.devices.indexOf(spec)}]`, message: 'no plugin provides this device model' }]);
    const irq = irqNumbers.take(spec.irq);
    const mmioBase = spec.pci !== undefined ? PCI_MMIO_WINDOW_BASE + PCI_BAR_STRIDE * bar++ : (spec.base ?? 0);
    const entry: MachineDevice = { spec, model, hw: undefined as unknown as DeviceHardware, irq, mmioBase, iommu: spec.pci === undefined ? (platformStreams.get(spec.name) ?? null) : null, dev: null };
    const hops: DmaTranslation[] = [];
    const ranges = dmaRangesFor(board, spec.bus);
    if (ranges !== null) hops.push(new BusWindowTranslation(ranges));
    const iommuName = spec.pci !== undefined ? board.buses.find((b) => b.name === spec.bus)?.iommuMap?.iommu : entry.iommu?.name;
    const iommu = iommuName === undefined ? undefined : iommus.get(iommuName);
    if (iommu !== undefined) {
      const deviceName = spec.name;
      const instance = iommu.entry.name;
      hops.push(
        iommu.hw.hop({
          device: deviceName,
          ids: () => entry.iommu?.streamIds ?? null,
          fault: (f) => {
            const report: FaultReport = { iommu: instance, device: deviceName, streamId: f.id, iova: hex(f.iova), access: f.access, kind: f.kind };
            faults.push(report);
            if (events.listenerCount('fault') > 0) events.emit('fault', report);
          },
        }),
      );
    }
    const dmaPort = new TranslatingDmaPort(core.cache, deviceCoherent(spec), hops);
    const options: Record<string, unknown> = { ...(spec.properties ?? {}) };
    entry.hw = model.createHardware({ core, name: spec.name, dmaPort, mmioBase, irq }, {
      name: spec.name,
      ...(spec.compatible !== undefined ? { compatible: spec.compatible } : {}),
      ...(spec.pci !== undefined ? { pciId: pciIdKey(spec.pci.vendor, spec.pci.device) } : {}),
      options,
    });
    devices.set(spec.name, entry);
    if (spec.pci !== undefined) plugPci(board, file, pciHosts, spec, entry);
  }
  return { iommus, devices, pciHosts, faults, events };
}

/**
 * Plugs a PCI function in. Each non-zero bus number of the board gets a root port at that slot of
 * the root bus, in ascending order, so the kernel's enumeration numbers the buses as the board did.
 */
function plugPci(board: Board, file: string, hosts: Map<string, MachinePciHost>, spec: BoardDevice, entry: MachineDevice): void {
  const host = hosts.get(spec.bus);
  const fn = entry.hw.pciFunction;
  const path = `devices[${board.devices.indexOf(spec)}]`;
  if (host === undefined || fn === undefined || spec.pci === undefined) {
    throw new BoardError([{ file, path, message: 'a PCI model must provide a PCI function on a PCI bus' }]);
  }
  const { bus, slot, fn: func } = parseBdf(spec.pci.bdf);
  if (bus === 0) {
    if (host.hw.root.functions.has(slot * 8 + func)) throw new BoardError([{ file, path: `${path}.pci.bdf`, message: 'slot taken on the root bus (by a root port or another function)', found: spec.pci.bdf }]);
    host.hw.root.attach(slot, func, fn);
    return;
  }
  if (bus > 31) throw new BoardError([{ file, path: `${path}.pci.bdf`, message: 'this model gives each bus its own root port on the root bus: bus numbers 1 to 31', found: spec.pci.bdf }]);
  // root ports for buses 1..bus so enumeration assigns the board's numbers
  for (let b = 1; b <= bus; b++) {
    if (!host.hw.root.functions.has(b * 8)) host.hw.root.attach(b, 0, new PciBridgeHw({ vendor: 0x1b36, device: 0x000c }));
  }
  const port = host.hw.root.functions.get(bus * 8);
  if (!(port instanceof PciBridgeHw)) throw new BoardError([{ file, path: `${path}.pci.bdf`, message: `slot ${bus} of the root bus holds a function, not the root port for bus ${bus}`, found: spec.pci.bdf }]);
  port.secondary.attach(slot, func, fn);
}

/** The `iommus` property of a platform device: one specifier per id, or one without ids (#iommu-cells = 0). */
export function iommusProperty(entry: MachineDevice, legacy: boolean): PhandleArgs[] | undefined {
  if (entry.iommu === null || legacy) return undefined;
  const iommu = entry.iommu;
  if (iommu.streamIds.length === 0) return [{ node: iommu.name, args: [] }];
  return iommu.streamIds.map((sid) => ({ node: iommu.name, args: [sid] }));
}
