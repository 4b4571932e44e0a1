import type { Device, FwNode } from '@dmasim/bus';
import { Slot } from '@dmasim/bus';
import { EFAULT, EINVAL, ENODEV, hex, type KernelLog } from '@dmasim/core';
import type { IommuGroup } from './group';
import type { IommuDevice, IommuOps } from './ops';

/** struct iommu_fwspec: which IOMMU instance a device sits behind and its ids (stream ids) there. */
export interface IommuFwspec {
  /** Firmware node name of the IOMMU. */
  readonly iommuFwnode: string;
  readonly ops: IommuOps;
  readonly ids: number[];
}

/** struct dev_iommu: the IOMMU core's per-device state, hung on the Device through a slot. */
export interface DevIommu {
  fwspec: IommuFwspec | null;
  /** The instance that claimed the device (dev->iommu->iommu_dev). */
  iommuDev: IommuDevice | null;
  /** Driver private data (dev_iommu_priv_get/set). */
  priv: unknown;
  attachDeferred: boolean;
}

/** dev->iommu. */
export const DEV_IOMMU_SLOT = new Slot<DevIommu>('iommu-core.dev-iommu');
/** dev->iommu_group (kept apart from dev->iommu, as in the kernel: 2015 drivers set only the group). */
export const DEV_IOMMU_GROUP_SLOT = new Slot<IommuGroup>('iommu-core.iommu-group');

/** dev_iommu_get(): the device's IOMMU state, created empty on first use. */
export function devIommuGet(dev: Device): DevIommu {
  let param = dev.getSlot(DEV_IOMMU_SLOT);
  if (param === undefined) {
    param = { fwspec: null, iommuDev: null, priv: undefined, attachDeferred: false };
    dev.setSlot(DEV_IOMMU_SLOT, param);
  }
  return param;
}

/** dev_iommu_free(). */
export function devIommuFree(dev: Device): void {
  dev.clearSlot(DEV_IOMMU_SLOT);
}

/** dev_iommu_fwspec_get(). */
export function devIommuFwspecGet(dev: Device): IommuFwspec | null {
  return dev.getSlot(DEV_IOMMU_SLOT)?.fwspec ?? null;
}

export function devIommuPrivGet(dev: Device): unknown {
  return dev.getSlot(DEV_IOMMU_SLOT)?.priv;
}

export function devIommuPrivSet(dev: Device, priv: unknown): void {
  devIommuGet(dev).priv = priv;
}

/** iommu_fwspec_add_ids(): -EINVAL when the device has no fwspec yet. */
export function iommuFwspecAddIds(dev: Device, ids: readonly number[]): number {
  const fwspec = devIommuFwspecGet(dev);
  if (fwspec === null) return -EINVAL;
  fwspec.ids.push(...ids);
  return 0;
}

/** iommu_fwspec_free(). */
export function iommuFwspecFree(dev: Device): void {
  const param = dev.getSlot(DEV_IOMMU_SLOT);
  if (param) param.fwspec = null;
}

/** Result of ofMapId: the IOMMU node the id maps to (null when it bypasses) and the output id. */
export interface OfMapIdResult {
  readonly ret: number;
  readonly target: string | null;
  readonly idOut: number;
}

/**
 * of_map_id() for `iommu-map` / `iommu-map-mask` on a PCI host bridge node: masks the requester id,
 * finds the entry whose [ridBase, ridBase+length) holds it and returns iommuBase + offset on that
 * entry's IOMMU. No map at all means no translation (the id passes through unchanged, unless the
 * caller filters on a target: -ENODEV); a map without a matching entry logs and bypasses.
 */
export function ofMapId(np: FwNode, id: number, log: KernelLog | null, targetFilter: string | null = null): OfMapIdResult {
  const mapName = 'iommu-map';
  const map = np.get('iommu-map');
  if (map === undefined || map.length === 0) {
    if (targetFilter !== null) return { ret: -ENODEV, target: null, idOut: id };
    return { ret: 0, target: null, idOut: id };
  }
  // Ids and masks are genuine 32-bit values, so bitwise operators are safe here.
  const mapMask = (np.get('iommu-map-mask') ?? 0xffffffff) >>> 0;
  const maskedId = (id & mapMask) >>> 0;
  for (const entry of map) {
    if ((entry.ridBase & ~mapMask) >>> 0 !== 0) {
      log?.err(`${np.name}: Invalid ${mapName} translation - ${mapName}-mask (${hex(mapMask)}) ignores id-base (${hex(entry.ridBase)})`);
      return { ret: -EFAULT, target: null, idOut: id };
    }
    if (maskedId < entry.ridBase || maskedId >= entry.ridBase + entry.length) continue;
    if (targetFilter !== null && targetFilter !== entry.iommu) continue;
    const idOut = maskedId - entry.ridBase + entry.iommuBase;
    log?.debug(`${np.name}: ${mapName}, using mask ${hex(mapMask, 8).slice(2)}, id-base: ${hex(entry.ridBase, 8).slice(2)}, out-base: ${hex(entry.iommuBase, 8).slice(2)}, length: ${hex(entry.length, 8).slice(2)}, id: ${hex(id, 8).slice(2)} -> ${hex(idOut, 8).slice(2)}`);
    return { ret: 0, target: entry.iommu, idOut };
  }
  log?.info(`${np.name}: no ${mapName} translation for id ${hex(id)} on ${targetFilter ?? '(null)'}`);
  return { ret: 0, target: null, idOut: id };
}
