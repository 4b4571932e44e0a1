import type { Device } from '@dmasim/bus';
import type { IommuDomainFacts, IommuRoute } from '@dmasim/iommu-core';
import type { Machine } from '../machine/machine';

/** Where a master's DMA goes at its IOMMU right now; `unknown` for a model that cannot say. */
export type DmaRoute = IommuRoute | 'unknown';

/**
 * What the report and the exploration state key need to know about one device's IOMMU, and
 * nothing model specific: the one place that asks the IOMMU side, through the IOMMU plugin
 * interface (the driver's domainOf, the hardware's route) and the IOMMU core's groups.
 */
export interface DeviceIommuFacts {
  /** The IOMMU the firmware names for the device. */
  readonly iommu: string;
  readonly streamIds: readonly number[];
  /** The device's IOMMU group (its number only names it; membership is what matters). */
  readonly group: { readonly id: number; readonly members: readonly Device[] } | null;
  /** The domain the device is attached to (its id names it only within its IOMMU instance). */
  readonly domain: IommuDomainFacts | null;
  /** Whether the device's domain holds a hardware context (an SMMU context bank). */
  readonly holdsContext: boolean;
  /** What a transaction from the device meets now. */
  readonly route: DmaRoute;
}

/** The IOMMU facts of a kernel device whose firmware names an IOMMU; null for the others. */
export function deviceIommuFacts(m: Machine, dev: Device): DeviceIommuFacts | null {
  const link = m.deviceEntry(dev)?.iommu ?? null;
  if (link === null) return null;
  const domain = m.iommuDomainOf(dev);
  const group = m.iommu.devIommuGroup(dev);
  const hw = m.hw.iommus.get(link.name)?.hw;
  return {
    iommu: link.name,
    streamIds: link.streamIds,
    group: group === null ? null : { id: group.id, members: group.devices },
    domain,
    holdsContext: domain?.contextBank != null,
    route: hw?.route?.(link.streamIds) ?? 'unknown',
  };
}

/** A key naming one domain across the machine: its IOMMU instance and its id there. */
export function domainKey(f: DeviceIommuFacts): string | null {
  return f.domain === null ? null : `${f.iommu}#${f.domain.id}`;
}
