/**
 * Constants and small types of the IOMMU API (include/linux/iommu.h).
 */

/** Protection flags (IOMMU_READ | IOMMU_WRITE ...): one definition, shared with the page tables. */
export { IOMMU_READ, IOMMU_WRITE, IOMMU_CACHE, IOMMU_NOEXEC, IOMMU_MMIO, IOMMU_PRIV } from '../io-pgtable/prot';

/** Fault flags passed to fault handlers. */
export const IOMMU_FAULT_READ = 0x0;
export const IOMMU_FAULT_WRITE = 0x1;

/**
 * Domain types. The kernel encodes them as bit sets (paging, DMA API, flush queue); dmasim keeps the
 * names and answers the same questions through `isPagingDomain` / `isDmaDomain`.
 */
export type IommuDomainType = 'BLOCKED' | 'IDENTITY' | 'UNMANAGED' | 'DMA' | 'DMA_FQ';
export const IOMMU_DOMAIN_BLOCKED: IommuDomainType = 'BLOCKED';
export const IOMMU_DOMAIN_IDENTITY: IommuDomainType = 'IDENTITY';
export const IOMMU_DOMAIN_UNMANAGED: IommuDomainType = 'UNMANAGED';
export const IOMMU_DOMAIN_DMA: IommuDomainType = 'DMA';
export const IOMMU_DOMAIN_DMA_FQ: IommuDomainType = 'DMA_FQ';

/** __IOMMU_DOMAIN_PAGING: the domain has page tables (UNMANAGED, DMA, DMA_FQ). */
export function isPagingDomainType(type: IommuDomainType): boolean {
  return type === 'UNMANAGED' || type === 'DMA' || type === 'DMA_FQ';
}

/** iommu_is_dma_domain(): the DMA API owns the domain (DMA, DMA_FQ). */
export function isDmaDomainType(type: IommuDomainType): boolean {
  return type === 'DMA' || type === 'DMA_FQ';
}

/** The names `iommu_domain_type_str()` prints. */
export function iommuDomainTypeStr(type: IommuDomainType | 0): string {
  switch (type) {
    case 'BLOCKED':
      return 'Blocked';
    case 'IDENTITY':
      return 'Passthrough';
    case 'UNMANAGED':
      return 'Unmanaged';
    case 'DMA':
    case 'DMA_FQ':
      return 'Translated';
    default:
      return 'Unknown';
  }
}

/** enum iommu_cap. */
export type IommuCap = 'CACHE_COHERENCY' | 'NOEXEC' | 'PRE_BOOT_PROTECTION' | 'ENFORCE_CACHE_COHERENCY' | 'DEFERRED_FLUSH' | 'DIRTY_TRACKING';

/** notifier return codes (include/linux/notifier.h). */
export const NOTIFY_DONE = 0x0000;
export const NOTIFY_OK = 0x0001;
export const NOTIFY_STOP_MASK = 0x8000;
export const NOTIFY_BAD = NOTIFY_STOP_MASK | 0x0002;

/** IOMMU_BUS_NOTIFY_PRIORITY: the IOMMU core's own bus notifier priority. */
export const IOMMU_BUS_NOTIFY_PRIORITY = 0;
