import type { BusServices, PlatformDevice, PlatformDriver } from '@dmasim/bus';
import type { CoreServices } from '@dmasim/core';
import { injectDmaFault } from '../common/fault-inject';
import { numParam, notRunnable } from '../common/params';
import type { DeviceModel, WorkloadContext, WorkloadParams, WorkloadResult } from '../model';
import { runNetLoopback } from './net-loopback';
import { netDevOf, ringNicProbe } from './ring-nic-driver';
import { RingNicHw } from './ring-nic-hw';

export const XGMAC_DRIVER_NAME = 'calxedaxgmac';

/** The `calxedaxgmac` platform driver for `calxeda,hb-xgmac`. */
export function xgmacDriver(core: CoreServices, bus: BusServices): PlatformDriver {
  return {
    name: XGMAC_DRIVER_NAME,
    bus: bus.platform,
    ofMatchTable: [{ compatible: 'calxeda,hb-xgmac' }],
    probe: (pdev: PlatformDevice) => ringNicProbe(core, pdev, XGMAC_DRIVER_NAME, () => []),
    remove: (pdev: PlatformDevice) => {
      netDevOf(pdev)?.release();
      pdev.driverData = undefined;
    },
  };
}

/** The `net-loopback` workload for any ring-NIC device. */
export function netLoopbackWorkload(ctx: WorkloadContext, params: WorkloadParams): WorkloadResult {
  const name = typeof params['device'] === 'string' ? params['device'] : '';
  const dev = ctx.device(name);
  const nd = dev === undefined ? null : netDevOf(dev);
  if (dev === undefined || nd === null) return notRunnable(params.kind, `no bound network device ${JSON.stringify(name)}`);
  const inject = numParam(params, 'injectFault', 0);
  if (inject > 0) injectDmaFault(dev, inject);
  return runNetLoopback(ctx.core, nd, {
    packets: numParam(params, 'packets', 1000),
    size: numParam(params, 'size', 1514),
    inflight: numParam(params, 'inflight', 16),
  });
}

/** Calxeda ECX-2000 10 GbE MAC (`calxeda,hb-xgmac`), driver `calxedaxgmac`, workload `net-loopback`. */
export const calxedaXgmacModel: DeviceModel = {
  name: 'calxeda-xgmac',
  compatibles: ['calxeda,hb-xgmac'],
  workloads: ['net-loopback'],
  createHardware: (ctx) => new RingNicHw(ctx),
  drivers: (ctx) => [xgmacDriver(ctx.core, ctx.bus)],
  runWorkload: netLoopbackWorkload,
};
