import type { Device } from '@dmasim/bus';
import { EEXIST, ENOENT } from '@dmasim/core';
import type { BusNotifierBlock, BusNotifierHost, BusNotifyAction } from '../bus-host';
import { NOTIFY_STOP_MASK } from '../types';

/**
 * A minimal bus for tests and standalone use of the IOMMU API: devices in add order and a
 * notifier chain ordered by priority (higher first, FIFO among equals) that stops on
 * NOTIFY_STOP_MASK, as kernel/notifier.c does.
 */
export class FakeBus implements BusNotifierHost {
  readonly devices: Device[] = [];
  private readonly chain: BusNotifierBlock[] = [];
  /** Every notifier call, as `name:action:device`, for ordering assertions. */
  readonly calls: string[] = [];

  constructor(readonly name: string) {}

  forEachDevice(fn: (dev: Device) => number): number {
    for (const dev of [...this.devices]) {
      const ret = fn(dev);
      if (ret !== 0) return ret;
    }
    return 0;
  }

  registerNotifier(nb: BusNotifierBlock): number {
    if (this.chain.includes(nb)) return -EEXIST;
    let i = 0;
    while (i < this.chain.length && (this.chain[i] as BusNotifierBlock).priority >= nb.priority) i++;
    this.chain.splice(i, 0, nb);
    return 0;
  }

  unregisterNotifier(nb: BusNotifierBlock): number {
    const i = this.chain.indexOf(nb);
    if (i < 0) return -ENOENT;
    this.chain.splice(i, 1);
    return 0;
  }

  notify(action: BusNotifyAction, dev: Device): number {
    let ret = 0;
    for (const nb of [...this.chain]) {
      this.calls.push(`${nb.name}:${action}:${dev.name}`);
      ret = nb.notifierCall(action, dev);
      if ((ret & NOTIFY_STOP_MASK) !== 0) break;
    }
    return ret;
  }

  /** device_add(): put the device on the bus, then tell the notifiers. */
  addDevice(dev: Device): void {
    dev.bus = { name: this.name };
    dev.state = 'added';
    this.devices.push(dev);
    this.notify('ADD_DEVICE', dev);
  }

  /** device_del(). */
  removeDevice(dev: Device): void {
    this.notify('DEL_DEVICE', dev);
    const i = this.devices.indexOf(dev);
    if (i >= 0) this.devices.splice(i, 1);
    this.notify('REMOVED_DEVICE', dev);
    dev.state = 'removed';
  }
}
