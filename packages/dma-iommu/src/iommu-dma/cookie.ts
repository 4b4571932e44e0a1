import { EEXIST, EINVAL, ENODEV, ENOMEM } from '@dmasim/core';
import type { IommuDomain, IovaDomain } from '@dmasim/iommu-core';
import type { IovaFlushQueue } from './flush-queue';

/**
 * struct iommu_dma_cookie: dma-iommu's per-domain state, hung on `domain.cookie`. The IOVA
 * allocator exists once the domain is initialised (iommuDmaInitDomain); `fq` is set for a DMA_FQ
 * domain whose flush queue came up (lazy mode), null in strict mode.
 */
export class IommuDmaCookie {
  /** The IOVA allocator; null until iommuDmaInitDomain. */
  iovad: IovaDomain | null = null;
  /** Highest usable pfn the domain was last initialised with (2015's dma_32bit_pfn). */
  endPfn = 0;
  fq: IovaFlushQueue | null = null;
  /** Unmaps the strict path has synced, for tests and reports. */
  strictSyncs = 0;

  constructor(readonly domain: IommuDomain) {}

  /** The granule in bytes (0 before init). */
  get granule(): number {
    return this.iovad?.granule ?? 0;
  }
}

/** The domain's IOVA cookie, or null when it has none (not a DMA API domain). */
export function iommuDmaCookieOf(domain: IommuDomain): IommuDmaCookie | null {
  return domain.cookieType === 'dma-iova' ? (domain.cookie as IommuDmaCookie) : null;
}

/**
 * iommu_get_dma_cookie(): give a domain the DMA API's state. -EEXIST when the domain already has a
 * cookie of any kind. The cookie is released with the domain (iommuDomainFree) or by iommuPutDmaCookie.
 */
export function iommuGetDmaCookie(domain: IommuDomain): number {
  if (domain.cookieType !== 'none') return -EEXIST;
  const ret = domain.setCookie('dma-iova', new IommuDmaCookie(domain), iommuPutDmaCookie);
  return ret === 0 ? 0 : ret === -EEXIST ? -EEXIST : -ENOMEM;
}

/** iommu_put_dma_cookie(): drop the flush queue and the IOVA allocator. No-op without a DMA cookie. */
export function iommuPutDmaCookie(domain: IommuDomain): void {
  const cookie = iommuDmaCookieOf(domain);
  if (cookie === null) return;
  cookie.fq?.destroy();
  cookie.fq = null;
  cookie.iovad?.putIovaDomain();
  cookie.iovad = null;
  domain.clearCookie();
}

/** The initialised cookie of a domain, or a negative errno (-ENODEV: no cookie, -EINVAL: not initialised). */
export function initialisedCookie(domain: IommuDomain): IommuDmaCookie | number {
  const cookie = iommuDmaCookieOf(domain);
  if (cookie === null) return -ENODEV;
  if (cookie.iovad === null) return -EINVAL;
  return cookie;
}
