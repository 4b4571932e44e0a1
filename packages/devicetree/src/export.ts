import { DMASIM_PROP, pciCompatible } from './dmasim-props';
import { createNode, type DtNode, type DtTree } from './tree';
import { cellsValue, EMPTY_VALUE, stringsValue, u64Cells } from './write';

/** A board as the machine parses it (all numbers), as far as export reads it. */
export interface ExportableBoard {
  readonly name: string;
  readonly description?: string | undefined;
  readonly kernel: Readonly<Record<string, unknown>>;
  readonly cpus?: number | undefined;
  readonly memory: readonly { base: number; size: number }[];
  /** IOMMUs: the keys every model has; the rest (`contextBanks`, ...) are the model's own. */
  readonly iommus: readonly {
    name: string; compatible: string; base: number; size: number; irq?: number | undefined;
    masters?: readonly { device: string; streamIds: readonly number[] }[] | undefined;
    [modelKey: string]: unknown;
  }[];
  readonly buses: readonly {
    name: string; type: 'platform' | 'amba' | 'pci'; parent?: string | undefined;
    dmaRanges?: readonly { bus: number; cpu: number; size: number }[] | undefined;
    iommuMap?: { iommu: string; ridBase: number; streamBase: number; length: number; mask?: number | undefined } | undefined;
  }[];
  readonly devices: readonly {
    name: string; compatible?: string | undefined; pci?: { bdf: string; vendor: number; device: number } | undefined; bus: string;
    base?: number | undefined; size?: number | undefined; irq?: number | undefined;
    iommus?: readonly { iommu: string; streamIds: readonly number[] }[] | undefined;
    coherent?: boolean | undefined; dmaMask?: number | undefined; status?: string | undefined; properties?: Readonly<Record<string, unknown>> | undefined;
  }[];
  readonly workloads?: readonly unknown[] | undefined;
}

/** The keys of an IOMMU entry that are DT properties; every other key is the model's, kept in `dmasim,keys`. */
const IOMMU_DT_KEYS = new Set(['name', 'compatible', 'base', 'size', 'irq', 'masters']);

/** GIC SPI specifier flags: level-high (IRQ_TYPE_LEVEL_HIGH). */
const IRQ_TYPE_LEVEL_HIGH = 4;
const GIC_SPI = 0;

/**
 * Describes a board as a device tree the kernel would boot: memory nodes, a GIC, SMMUs with
 * `#iommu-cells` (or the legacy `mmu-masters`), one simple-bus per platform/AMBA bus with its
 * effective `dma-ranges`, one ECAM host bridge per PCI bus with `iommu-map` and its functions as
 * `pciVVVV,DDDD` children, devices with `reg`, `interrupts`, `iommus`, `dma-coherent`. What a real
 * tree leaves to ID registers or the command line goes into `dmasim,*` properties, so the tree
 * imports back to the same machine. `defaultDeviceSize` is the MMIO size of a device that gives none
 * (a number, or by compatible: the model's register window);
 * `iommuCells` the #iommu-cells of an IOMMU model's binding (1: a stream id).
 */
export function boardToTree(board: ExportableBoard, defaultDeviceSize: number | ((compatible: string | undefined) => number) = 0x1000, iommuCells: (compatible: string) => number = () => 1): Pick<DtTree, 'root' | 'reservations' | 'bootCpuidPhys'> {
  const root = createNode('', null);
  let nextPhandle = 1;
  const phandles = new Map<string, number>();
  const phandleOf = (name: string, node: DtNode): number => {
    let ph = phandles.get(name);
    if (ph === undefined) {
      ph = nextPhandle++;
      phandles.set(name, ph);
      node.props.set('phandle', cellsValue(ph));
    }
    return ph;
  };
  const set = (n: DtNode, k: string, v: Uint8Array): void => void n.props.set(k, v);
  const str = (n: DtNode, k: string, ...v: string[]): void => set(n, k, stringsValue(...v));
  const u32 = (n: DtNode, k: string, ...v: number[]): void => set(n, k, cellsValue(...v));
  const reg64 = (base: number, size: number): Uint8Array => cellsValue(...u64Cells(base), ...u64Cells(size));
  const irqProp = (irq: number): Uint8Array => cellsValue(GIC_SPI, irq, IRQ_TYPE_LEVEL_HIGH);
  const childName = (parent: DtNode, base: string, unit?: number): string => {
    const clean = base.replace(/[^A-Za-z0-9,._+-]/g, '-');
    let name = unit === undefined ? clean : `${clean}@${unit.toString(16)}`;
    for (let i = 1; parent.children.some((c) => c.name === name); i++) name = `${clean}-${i}${unit === undefined ? '' : `@${unit.toString(16)}`}`;
    return name;
  };
  const dmasimExtras = (n: DtNode, d: ExportableBoard['devices'][number]): void => {
    str(n, DMASIM_PROP.name, d.name);
    if (d.dmaMask !== undefined) u32(n, DMASIM_PROP.dmaMask, d.dmaMask);
    if (d.properties !== undefined && Object.keys(d.properties).length > 0) str(n, DMASIM_PROP.options, JSON.stringify(d.properties));
    if (d.status === 'disabled') str(n, 'status', 'disabled');
  };

  str(root, 'model', board.description ?? board.name);
  str(root, 'compatible', 'dmasim,board');
  u32(root, '#address-cells', 2);
  u32(root, '#size-cells', 2);
  str(root, DMASIM_PROP.name, board.name);
  str(root, DMASIM_PROP.kernel, JSON.stringify(board.kernel));
  if (board.workloads !== undefined && board.workloads.length > 0) str(root, DMASIM_PROP.workloads, JSON.stringify(board.workloads));
  if (board.devices.length > 0) str(root, DMASIM_PROP.deviceOrder, ...board.devices.map((d) => d.name));

  if (board.cpus !== undefined) {
    const cpus = createNode('cpus', root);
    u32(cpus, '#address-cells', 1);
    u32(cpus, '#size-cells', 0);
    for (let i = 0; i < board.cpus; i++) {
      const c = createNode(`cpu@${i.toString(16)}`, cpus);
      str(c, 'device_type', 'cpu');
      str(c, 'compatible', 'arm,armv8');
      u32(c, 'reg', i);
    }
  }

  for (const m of board.memory) {
    const n = createNode(childName(root, 'memory', m.base), root);
    str(n, 'device_type', 'memory');
    set(n, 'reg', reg64(m.base, m.size));
  }

  const gic = createNode('interrupt-controller', root);
  str(gic, 'compatible', 'arm,gic-400');
  u32(gic, '#interrupt-cells', 3);
  u32(gic, '#address-cells', 0);
  set(gic, 'interrupt-controller', EMPTY_VALUE);
  u32(root, 'interrupt-parent', phandleOf('<gic>', gic));

  // devices first by name, so IOMMUs (written before them) can point at mmu-masters
  const deviceNodes = new Map<string, DtNode>();
  const iommuNodes = new Map<string, DtNode>();
  for (const m of board.iommus) {
    const n = createNode(childName(root, 'iommu', m.base), root);
    iommuNodes.set(m.name, n);
    str(n, 'compatible', m.compatible);
    set(n, 'reg', reg64(m.base, m.size));
    if (m.irq !== undefined) set(n, 'interrupts', irqProp(m.irq));
    u32(n, '#iommu-cells', iommuCells(m.compatible));
    str(n, DMASIM_PROP.name, m.name);
    const keys = Object.fromEntries(Object.entries(m).filter(([k]) => !IOMMU_DT_KEYS.has(k)));
    // always written, even empty: an exported tree says the model's keys are exactly these
    str(n, DMASIM_PROP.keys, JSON.stringify(keys));
  }

  const byName = new Map(board.buses.map((b) => [b.name, b]));
  for (const b of board.buses) {
    const n = createNode(childName(root, b.name), root);
    str(n, DMASIM_PROP.name, b.name);
    const ranges = effectiveDmaRanges(byName, b.name);
    if (b.type === 'pci') {
      str(n, 'compatible', 'pci-host-ecam-generic');
      str(n, 'device_type', 'pci');
      u32(n, '#address-cells', 3);
      u32(n, '#size-cells', 2);
      set(n, 'dma-coherent', EMPTY_VALUE);
      if (ranges !== null) u32(n, 'dma-ranges', ...ranges.flatMap((r) => [0x02000000, ...u64Cells(r.bus), ...u64Cells(r.cpu), ...u64Cells(r.size)]));
      if (b.iommuMap !== undefined) {
        const target = iommuNodes.get(b.iommuMap.iommu);
        if (target !== undefined) {
          u32(n, 'iommu-map', b.iommuMap.ridBase, phandleOf(b.iommuMap.iommu, target), b.iommuMap.streamBase, b.iommuMap.length);
          if (b.iommuMap.mask !== undefined) u32(n, 'iommu-map-mask', b.iommuMap.mask);
        }
      }
    } else {
      str(n, 'compatible', b.type === 'amba' ? 'arm,amba-bus' : 'simple-bus');
      u32(n, '#address-cells', 2);
      u32(n, '#size-cells', 2);
      set(n, 'ranges', EMPTY_VALUE);
      if (ranges !== null) u32(n, 'dma-ranges', ...ranges.flatMap((r) => [...u64Cells(r.bus), ...u64Cells(r.cpu), ...u64Cells(r.size)]));
    }
    for (const d of board.devices.filter((x) => x.bus === b.name)) {
      if (d.pci !== undefined) {
        const [bus, devfn] = d.pci.bdf.split(':') as [string, string];
        const [slot, fn] = devfn.split('.') as [string, string];
        const busNo = parseInt(bus, 16);
        const slotNo = parseInt(slot, 16);
        const fnNo = parseInt(fn, 10);
        const c = createNode(`${childName(n, d.name).split('@')[0]}@${slotNo.toString(16)},${fnNo}`, n);
        str(c, 'compatible', pciCompatible(d.pci.vendor, d.pci.device));
        u32(c, 'reg', busNo * 0x10000 + slotNo * 0x800 + fnNo * 0x100, 0, 0, 0, 0);
        if (d.coherent === false) set(c, 'dma-noncoherent', EMPTY_VALUE);
        dmasimExtras(c, d);
        deviceNodes.set(d.name, c);
        continue;
      }
      const c = createNode(childName(n, d.name, d.base ?? 0), n);
      str(c, 'compatible', ...(b.type === 'amba' ? [d.compatible ?? 'dmasim,unknown', 'arm,primecell'] : [d.compatible ?? 'dmasim,unknown']));
      set(c, 'reg', reg64(d.base ?? 0, d.size ?? (typeof defaultDeviceSize === 'number' ? defaultDeviceSize : defaultDeviceSize(d.compatible))));
      if (d.irq !== undefined) set(c, 'interrupts', irqProp(d.irq));
      if (d.coherent === true) set(c, 'dma-coherent', EMPTY_VALUE);
      const specs: number[] = [];
      for (const link of d.iommus ?? []) {
        const target = iommuNodes.get(link.iommu);
        if (target === undefined) continue;
        if (link.streamIds.length === 0) specs.push(phandleOf(link.iommu, target));
        for (const sid of link.streamIds) specs.push(phandleOf(link.iommu, target), sid);
      }
      if (specs.length > 0) u32(c, 'iommus', ...specs);
      dmasimExtras(c, d);
      deviceNodes.set(d.name, c);
    }
  }

  for (const m of board.iommus) {
    if (m.masters === undefined || m.masters.length === 0) continue;
    const cells: number[] = [];
    for (const ms of m.masters) {
      const target = deviceNodes.get(ms.device);
      if (target === undefined) continue;
      u32(target, '#stream-id-cells', ms.streamIds.length);
      cells.push(phandleOf(ms.device, target), ...ms.streamIds);
    }
    if (cells.length > 0) u32(iommuNodes.get(m.name)!, 'mmu-masters', ...cells);
  }
  return { root, reservations: [], bootCpuidPhys: 0 };
}

/** The board's own rule for a bus's DMA window: the first of it and its parents that has dma-ranges. */
function effectiveDmaRanges(buses: Map<string, ExportableBoard['buses'][number]>, name: string): readonly { bus: number; cpu: number; size: number }[] | null {
  const seen = new Set<string>();
  for (let b = buses.get(name); b !== undefined && !seen.has(b.name); b = b.parent === undefined ? undefined : buses.get(b.parent)) {
    seen.add(b.name);
    if (b.dmaRanges !== undefined && b.dmaRanges.length > 0) return b.dmaRanges;
  }
  return null;
}
