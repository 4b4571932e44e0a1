import { runBlockWorkload } from '../common/block-workload';
import { injectDmaFault } from '../common/fault-inject';
import { boolParam, numParam, notRunnable } from '../common/params';
import type { DeviceModel } from '../model';
import { nvmeCtrlOf, nvmeDriver } from './nvme-driver';
import { NvmeHw } from './nvme-hw';

/** Offset of the first segment in its page when a request starts unaligned (a 512-byte sector in). */
export const NVME_UNALIGNED_OFFSET = 512;

/** The NVMe-style PCI controller `1b36:0010`, driver `nvme`, workload `nvme-io`. */
export const nvmeModel: DeviceModel = {
  name: 'qemu-nvme',
  pciIds: ['1b36:0010'],
  workloads: ['nvme-io'],
  mmioSize: NvmeHw.MMIO_SIZE,
  createHardware: (ctx) => new NvmeHw(ctx),
  drivers: (ctx) => [nvmeDriver(ctx.core, ctx.bus)],
  runWorkload: (ctx, params) => {
    const name = typeof params['device'] === 'string' ? params['device'] : '';
    const dev = ctx.device(name);
    const ctrl = dev === undefined ? null : nvmeCtrlOf(dev);
    if (dev === undefined || ctrl === null) return notRunnable(params.kind, `no bound nvme device ${JSON.stringify(name)}`);
    const inject = numParam(params, 'injectFault', 0);
    if (inject > 0) injectDmaFault(dev, inject);
    const before = { iova: ctrl.iovaRequests, sg: ctrl.sgRequests };
    const r = runBlockWorkload(ctx.core, ctrl, {
      kind: params.kind,
      requests: numParam(params, 'requests', 100),
      blockSize: numParam(params, 'blockSize', 16384),
      readPercent: numParam(params, 'readPercent', 50),
      layout: { kind: 'prp', firstOffset: boolParam(params, 'unalignedFirst', false) ? NVME_UNALIGNED_OFFSET : 0 },
      seed: numParam(params, 'seed', 1),
    });
    return { ...r, details: { ...r.details, iovaRequests: ctrl.iovaRequests - before.iova, sgRequests: ctrl.sgRequests - before.sg } };
  },
};
