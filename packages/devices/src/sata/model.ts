import type { DeviceModel } from '../model';
import { runBlockWorkload } from '../common/block-workload';
import { numParam, notRunnable } from '../common/params';
import { ahciHostOf, ahciPlatformDriver } from './ahci-driver';
import { AhciHw } from './ahci-hw';

/** Calxeda ECX-2000 SATA (`calxeda,hb-ahci`), driver `ahci`, workload `disk-io`. */
export const calxedaSataModel: DeviceModel = {
  name: 'calxeda-sata',
  compatibles: ['calxeda,hb-ahci'],
  workloads: ['disk-io'],
  createHardware: (ctx, spec) =>
    new AhciHw(ctx, {
      ...(typeof spec.options?.['sectors'] === 'number' ? { sectors: spec.options['sectors'] } : {}),
      ...(typeof spec.options?.['s64a'] === 'boolean' ? { s64a: spec.options['s64a'] } : {}),
    }),
  drivers: (ctx) => [ahciPlatformDriver(ctx.core, ctx.bus)],
  runWorkload: (ctx, params) => {
    const name = typeof params['device'] === 'string' ? params['device'] : '';
    const dev = ctx.device(name);
    const host = dev === undefined ? null : ahciHostOf(dev);
    if (host === null) return notRunnable(params.kind, `no bound ahci device ${JSON.stringify(name)}`);
    return runBlockWorkload(ctx.core, host, {
      kind: params.kind,
      requests: numParam(params, 'requests', 100),
      blockSize: numParam(params, 'blockSize', 4096),
      readPercent: numParam(params, 'readPercent', 50),
      layout: { kind: 'chunks', segments: numParam(params, 'segments', 1) },
      seed: numParam(params, 'seed', 1),
    });
  },
};
