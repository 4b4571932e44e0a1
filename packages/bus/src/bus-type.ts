import type { KernelLog } from '@dmasim/core';
import type { Device, DeviceBusRef } from './device';
import type { DeviceDriver } from './driver';
import { NotifierChain, type NotifierBlock } from './notifier';

/** enum bus_notifier_event (include/linux/device/bus.h, current numbering). */
export const BUS_NOTIFY_ADD_DEVICE = 0;
export const BUS_NOTIFY_DEL_DEVICE = 1;
export const BUS_NOTIFY_REMOVED_DEVICE = 2;
export const BUS_NOTIFY_BIND_DRIVER = 3;
export const BUS_NOTIFY_BOUND_DRIVER = 4;
export const BUS_NOTIFY_UNBIND_DRIVER = 5;
export const BUS_NOTIFY_UNBOUND_DRIVER = 6;
export const BUS_NOTIFY_DRIVER_NOT_BOUND = 7;

export type BusNotifyAction = 0 | 1 | 2 | 3 | 4 | 5 | 6 | 7;

const ACTION_NAMES = [
  'BUS_NOTIFY_ADD_DEVICE',
  'BUS_NOTIFY_DEL_DEVICE',
  'BUS_NOTIFY_REMOVED_DEVICE',
  'BUS_NOTIFY_BIND_DRIVER',
  'BUS_NOTIFY_BOUND_DRIVER',
  'BUS_NOTIFY_UNBIND_DRIVER',
  'BUS_NOTIFY_UNBOUND_DRIVER',
  'BUS_NOTIFY_DRIVER_NOT_BOUND',
] as const;

export function busNotifyName(action: number): string {
  return ACTION_NAMES[action] ?? `BUS_NOTIFY_${action}`;
}

/** A bus notifier callback: gets the action and the device. */
export type BusNotifierBlock = NotifierBlock<Device>;

/**
 * struct bus_type: a name, a notifier chain, the devices and drivers on it (klist order: the order
 * they were added) and the bus callbacks. Subclasses (platform, AMBA, PCI) override `match` and, when
 * the bus passes extra arguments to a driver's probe, `probe`.
 */
export class BusType implements DeviceBusRef {
  readonly notifier: NotifierChain<Device>;
  /** klist_devices: every device added to the bus, in add order. */
  readonly devices = new Set<Device>();
  /** klist_drivers: every registered driver, in registration order. */
  readonly drivers = new Set<DeviceDriver>();
  /** drivers_autoprobe: probe on device add / driver registration. */
  driversAutoprobe = true;

  constructor(
    readonly name: string,
    log?: KernelLog,
  ) {
    this.notifier = new NotifierChain<Device>(`${name} bus notifier`, log === undefined ? {} : { log });
  }

  /** bus->match: > 0 match, 0 no match, -EPROBE_DEFER to retry later, other negative errors. */
  match(_dev: Device, _drv: DeviceDriver): number {
    return 1;
  }

  /** bus->probe, or the driver's probe when the bus has none. Returns 0 or a negative errno. */
  probe(dev: Device, drv: DeviceDriver): number {
    return drv.probe ? drv.probe(dev) : 0;
  }

  /** bus->remove, or the driver's remove. */
  remove(dev: Device, drv: DeviceDriver): void {
    drv.remove?.(dev);
  }

  /** bus_register_notifier. */
  registerNotifier(block: BusNotifierBlock): number {
    return this.notifier.register(block);
  }

  /** bus_unregister_notifier. */
  unregisterNotifier(block: BusNotifierBlock): number {
    return this.notifier.unregister(block);
  }

  /** bus_find_device_by_name. */
  findDevice(name: string): Device | undefined {
    for (const d of this.devices) if (d.name === name) return d;
    return undefined;
  }

  /** driver_find. */
  findDriver(name: string): DeviceDriver | undefined {
    for (const d of this.drivers) if (d.name === name) return d;
    return undefined;
  }
}
