import { FwNode, PciBridgeHw, PciHostBridge, PciHostBridgeHw, type Device, type PhandleArgs } from '@dmasim/bus';
import { BusWindowTranslation, TranslatingDmaPort, type CoreServices, type DmaTranslation } from '@dmasim/core';
import type { DeviceHardware, DeviceModel } from '@dmasim/devices';
import { SmmuHardware, type SmmuModel } from '@dmasim/smmu';
import type { Board, BoardDevice, BoardIommu } from '../board/schema';
import { BoardError } from '../board/errors';
import type { FaultReport } from '../report/types';
import { SmmuHop } from './iommu-hop';
import { deviceCoherent, dmaRangesFor, parseBdf, PCI_BAR_STRIDE, PCI_MMIO_WINDOW_BASE, type IrqNumbers } from './layout';
import { pciIdKey } from '../board/models';
import type { PluginRegistry } from './plugins';

const SMMU_MODELS: Record<string, SmmuModel> = {
  'arm,mmu-400': 'mmu-400',
  'arm,mmu-401': 'mmu-401',
  'arm,mmu-500': 'mmu-500',
  'arm,smmu-v1': 'smmu-v1',
  'arm,smmu-v2': 'smmu-v2',
};
/** SMMUv2 parts need one context interrupt per context bank; v1 parts may share one line. */
const SMMU_V2 = new Set<SmmuModel>(['mmu-500', 'smmu-v2']);

/** One SMMU of the board: its hardware and the platform device the driver binds to. */
export interface MachineSmmu {
  readonly spec: BoardIommu;
  readonly hw: SmmuHardware;
  readonly fwnode: FwNode;
  readonly irqs: readonly number[];
}

/** One device of the board: its model, hardware, and (once created) its kernel device. */
export interface MachineDevice {
  readonly spec: BoardDevice;
  readonly model: DeviceModel;
  /** Set once the model has created it (the DMA port needs the entry first). */
  hw: DeviceHardware;
  readonly irq: number;
  readonly mmioBase: number;
  /** The SMMU in front of it and the stream ids it carries (PCI: filled after enumeration). */
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
  readonly smmus: Map<string, MachineSmmu>;
  readonly devices: Map<string, MachineDevice>;
  readonly pciHosts: Map<string, MachinePciHost>;
  readonly faults: FaultReport[];
}

/**
 * Instantiates the board's hardware before the kernel boots: SMMUs on the MMIO bus with their
 * interrupts, every device model with its DMA port (SMMU, then memory; bus windows in front), and
 * PCI host bridges with root ports and functions plugged in at the board's bus:device.function.
 */
export function buildHardware(board: Board, file: string, core: CoreServices, registry: PluginRegistry, irqNumbers: IrqNumbers): BuiltHardware {
  const faults: FaultReport[] = [];
  const smmus = new Map<string, MachineSmmu>();
  for (const spec of board.iommus) smmus.set(spec.name, buildSmmu(board, file, spec, core, irqNumbers));

  // which SMMU stream ids each platform device carries: its `iommus`, or the SMMU's mmu-masters
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
    const smmuName = spec.pci !== undefined ? board.buses.find((b) => b.name === spec.bus)?.iommuMap?.iommu : entry.iommu?.name;
    const smmu = smmuName === undefined ? undefined : smmus.get(smmuName);
    if (smmu !== undefined) {
      hops.push(new SmmuHop(smmu.hw, smmu.spec.name, spec.name, () => entry.iommu?.streamIds[0] ?? null, faults));
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
  return { smmus, devices, pciHosts, faults };
}

function buildSmmu(board: Board, file: string, spec: BoardIommu, core: CoreServices, irqNumbers: IrqNumbers): MachineSmmu {
  const model = SMMU_MODELS[spec.compatible];
  if (model === undefined) throw new BoardError([{ file, path: `iommus[${board.iommus.indexOf(spec)}].compatible`, message: 'not an SMMU model' }]);
  const globalIrq = irqNumbers.take(spec.irq);
  const ctxIrqs = SMMU_V2.has(model) ? Array.from({ length: spec.contextBanks }, () => irqNumbers.take()) : [globalIrq];
  const hw = new SmmuHardware({
    model,
    name: spec.name,
    memory: core.memory,
    cache: core.cache,
    numContextBanks: spec.contextBanks,
    numStreamMatchRegisters: spec.streamMatchRegisters,
    coherentWalk: spec.coherentWalk,
    globalIrqs: [core.irqs.line(globalIrq)],
    contextIrqs: ctxIrqs.map((n) => core.irqs.line(n)),
  });
  if (hw.size > spec.size) {
    throw new BoardError([{ file, path: `iommus[${board.iommus.indexOf(spec)}].size`, message: `this ${spec.compatible} with ${spec.contextBanks} context banks has ${hw.size} bytes of registers`, found: String(spec.size) }]);
  }
  hw.mapInto(core.mmio, spec.base);
  const fwnode = new FwNode(spec.name, {
    compatible: [spec.compatible],
    reg: [spec.base, hw.size],
    interrupts: [globalIrq, ...ctxIrqs],
    '#global-interrupts': 1,
    '#iommu-cells': 1,
    'dma-coherent': spec.coherentWalk,
  });
  if (spec.masters !== undefined && spec.masters.length > 0) {
    fwnode.set('mmu-masters', spec.masters.map((m) => ({ node: m.device, streamIds: m.streamIds })));
  }
  return { spec, hw, fwnode, irqs: [globalIrq, ...ctxIrqs] };
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

/** The `iommus` property of a platform device: one specifier per stream id. */
export function iommusProperty(entry: MachineDevice, legacy: boolean): PhandleArgs[] | undefined {
  if (entry.iommu === null || legacy) return undefined;
  const iommu = entry.iommu;
  return iommu.streamIds.map((sid) => ({ node: iommu.name, args: [sid] }));
}
