import type { Device, PhandleArgs } from '@dmasim/bus';
import type { IommuDomain } from './domain';
import type { IommuGroup } from './group';
import type { IommuCap, IommuDomainType } from './types';

/**
 * struct iommu_ops: what an IOMMU driver provides to the core. Both generations of the probe
 * interface are here: `addDevice`/`removeDevice` for the 2015 per-bus way (bus_set_iommu), and
 * `probeDevice`/`releaseDevice`/`deviceGroup`/`ofXlate` for the later per-instance way.
 * Errors are negative errno values, as the kernel's ERR_PTR returns.
 */
export interface IommuOps {
  /** Driver name (the module owner, e.g. `arm-smmu`). */
  readonly owner: string;
  /** Page sizes the hardware supports: a sum of powers of two. Domains start with it. */
  readonly pgsizeBitmap: number;
  capable?(dev: Device | null, cap: IommuCap): boolean;
  /** Allocates a domain of `type`; null when the driver does not support that type. */
  domainAlloc(type: IommuDomainType): IommuDomain | null;

  /** 2015: called from the IOMMU core's bus notifier on ADD_DEVICE and for devices already present. */
  addDevice?(dev: Device): number;
  /** 2015: called on DEL_DEVICE for devices in a group. */
  removeDevice?(dev: Device): void;

  /** Later kernels: claim a device whose fwspec names this driver; returns the instance or -errno. */
  probeDevice?(dev: Device): IommuDevice | number;
  releaseDevice?(dev: Device): void;
  /** Find or make the device's group; absent means one group per device. -errno on failure. */
  deviceGroup?(dev: Device): IommuGroup | number;
  /** Translate one `iommus` / `iommu-map` specifier into fwspec ids (iommuFwspecAddIds). */
  ofXlate?(dev: Device, args: PhandleArgs): number;
  /** The domain type this device needs (IDENTITY for a device that must bypass), or 0 for no preference. */
  defDomainType?(dev: Device): IommuDomainType | 0;
  /** Called after a device has its default domain (probe_finalize). */
  probeFinalize?(dev: Device): void;
}

/**
 * struct iommu_device: one registered IOMMU hardware instance, found by its firmware node name
 * (the `iommus = <&smmu0 ...>` phandle target).
 */
export class IommuDevice {
  /** Set once iommuDeviceRegister has probed the devices already present. */
  ready = false;
  /** The shared group of generic_single_device_group(). */
  singletonGroup: IommuGroup | null = null;

  constructor(
    readonly ops: IommuOps,
    /** Firmware node name of the IOMMU (its DT node). */
    readonly fwnode: string,
    /** Name for logs and reports (the IOMMU's device name). */
    readonly name: string = fwnode,
  ) {}
}
