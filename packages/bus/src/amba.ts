import { EPROBE_DEFER, ENODEV, type KernelLog, type MmioBus } from '@dmasim/core';
import { BusType } from './bus-type';
import { Device } from './device';
import type { DeviceDriver } from './driver';
import type { FwNode } from './fwnode';

/** Component id of a PrimeCell (the CID registers read 0x0d, 0xf0, 0x05, 0xb1). */
export const AMBA_CID = 0xb105f00d;
/** Component id of a CoreSight component. */
export const CORESIGHT_CID = 0xb105900d;

/** struct amba_id: a peripheral id, compared under mask. */
export interface AmbaId {
  readonly id: number;
  readonly mask: number;
  readonly data?: unknown;
}

/** What reading the id registers gave: the ids, or a negative errno (clock not ready: -EPROBE_DEFER). */
export type AmbaIdReadResult = { readonly pid: number; readonly cid: number } | number;

/** Reads a device's id registers in place of MMIO (a test, or a model without registers). */
export type AmbaIdReader = (dev: AmbaDevice) => AmbaIdReadResult;

/** struct amba_device. */
export class AmbaDevice extends Device {
  /** Peripheral id; 0 until read (or given by `arm,primecell-periphid`). */
  periphid: number;
  cid = 0;
  driverOverride: string | null = null;
  /** The id-table entry that matched, set before probe. */
  idEntry: AmbaId | null = null;
  /** Reader used instead of the MMIO registers when set. */
  readIds: AmbaIdReader | null = null;

  constructor(
    name: string,
    fwnode: FwNode,
    /** Register window: the id registers are in its last 32 bytes. */
    readonly base: number,
    readonly size: number,
    parent: Device | null = null,
  ) {
    super(name, fwnode, parent);
    const fixed = fwnode.get('arm,primecell-periphid');
    this.periphid = typeof fixed === 'number' ? fixed : 0;
  }
}

/** struct amba_driver. */
export interface AmbaDriver extends DeviceDriver {
  readonly idTable: readonly AmbaId[];
  probe?(dev: AmbaDevice, id: AmbaId): number;
  remove?(dev: AmbaDevice): void;
}

/** amba_lookup: compares under each entry's mask (32-bit register values). */
export function ambaLookup(table: readonly AmbaId[], periphid: number): AmbaId | null {
  for (const id of table) {
    if ((id.id & id.mask) >>> 0 === (periphid & id.mask) >>> 0) return id;
  }
  return null;
}

/**
 * The AMBA bus (`amba_bustype`). A device's peripheral id is read from its id registers the first
 * time a driver is matched against it; while that is impossible (clock or power not ready, no
 * response) the match returns -EPROBE_DEFER and the device is retried with the deferred list.
 */
export class AmbaBus extends BusType {
  constructor(
    log?: KernelLog,
    private readonly mmio?: MmioBus,
  ) {
    super('amba', log);
  }

  /** amba_read_periphid: 0 with `periphid`/`cid` set, or a negative errno. */
  readPeriphId(dev: AmbaDevice): number {
    let pid: number;
    let cid: number;
    if (dev.readIds !== null) {
      const r = dev.readIds(dev);
      if (typeof r === 'number') return r;
      pid = r.pid >>> 0;
      cid = r.cid >>> 0;
    } else if (this.mmio !== undefined) {
      pid = this.readIdWord(dev, dev.size - 0x20);
      cid = this.readIdWord(dev, dev.size - 0x10);
    } else {
      return -ENODEV;
    }
    if (cid === AMBA_CID || cid === CORESIGHT_CID) {
      dev.periphid = pid;
      dev.cid = cid;
    }
    return dev.periphid === 0 ? -ENODEV : 0;
  }

  /** Four byte-wide id registers, least significant first. */
  private readIdWord(dev: AmbaDevice, offset: number): number {
    let v = 0;
    for (let i = 0; i < 4; i++) v += (this.mmio!.readl(dev.base + offset + 4 * i) & 0xff) * 2 ** (8 * i);
    return v;
  }

  override match(dev: Device, drv: DeviceDriver): number {
    if (!(dev instanceof AmbaDevice)) return 0;
    if (dev.periphid === 0) {
      // any failure, permanent or not, becomes a deferral: other errors would fail driver registration
      if (this.readPeriphId(dev) !== 0) return -EPROBE_DEFER;
    }
    if (dev.driverOverride !== null) return dev.driverOverride === drv.name ? 1 : 0;
    return ambaLookup((drv as AmbaDriver).idTable, dev.periphid) !== null ? 1 : 0;
  }

  override probe(dev: Device, drv: DeviceDriver): number {
    const adev = dev as AmbaDevice;
    const adrv = drv as AmbaDriver;
    const id = ambaLookup(adrv.idTable, adev.periphid);
    if (id === null) return -ENODEV;
    adev.idEntry = id;
    return adrv.probe ? adrv.probe(adev, id) : 0;
  }

  /** Builds an AMBA device on this bus from a firmware node with `reg = <base size>`. */
  createDevice(fwnode: FwNode, parent: Device | null = null, name: string = fwnode.name): AmbaDevice {
    const reg = fwnode.get('reg') ?? [];
    const dev = new AmbaDevice(name, fwnode, reg[0] ?? 0, reg[1] ?? 0x1000, parent);
    dev.bus = this;
    dev.dma.coherent = fwnode.get('dma-coherent') === true;
    return dev;
  }
}
