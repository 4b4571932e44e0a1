/**
 * The slice of a bus the IOMMU core uses: its devices in the order they were added and its notifier
 * chain. `@dmasim/bus` buses provide it; tests can build a small one.
 */
import type { Device } from '@dmasim/bus';

/** enum bus_notifier_event. */
export type BusNotifyAction =
  | 'ADD_DEVICE'
  | 'DEL_DEVICE'
  | 'REMOVED_DEVICE'
  | 'BIND_DRIVER'
  | 'BOUND_DRIVER'
  | 'UNBIND_DRIVER'
  | 'UNBOUND_DRIVER'
  | 'DRIVER_NOT_BOUND';

/** struct notifier_block: higher priority runs first; equal priorities in registration order. */
export interface BusNotifierBlock {
  readonly name: string;
  readonly priority: number;
  /** Returns NOTIFY_DONE / NOTIFY_OK, or a value with NOTIFY_STOP_MASK to stop the chain. */
  notifierCall(action: BusNotifyAction, dev: Device): number;
}

export interface BusNotifierHost {
  readonly name: string;
  /** bus_for_each_dev(): stops at and returns the first non-zero result. */
  forEachDevice(fn: (dev: Device) => number): number;
  /** bus_register_notifier(): 0 or -errno. */
  registerNotifier(nb: BusNotifierBlock): number;
  unregisterNotifier(nb: BusNotifierBlock): number;
}
