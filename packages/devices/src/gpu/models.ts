import { injectDmaFault } from '../common/fault-inject';
import { numParam, notRunnable, strParam } from '../common/params';
import type { DeviceModel, WorkloadContext, WorkloadParams, WorkloadResult } from '../model';
import { runDisplayImport } from './display-import';
import { HvsHw } from './hvs-hw';
import { v3dDriver, v3dGpuOf } from './v3d-driver';
import { V3dHw } from './v3d-hw';
import { vc4DrmDriver, vc4HvsDriver, vc4HvsOf } from './vc4-driver';

/** Raspberry Pi 4 V3D (`brcm,2711-v3d`), driver `v3d`: the producer of `display-import`. */
export const rpi4V3dModel: DeviceModel = {
  name: 'rpi4-v3d',
  compatibles: ['brcm,2711-v3d'],
  workloads: [],
  createHardware: (ctx, spec) => new V3dHw(ctx, typeof spec.options?.['paWidth'] === 'number' ? spec.options['paWidth'] : 10),
  drivers: (ctx) => [v3dDriver(ctx.core, ctx.bus)],
};

function displayImport(ctx: WorkloadContext, params: WorkloadParams): WorkloadResult {
  const producer = strParam(params, 'producer', 'v3d');
  const consumer = strParam(params, 'consumer', 'hvs');
  const pdev = ctx.device(producer);
  const cdev = ctx.device(consumer);
  const v3d = pdev === undefined ? null : v3dGpuOf(pdev);
  const drm = cdev === undefined ? null : (vc4HvsOf(cdev)?.drm ?? null);
  if (v3d === null) return notRunnable(params.kind, `no bound v3d device ${JSON.stringify(producer)}`);
  if (drm === null) return notRunnable(params.kind, `no vc4 display behind ${JSON.stringify(consumer)}`);
  const raw = params['buffers'];
  const buffers = Array.isArray(raw) ? raw.map((b, i) => numParam({ kind: params.kind, [`buffers[${i}]`]: b as unknown }, `buffers[${i}]`, 0)) : [524288, 815104];
  const placement = strParam(params, 'placement', 'high');
  if (placement !== 'high' && placement !== 'low') throw new TypeError(`workload ${params.kind}: placement must be 'low' or 'high'`);
  const inject = numParam(params, 'injectFault', 0);
  if (inject > 0) injectDmaFault(drm.dev, inject);
  return runDisplayImport(ctx.core, v3d, drm, { buffers, frames: numParam(params, 'frames', 10), placement });
}

/**
 * Raspberry Pi 4 display (`brcm,bcm2711-hvs`): the HVS (driver `vc4-hvs`) and the vc4 DRM device
 * `gpu` it brings up (driver `vc4-drm`). Workload `display-import`.
 */
export const rpi4Vc4Model: DeviceModel = {
  name: 'rpi4-vc4',
  compatibles: ['brcm,bcm2711-hvs'],
  workloads: ['display-import'],
  createHardware: (ctx) => new HvsHw(ctx),
  drivers: (ctx) => [vc4HvsDriver(ctx.core, ctx.bus), vc4DrmDriver(ctx.core, ctx.bus)],
  runWorkload: displayImport,
};
