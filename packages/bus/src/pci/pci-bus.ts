import { ENODEV, type KernelLog } from '@dmasim/core';
import { BusType } from '../bus-type';
import { Device } from '../device';
import type { DeviceDriver } from '../driver';
import type { DriverCore } from '../driver-core';
import { FwNode } from '../fwnode';
import {
  PCI_CLASS_REVISION,
  PCI_DEVICE_ID,
  PCI_HEADER_TYPE,
  PCI_HEADER_TYPE_BRIDGE,
  PCI_HEADER_TYPE_MASK,
  PCI_HEADER_TYPE_MFD,
  PCI_PRIMARY_BUS,
  PCI_SECONDARY_BUS,
  PCI_SUBORDINATE_BUS,
  PCI_SUBSYSTEM_ID,
  PCI_SUBSYSTEM_VENDOR_ID,
  PCI_VENDOR_ID,
  pciDevfn,
  pciDevid,
  pciFunc,
  pciName,
  pciSlot,
} from './config';
import type { PciHostBridgeHw } from './hw';

/** PCI_ANY_ID: a wildcard in an id table. */
export const PCI_ANY_ID = 0xffffffff;

/** struct pci_device_id. */
export interface PciDeviceId {
  readonly vendor: number;
  readonly device: number;
  readonly subvendor?: number;
  readonly subdevice?: number;
  /** Class code compared under classMask. */
  readonly class?: number;
  readonly classMask?: number;
  readonly data?: unknown;
}

/** The host bridge device (`pci0000:00`): root of a PCI hierarchy, not itself on the PCI bus. */
export class PciHostBridge extends Device {
  constructor(
    readonly hw: PciHostBridgeHw,
    /** Its firmware node carries `iommu-map`, `dma-ranges`, `dma-coherent` for the whole hierarchy. */
    fwnode: FwNode,
    readonly domain = 0,
    parent: Device | null = null,
  ) {
    super(`pci${domain.toString(16).padStart(4, '0')}:${hw.rootBusNr.toString(16).padStart(2, '0')}`, fwnode, parent);
  }
}

/** struct pci_dev: one enumerated function. */
export class PciDev extends Device {
  driverOverride: string | null = null;
  /** The id-table entry that matched, set before probe. */
  idEntry: PciDeviceId | null = null;
  /** Functions found on this bridge's secondary bus (empty for an endpoint). */
  readonly children: PciDev[] = [];
  /** Secondary and subordinate bus numbers assigned to a bridge. */
  secondaryBus = 0;
  subordinateBus = 0;

  constructor(
    readonly hostBridge: PciHostBridge,
    readonly busNr: number,
    readonly devfn: number,
    readonly vendor: number,
    readonly device: number,
    readonly classCode: number,
    readonly revision: number,
    readonly subsystemVendor: number,
    readonly subsystemDevice: number,
    readonly headerType: number,
    parent: Device,
  ) {
    const name = pciName(hostBridge.domain, busNr, devfn);
    super(name, new FwNode(name), parent);
    // pci_setup_device(): PCI functions start with 64 KiB segments that must not cross 4 GiB
    this.dma.maxSegmentSize = 65536;
    this.dma.segmentBoundaryMask = 0xffffffff;
  }

  get slot(): number {
    return pciSlot(this.devfn);
  }

  get func(): number {
    return pciFunc(this.devfn);
  }

  /** The requester id (PCI_DEVID) this function's DMA carries: what `iommu-map` translates. */
  get requesterId(): number {
    return pciDevid(this.busNr, this.devfn);
  }

  get isBridge(): boolean {
    return (this.headerType & PCI_HEADER_TYPE_MASK) === PCI_HEADER_TYPE_BRIDGE;
  }

  /** The upstream bridge (pci_upstream_bridge), or null for a function on the root bus. */
  get upstreamBridge(): PciDev | null {
    return this.parent instanceof PciDev ? this.parent : null;
  }
}

/** struct pci_driver. */
export interface PciDriver extends DeviceDriver {
  readonly idTable: readonly PciDeviceId[];
  probe?(dev: PciDev, id: PciDeviceId): number;
  remove?(dev: PciDev): void;
}

/** pci_match_one_device / pci_match_id. */
export function pciMatchId(table: readonly PciDeviceId[], dev: PciDev): PciDeviceId | null {
  for (const id of table) {
    const any = (want: number | undefined, have: number): boolean => want === undefined || want === PCI_ANY_ID || want === have;
    if (!any(id.vendor, dev.vendor) || !any(id.device, dev.device)) continue;
    if (!any(id.subvendor, dev.subsystemVendor) || !any(id.subdevice, dev.subsystemDevice)) continue;
    // class codes are 24-bit register values
    if ((((id.class ?? 0) ^ dev.classCode) & (id.classMask ?? 0)) !== 0) continue;
    return id;
  }
  return null;
}

/** The PCI bus type (`pci_bus_type`), with enumeration of host bridges' hierarchies. */
export class PciBus extends BusType {
  constructor(log?: KernelLog) {
    super('pci', log);
  }

  override match(dev: Device, drv: DeviceDriver): number {
    if (!(dev instanceof PciDev)) return 0;
    if (dev.driverOverride !== null) return dev.driverOverride === drv.name ? 1 : 0;
    return pciMatchId((drv as PciDriver).idTable, dev) !== null ? 1 : 0;
  }

  override probe(dev: Device, drv: DeviceDriver): number {
    const pdev = dev as PciDev;
    const pdrv = drv as PciDriver;
    const id = pdev.driverOverride === drv.name ? (pciMatchId(pdrv.idTable, pdev) ?? { vendor: PCI_ANY_ID, device: PCI_ANY_ID }) : pciMatchId(pdrv.idTable, pdev);
    if (id === null) return -ENODEV;
    pdev.idEntry = id;
    return pdrv.probe ? pdrv.probe(pdev, id) : 0;
  }

  /**
   * pci_scan_root_bus: walks the host bridge's configuration space from its root bus, numbering
   * bridges' secondary buses depth first as it meets them. Returns the root bus's functions (with
   * their subtrees); nothing is added to the driver core yet.
   */
  scanRootBus(host: PciHostBridge): PciDev[] {
    const found: PciDev[] = [];
    this.scanChildBus(host, host.hw.rootBusNr, host, found);
    return found;
  }

  /** pci_scan_child_bus: returns the highest bus number used below. */
  private scanChildBus(host: PciHostBridge, busNr: number, parent: Device, out: PciDev[]): number {
    const hw = host.hw;
    for (let slot = 0; slot < 32; slot++) {
      const fn0 = this.scanFunction(host, busNr, pciDevfn(slot, 0), parent);
      if (fn0 === null) continue;
      out.push(fn0);
      if ((hw.configRead(busNr, fn0.devfn, PCI_HEADER_TYPE, 1) & PCI_HEADER_TYPE_MFD) === 0) continue;
      for (let fn = 1; fn < 8; fn++) {
        const f = this.scanFunction(host, busNr, pciDevfn(slot, fn), parent);
        if (f !== null) out.push(f);
      }
    }
    let max = busNr;
    for (const dev of out) if (dev.isBridge) max = this.scanBridge(host, dev, max);
    return max;
  }

  /** pci_scan_bridge: gives the bridge the next bus number, scans behind it, closes its range. */
  private scanBridge(host: PciHostBridge, bridge: PciDev, max: number): number {
    const hw = host.hw;
    const secondary = max + 1;
    hw.configWrite(bridge.busNr, bridge.devfn, PCI_PRIMARY_BUS, 1, bridge.busNr);
    hw.configWrite(bridge.busNr, bridge.devfn, PCI_SECONDARY_BUS, 1, secondary);
    hw.configWrite(bridge.busNr, bridge.devfn, PCI_SUBORDINATE_BUS, 1, 0xff);
    const sub = this.scanChildBus(host, secondary, bridge, bridge.children);
    hw.configWrite(bridge.busNr, bridge.devfn, PCI_SUBORDINATE_BUS, 1, sub);
    bridge.secondaryBus = secondary;
    bridge.subordinateBus = sub;
    return sub;
  }

  /** pci_scan_single_device: reads the identity registers of one function. */
  private scanFunction(host: PciHostBridge, busNr: number, devfn: number, parent: Device): PciDev | null {
    const hw = host.hw;
    const id = hw.configRead(busNr, devfn, PCI_VENDOR_ID, 4);
    // all ones or all zeros in either half: nothing there (pci_bus_generic_read_dev_vendor_id)
    if (id === 0xffffffff || id === 0 || id === 0x0000ffff || id === 0xffff0000) return null;
    const classRev = hw.configRead(busNr, devfn, PCI_CLASS_REVISION, 4);
    const headerType = hw.configRead(busNr, devfn, PCI_HEADER_TYPE, 1);
    const isBridge = (headerType & PCI_HEADER_TYPE_MASK) === PCI_HEADER_TYPE_BRIDGE;
    const dev = new PciDev(
      host,
      busNr,
      devfn,
      hw.configRead(busNr, devfn, PCI_VENDOR_ID, 2),
      hw.configRead(busNr, devfn, PCI_DEVICE_ID, 2),
      Math.floor(classRev / 256),
      classRev % 256,
      isBridge ? 0 : hw.configRead(busNr, devfn, PCI_SUBSYSTEM_VENDOR_ID, 2),
      isBridge ? 0 : hw.configRead(busNr, devfn, PCI_SUBSYSTEM_ID, 2),
      headerType,
      parent,
    );
    dev.bus = this;
    dev.dma.coherent = host.fwnode.get('dma-coherent') === true;
    return dev;
  }
}

/** Every function of a scanned hierarchy in pci_bus_add_devices order: a bus, then its children's buses. */
export function pciBusAddOrder(root: readonly PciDev[]): PciDev[] {
  const out: PciDev[] = [];
  const walk = (list: readonly PciDev[]): void => {
    out.push(...list);
    for (const d of list) if (d.children.length > 0) walk(d.children);
  };
  walk(root);
  return out;
}

/**
 * pci_scan_root_bus + pci_bus_add_devices: adds the host bridge device (when not added yet), scans,
 * then adds every function to the driver core in the kernel's topology order. Returns the functions.
 */
export function pciScanAndAdd(core: DriverCore, bus: PciBus, host: PciHostBridge): PciDev[] {
  if (core.devices.get(host.name) !== host) core.deviceAdd(host);
  const all = pciBusAddOrder(bus.scanRootBus(host));
  for (const d of all) core.deviceAdd(d);
  return all;
}
