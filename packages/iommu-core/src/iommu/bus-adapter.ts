/**
 * Adapts a `@dmasim/bus` BusType (numeric BUS_NOTIFY_* actions, its own notifier chain) to the
 * BusNotifierHost the IOMMU core uses.
 */
import type { BusNotifierBlock as BusTypeNotifierBlock, BusType } from '@dmasim/bus';
import { ENOENT } from '@dmasim/core';
import type { BusNotifierBlock, BusNotifierHost, BusNotifyAction } from './bus-host';

/** BUS_NOTIFY_* values of the bus package, in enum order. */
const ACTIONS: readonly BusNotifyAction[] = [
  'ADD_DEVICE',
  'DEL_DEVICE',
  'REMOVED_DEVICE',
  'BIND_DRIVER',
  'BOUND_DRIVER',
  'UNBIND_DRIVER',
  'UNBOUND_DRIVER',
  'DRIVER_NOT_BOUND',
];

export function busNotifierHostOf(bus: BusType): BusNotifierHost {
  const blocks = new Map<BusNotifierBlock, BusTypeNotifierBlock>();
  return {
    name: bus.name,
    forEachDevice(fn) {
      for (const dev of [...bus.devices]) {
        const ret = fn(dev);
        if (ret !== 0) return ret;
      }
      return 0;
    },
    registerNotifier(nb) {
      const block: BusTypeNotifierBlock = {
        name: nb.name,
        priority: nb.priority,
        call: (action, dev) => {
          const name = ACTIONS[action];
          return name === undefined ? 0 : nb.notifierCall(name, dev);
        },
      };
      blocks.set(nb, block);
      return bus.registerNotifier(block);
    },
    unregisterNotifier(nb) {
      const block = blocks.get(nb);
      if (block === undefined) return -ENOENT;
      blocks.delete(nb);
      return bus.unregisterNotifier(block);
    },
  };
}
