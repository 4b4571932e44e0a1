import type { DependencyContainer } from 'tsyringe';
import { register as registerModels, type DevicesRegisterOptions } from './register';
import type { DeviceModel } from './model';
import { calxedaSataModel } from './sata/model';
import { calxedaXgmacModel } from './net/xgmac-model';
import { sky2NicModel } from './net/sky2-model';
import { rpi4V3dModel, rpi4Vc4Model } from './gpu/models';
import { nvmeModel } from './nvme/model';
import { genericEhciModel, genericOhciModel, pciTestdevModel } from './testdev/models';

export * from './model';
export * from './common/iova-link';
export * from './common/resources';
export * from './common/fault-inject';
export * from './common/block-workload';
export * from './common/sparse-disk';
export * from './common/pattern';
export * from './common/wait';
export * from './sata/ahci-hw';
export * from './sata/ahci-driver';
export { calxedaSataModel } from './sata/model';
export * from './net/ring-nic-hw';
export * from './net/ring-nic-driver';
export * from './net/net-loopback';
export * from './net/xgmac-model';
export * from './net/sky2-model';
export type { DmaBuf } from './gpu/dma-buf';
export * from './gpu/v3d-hw';
export * from './gpu/v3d-driver';
export * from './gpu/hvs-hw';
export * from './gpu/vc4-driver';
export * from './gpu/display-import';
export * from './gpu/models';
export * from './nvme/nvme-hw';
export * from './nvme/nvme-driver';
export * from './nvme/model';
export * from './testdev/dma-engine-hw';
export * from './testdev/dma-selftest';
export * from './testdev/models';
export { DevicesTokens, type DevicesRegisterOptions } from './register';

/**
 * The plugin table the machine consumes: each model's compatibles / PCI ids, hardware factory,
 * drivers and workloads. The RPi4 display model also brings up the vc4 DRM device `gpu`.
 */
export const deviceModels: readonly DeviceModel[] = [
  calxedaSataModel,
  calxedaXgmacModel,
  rpi4V3dModel,
  rpi4Vc4Model,
  nvmeModel,
  sky2NicModel,
  pciTestdevModel,
  genericEhciModel,
  genericOhciModel,
];

/** The model serving a DT `compatible` string or a PCI id `vvvv:dddd` (lower-case hex), if any. */
export function findDeviceModel(key: { compatible?: string; pciId?: string }): DeviceModel | undefined {
  const pci = key.pciId?.toLowerCase();
  return deviceModels.find((m) => (key.compatible !== undefined && (m.compatibles ?? []).includes(key.compatible)) || (pci !== undefined && (m.pciIds ?? []).includes(pci)));
}

/** Registers the built-in device models (plus `options.extra`) into a machine's container. */
export function register(container: DependencyContainer, options: DevicesRegisterOptions = {}): readonly DeviceModel[] {
  return registerModels(container, deviceModels, options);
}
