/**
 * IOMMU protection flags (include/linux/iommu.h). A mapping's `prot` is an OR of these small bit
 * flags (a genuine 6-bit flag word, so bitwise operators are fine on it).
 */

/** The device may read through the mapping. */
export const IOMMU_READ = 1 << 0;
/** The device may write through the mapping. */
export const IOMMU_WRITE = 1 << 1;
/** The device's accesses are cache-coherent (DMA_ATTR / `dma-coherent`): memory is mapped cacheable. */
export const IOMMU_CACHE = 1 << 2;
/** Instruction fetches are not allowed (XN). */
export const IOMMU_NOEXEC = 1 << 3;
/** The target is MMIO (map_resource, MSI doorbells): mapped as Device memory. */
export const IOMMU_MMIO = 1 << 4;
/** Privileged accesses only (DMA_ATTR_PRIVILEGED): stage-1 AP without the unprivileged bit. */
export const IOMMU_PRIV = 1 << 5;

/** Every flag defined above; prot values outside this set are rejected by the page-table code. */
export const IOMMU_PROT_MASK = IOMMU_READ | IOMMU_WRITE | IOMMU_CACHE | IOMMU_NOEXEC | IOMMU_MMIO | IOMMU_PRIV;

/** `IOMMU_READ|IOMMU_WRITE|...` text for logs and test messages. */
export function protToString(prot: number): string {
  const names: string[] = [];
  if (prot & IOMMU_READ) names.push('READ');
  if (prot & IOMMU_WRITE) names.push('WRITE');
  if (prot & IOMMU_CACHE) names.push('CACHE');
  if (prot & IOMMU_NOEXEC) names.push('NOEXEC');
  if (prot & IOMMU_MMIO) names.push('MMIO');
  if (prot & IOMMU_PRIV) names.push('PRIV');
  return names.length === 0 ? '0' : names.join('|');
}
