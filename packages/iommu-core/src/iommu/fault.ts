import type { Device } from '@dmasim/bus';
import { ENOSYS, hex } from '@dmasim/core';
import type { IommuDomain, IommuFaultHandler } from './domain';

/**
 * iommu_set_fault_handler(): install `handler` for faults in `domain`. Refused with a WARN when the
 * cookie slot already belongs to someone (a DMA API domain has its IOVA cookie there).
 */
export function iommuSetFaultHandler(domain: IommuDomain, handler: IommuFaultHandler, token: unknown = undefined): void {
  if (domain.cookieType !== 'none') {
    domain.log?.warn('drivers/iommu/iommu.c iommu_set_fault_handler');
    return;
  }
  domain.cookieType = 'fault-handler';
  domain.handler = handler;
  domain.handlerToken = token;
}

/**
 * report_iommu_fault(): called by an IOMMU driver when a translation faults. Runs the domain's
 * handler and returns what it returns; without a handler returns -ENOSYS so the driver prints its
 * own "Unhandled context fault" line. Either way the io_page_fault trace line is logged (debug).
 */
export function reportIommuFault(domain: IommuDomain, dev: Device | null, iova: number, flags: number): number {
  let ret = -ENOSYS;
  if (domain.cookieType === 'fault-handler' && domain.handler !== null) {
    ret = domain.handler(domain, dev, iova, flags, domain.handlerToken);
  }
  const driver = dev?.driverName ?? '(null)';
  const device = dev?.name ?? '(null)';
  domain.log?.debug(`IOMMU:${driver} ${device} iova=${hex(iova, 16)} flags=${hex(flags, 4)}`);
  return ret;
}
