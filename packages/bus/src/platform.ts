import type { KernelLog } from '@dmasim/core';
import { BusType } from './bus-type';
import { Device } from './device';
import type { DeviceDriver } from './driver';
import type { FwNode } from './fwnode';

/** struct of_device_id: one `compatible` a driver handles, with optional driver data. */
export interface OfDeviceId {
  readonly compatible: string;
  readonly data?: unknown;
}

/** struct platform_device_id: a platform device name a driver handles. */
export interface PlatformDeviceId {
  readonly name: string;
  readonly data?: unknown;
}

/** struct platform_device. */
export class PlatformDevice extends Device {
  /** driver_override: when set, only the driver of that name may bind. */
  driverOverride: string | null = null;
  /** The id-table entry that matched (pdev->id_entry), set before probe. */
  idEntry: PlatformDeviceId | null = null;
  /** The OF table entry that matched, set before probe (of_device_get_match_data). */
  ofMatch: OfDeviceId | null = null;
  /** pdev->name: what id tables and the name fallback compare (dev_name may differ). */
  readonly pdevName: string;

  constructor(name: string, fwnode: FwNode, parent: Device | null = null, pdevName?: string) {
    super(name, fwnode, parent);
    this.pdevName = pdevName ?? name;
  }

  /** The `reg` property as (address, size) pairs. */
  get resources(): { start: number; size: number }[] {
    const reg = this.fwnode.get('reg') ?? [];
    const out: { start: number; size: number }[] = [];
    for (let i = 0; i + 1 < reg.length; i += 2) out.push({ start: reg[i]!, size: reg[i + 1]! });
    return out;
  }
}

/** struct platform_driver. */
export interface PlatformDriver extends DeviceDriver {
  readonly ofMatchTable?: readonly OfDeviceId[];
  readonly idTable?: readonly PlatformDeviceId[];
  probe?(dev: PlatformDevice): number;
  remove?(dev: PlatformDevice): void;
}

/**
 * of_match_node: the table entry matching the device's most specific `compatible` (the earliest in
 * the node's list wins; among equals, the first table entry), or null.
 */
export function ofMatchDevice(table: readonly OfDeviceId[] | undefined, fwnode: FwNode): OfDeviceId | null {
  if (table === undefined || table.length === 0) return null;
  const compat = fwnode.compatible;
  let best: OfDeviceId | null = null;
  let bestIndex = Number.POSITIVE_INFINITY;
  for (const entry of table) {
    const i = compat.indexOf(entry.compatible);
    if (i >= 0 && i < bestIndex) {
      best = entry;
      bestIndex = i;
    }
  }
  return best;
}

/** platform_match_id. */
export function platformMatchId(table: readonly PlatformDeviceId[], dev: PlatformDevice): PlatformDeviceId | null {
  for (const id of table) if (id.name === dev.pdevName) return id;
  return null;
}

/** The platform bus (`platform_bus_type`): match by driver_override, OF compatible, id table, name. */
export class PlatformBus extends BusType {
  constructor(log?: KernelLog) {
    super('platform', log);
  }

  override match(dev: Device, drv: DeviceDriver): number {
    if (!(dev instanceof PlatformDevice)) return 0;
    const pdrv = drv as PlatformDriver;
    if (dev.driverOverride !== null) return dev.driverOverride === drv.name ? 1 : 0;
    // the cheap table walk first: most drivers on a bus do not match a given device
    if (ofMatchDevice(pdrv.ofMatchTable, dev.fwnode) !== null && dev.fwnode.available) return 1;
    if (pdrv.idTable !== undefined) return platformMatchId(pdrv.idTable, dev) !== null ? 1 : 0;
    return dev.pdevName === drv.name ? 1 : 0;
  }

  override probe(dev: Device, drv: DeviceDriver): number {
    const pdrv = drv as PlatformDriver;
    const pdev = dev as PlatformDevice;
    pdev.ofMatch = ofMatchDevice(pdrv.ofMatchTable, pdev.fwnode);
    pdev.idEntry = pdrv.idTable !== undefined ? platformMatchId(pdrv.idTable, pdev) : null;
    return pdrv.probe ? pdrv.probe(pdev) : 0;
  }

  /**
   * Builds a platform device from a firmware node, on this bus and ready for deviceAdd
   * (of_device_alloc). `dma-coherent` sets the coherent flag; the rest of DMA setup is left to the
   * configure hooks of higher layers.
   */
  createDevice(fwnode: FwNode, parent: Device | null = null, name: string = fwnode.name): PlatformDevice {
    const dev = new PlatformDevice(name, fwnode, parent);
    dev.bus = this;
    dev.dma.coherent = fwnode.get('dma-coherent') === true;
    return dev;
  }
}
