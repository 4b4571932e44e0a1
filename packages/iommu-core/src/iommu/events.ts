import type { Device } from '@dmasim/bus';
import type { IommuDomain } from './domain';

/**
 * Observational events of the IOMMU core (eventemitter3): attach, map, unmap and IOTLB
 * invalidation, for traces and reports. Nothing in the simulation listens to decide anything, and
 * they are only built when someone listens.
 */
export interface IommuEvents {
  attach: (e: { domain: IommuDomain; device: Device }) => void;
  map: (e: { domain: IommuDomain; iova: number; paddr: number; size: number }) => void;
  unmap: (e: { domain: IommuDomain; iova: number; size: number; unmapped: number }) => void;
  /** iommu_iotlb_sync (`range`: the gathered start..end, inclusive) or iommu_flush_iotlb_all (`all`). */
  tlbInvalidate: (e: { domain: IommuDomain; scope: 'range' | 'all'; start: number; end: number }) => void;
}
