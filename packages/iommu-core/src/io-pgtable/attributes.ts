import {
  MAIR_ATTR_IDX_CACHE,
  MAIR_ATTR_IDX_DEV,
  PTE_AF,
  PTE_AP_RDONLY,
  PTE_AP_UNPRIV,
  PTE_ATTRINDX_SHIFT,
  PTE_HAP_FAULT,
  PTE_HAP_READ,
  PTE_HAP_WRITE,
  PTE_HI_XN,
  PTE_MEMATTR_DEV,
  PTE_MEMATTR_NC,
  PTE_MEMATTR_OIWB,
  PTE_NG,
  PTE_SH_IS,
  PTE_SH_OS,
} from './descriptor';
import { IOMMU_CACHE, IOMMU_MMIO, IOMMU_NOEXEC, IOMMU_PRIV, IOMMU_PROT_MASK, IOMMU_READ, IOMMU_WRITE } from './prot';
import type { IoPgtableFmt } from './types';

/**
 * arm_lpae_prot_to_pte: the attribute bits of a leaf descriptor for an IOMMU prot value, as the
 * low and high 32-bit words (type and address bits are added when the entry is written).
 *
 * Stage 1: nG always; AP read-only when readable but not writable; AP unprivileged unless
 * IOMMU_PRIV; AttrIndx 2 (Device) for MMIO, 1 (write-back) for CACHE, else 0 (Non-cacheable).
 * Stage 2: S2AP read/write from READ/WRITE; MemAttr Device / outer+inner write-back /
 * Non-cacheable likewise. Both: inner shareable for CACHE else outer shareable, XN for NOEXEC,
 * AF always.
 */
export function protToPteWords(fmt: IoPgtableFmt, prot: number): { lo: number; hi: number } {
  let lo: number;
  if (fmt === 's1') {
    lo = PTE_NG;
    if (!(prot & IOMMU_WRITE) && prot & IOMMU_READ) lo |= PTE_AP_RDONLY;
    if (!(prot & IOMMU_PRIV)) lo |= PTE_AP_UNPRIV;
    if (prot & IOMMU_MMIO) lo |= MAIR_ATTR_IDX_DEV << PTE_ATTRINDX_SHIFT;
    else if (prot & IOMMU_CACHE) lo |= MAIR_ATTR_IDX_CACHE << PTE_ATTRINDX_SHIFT;
  } else {
    lo = PTE_HAP_FAULT;
    if (prot & IOMMU_READ) lo |= PTE_HAP_READ;
    if (prot & IOMMU_WRITE) lo |= PTE_HAP_WRITE;
    if (prot & IOMMU_MMIO) lo |= PTE_MEMATTR_DEV;
    else if (prot & IOMMU_CACHE) lo |= PTE_MEMATTR_OIWB;
    else lo |= PTE_MEMATTR_NC;
  }
  lo |= prot & IOMMU_CACHE ? PTE_SH_IS : PTE_SH_OS;
  lo |= PTE_AF;
  const hi = prot & IOMMU_NOEXEC ? PTE_HI_XN : 0;
  return { lo, hi };
}

/**
 * Precomputed attribute words for every prot value (0..IOMMU_PROT_MASK), so the map path does one
 * typed-array load instead of recomputing the bits.
 */
export class PteAttributeTable {
  readonly lo: Uint32Array;
  readonly hi: Uint32Array;

  constructor(fmt: IoPgtableFmt) {
    const n = IOMMU_PROT_MASK + 1;
    this.lo = new Uint32Array(n);
    this.hi = new Uint32Array(n);
    for (let prot = 0; prot < n; prot++) {
      const w = protToPteWords(fmt, prot);
      this.lo[prot] = w.lo;
      this.hi[prot] = w.hi;
    }
  }
}
