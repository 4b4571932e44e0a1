import { KernelLog, Scheduler, type SchedulerOptions } from '@dmasim/core';
import { createBusServices, type BusOptions, type BusServices } from './di';
import { FwNode } from './fwnode';
import type { PlatformDevice, PlatformDriver } from './platform';

/** A machine's log, scheduler and buses, without a board (tests only). */
export function makeBus(options: BusOptions = {}, sched: SchedulerOptions = {}): BusServices & { log: KernelLog; sched: Scheduler } {
  const s = new Scheduler(sched);
  const log = new KernelLog(() => s.now);
  return { ...createBusServices({ log, sched: s }, options), log, sched: s };
}

export function platformDev(b: BusServices, name: string, compatible: string, parent: PlatformDevice | null = null): PlatformDevice {
  return b.platform.createDevice(new FwNode(name, { compatible: [compatible] }), parent);
}

export function platformDrv(b: BusServices, name: string, compatible: string, probe: (dev: PlatformDevice) => number = () => 0, extra: Partial<PlatformDriver> = {}): PlatformDriver {
  return { name, bus: b.platform, ofMatchTable: [{ compatible }], probe, ...extra };
}
