import type { Device } from '@dmasim/bus';
import { IommuDomain, type IommuDomainOps, type IommuDomainType } from '@dmasim/iommu-core';
import type { RkIommu } from './rk-iommu-device';

/**
 * struct rk_iommu_domain: one directory table page in memory (dt), the IOMMUs attached to it (each
 * gets its DTE_ADDR), and, for reports, the masters attached through them.
 */
export class RkIommuDomain extends IommuDomain {
  /** Physical address of the directory table page; null for the identity domain. */
  dt: number | null = null;
  /** Page tables allocated under the directory (freed with the domain). */
  readonly pageTables = new Set<number>();
  /** rk_domain->iommus. */
  readonly iommus: RkIommu[] = [];
  readonly devices = new Set<Device>();

  constructor(ops: IommuDomainOps, type: IommuDomainType, id: number, geometry: boolean) {
    super(ops, { type, id, ...(geometry ? { geometry: { apertureStart: 0, apertureEnd: 2 ** 32 - 1, forceAperture: true } } : {}) });
  }
}
