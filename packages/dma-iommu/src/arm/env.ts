import type { Device } from '@dmasim/bus';
import type { CpuCache, KernelLog, PageAllocator, PhysicalMemory } from '@dmasim/core';
import type { BusNotifierHost, IommuDomain } from '@dmasim/iommu-core';

/**
 * The slice of the IOMMU API the arm layer calls (IommuCore satisfies it): the 2014 code allocates
 * its domain per bus with iommu_domain_alloc(bus) and attaches devices one by one.
 */
export interface ArmIommuApi {
  iommuDomainAlloc(bus: BusNotifierHost | string): IommuDomain | null;
  iommuDomainFree(domain: IommuDomain): void;
  iommuAttachDevice(domain: IommuDomain, dev: Device): number;
  iommuDetachDevice(domain: IommuDomain, dev: Device): void;
}

/**
 * What the arm IOMMU layer works on: the IOMMU API, and the machine's memory, CPU cache (cache
 * maintenance for non-coherent devices), page allocator (coherent buffers) and kernel log.
 */
export interface ArmIommuEnv {
  readonly iommu: ArmIommuApi;
  readonly memory: PhysicalMemory;
  readonly cache: CpuCache;
  readonly pages: PageAllocator;
  readonly log: KernelLog;
}
