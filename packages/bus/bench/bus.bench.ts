import type { BenchContext } from '@dmasim/bench-harness';
import { EPROBE_DEFER, KernelLog, Scheduler } from '@dmasim/core';
import { createBusServices, FwNode, type BusServices, type PlatformDriver } from '@dmasim/bus';

const DEVICES = 10_000;
const DRIVERS = 16;
const CONSUMERS = 1_000;

function machine(): BusServices {
  const sched = new Scheduler();
  const log = new KernelLog(() => sched.now);
  return createBusServices({ log, sched }, { queueLateInitcall: false });
}

/** Adds and probes 10,000 platform devices spread over 16 trivial drivers. */
function probeStorm(): void {
  const b = machine();
  for (let i = 0; i < DRIVERS; i++) {
    const drv: PlatformDriver = { name: `drv${i}`, bus: b.platform, ofMatchTable: [{ compatible: `bench,dev${i}` }], probe: () => 0 };
    b.core.driverRegister(drv);
  }
  for (let i = 0; i < DEVICES; i++) {
    b.core.deviceAdd(b.platform.createDevice(new FwNode(`dev${i}`, { compatible: [`bench,dev${i % DRIVERS}`] })));
  }
}

/** 1,000 consumers deferred on one supplier, then the supplier binds and every consumer is retried. */
function deferredStorm(): void {
  const b = machine();
  b.core.deferredProbeInitcall();
  let supplierBound = false;
  const consumer: PlatformDriver = {
    name: 'consumer',
    bus: b.platform,
    ofMatchTable: [{ compatible: 'bench,consumer' }],
    probe: (d) => (supplierBound ? 0 : b.core.devErrProbe(d, -EPROBE_DEFER, 'wait for supplier')),
  };
  const supplier: PlatformDriver = { name: 'supplier', bus: b.platform, ofMatchTable: [{ compatible: 'bench,supplier' }], probe: () => ((supplierBound = true), 0) };
  b.core.driverRegister(consumer);
  b.core.driverRegister(supplier);
  for (let i = 0; i < CONSUMERS; i++) b.core.deviceAdd(b.platform.createDevice(new FwNode(`cons${i}`, { compatible: ['bench,consumer'] })));
  b.core.deviceAdd(b.platform.createDevice(new FwNode('supplier', { compatible: ['bench,supplier'] })));
  b.core.waitForDeviceProbe();
  if (b.core.deferred.pending.size !== 0) throw new Error('deferred storm left devices waiting');
}

export default async (ctx: BenchContext): Promise<void> => {
  await ctx.rate('bus.probe', probeStorm, { unit: 'devices/s', opsPerCall: DEVICES, min: 200_000, baseline: 'raw.loop' });
  await ctx.time('bus.deferred-storm', deferredStorm, { unit: 'ms', max: 50 });
};
