import type { Device } from '@dmasim/bus';
import { EFAULT, ENODEV, type KernelLog, type Scheduler } from '@dmasim/core';
import { IovaDomain, minPagesz, type IommuDomain } from '@dmasim/iommu-core';
import { iommuDmaCookieOf, type IommuDmaCookie } from './cookie';
import { IovaFlushQueue } from './flush-queue';

export interface InitDomainEnv {
  readonly log: KernelLog;
  /** The device the domain is set up for (capabilities, dma-ranges). */
  readonly dev?: Device | null;
  /** Arms flush-queue timers of a DMA_FQ domain. */
  readonly sched?: Scheduler | null;
  /** Use the single 32768-entry flush queue (IOMMUs that shadow their tables on flush). */
  readonly singleQueue?: boolean;
}

/** IOMMU_CAP_DEFERRED_FLUSH: drivers without a `capable` callback are taken as able to defer. */
function canDeferFlush(domain: IommuDomain, dev: Device | null): boolean {
  const owner = domain.owner;
  return owner?.capable === undefined ? true : owner.capable(dev, 'DEFERRED_FLUSH');
}

/**
 * iommu_dma_init_domain(): set up the IOVA allocator of a cookie'd domain for the bus-address
 * range [base, base+size). The granule is the smallest page size the domain maps; IOVA page 0 is
 * never handed out (so 0 can mean failure); with a forced aperture a range wholly outside it is
 * refused with -EFAULT and the rest is clipped to it. A domain already initialised may only be
 * enlarged: same granule and start, an end at or above the old one, else -EFAULT.
 * A DMA_FQ domain gets its flush queue here, or falls back to strict DMA when it cannot have one.
 */
export function iommuDmaInitDomain(domain: IommuDomain, base: number, size: number, env: InitDomainEnv): number {
  const cookie = iommuDmaCookieOf(domain);
  if (cookie === null) return -ENODEV;
  const granule = minPagesz(domain.pgsizeBitmap);
  if (granule === 0) return -ENODEV;
  let basePfn = Math.max(1, Math.floor(base / granule));
  let endPfn = Math.floor((base + size - 1) / granule);
  const geo = domain.geometry;
  if (geo.forceAperture) {
    if (base > geo.apertureEnd || base + size <= geo.apertureStart) {
      env.log.warning('specified DMA range outside IOMMU capability');
      return -EFAULT;
    }
    basePfn = Math.max(basePfn, Math.floor(geo.apertureStart / granule));
    endPfn = Math.min(endPfn, Math.floor(geo.apertureEnd / granule));
  }
  if (cookie.iovad !== null) {
    if (cookie.iovad.granule !== granule || cookie.iovad.startPfn !== basePfn || endPfn < cookie.endPfn) {
      env.log.warning('Incompatible range for DMA domain');
      return -EFAULT;
    }
    cookie.endPfn = endPfn;
    return 0;
  }
  cookie.iovad = new IovaDomain(granule, basePfn, { warn: (m) => env.log.warn('drivers/iommu/iova.c', m) });
  cookie.endPfn = endPfn;
  if (domain.type === 'DMA_FQ') initFlushQueue(cookie, domain, env);
  return 0;
}

function initFlushQueue(cookie: IommuDmaCookie, domain: IommuDomain, env: InitDomainEnv): void {
  // "If the FQ fails we can simply fall back to strict mode"
  if (!canDeferFlush(domain, env.dev ?? null)) {
    domain.type = 'DMA';
    return;
  }
  const iovad = cookie.iovad!;
  cookie.fq = new IovaFlushQueue(domain, (pfn, pages) => iovad.freeIovaFast(pfn, pages), {
    singleQueue: env.singleQueue ?? false,
    sched: env.sched ?? null,
  });
}

/**
 * The bus-address range a device can use, as current kernels derive it: its dma-ranges (lowest to
 * highest bus address) when it has them, else everything the domain's aperture covers.
 */
export function dmaRangeOf(dev: Device, domain: IommuDomain): { base: number; size: number } {
  const map = dev.dma.rangeMap;
  if (map !== null && map.length > 0) {
    let lo = Number.MAX_SAFE_INTEGER;
    let hi = 0;
    for (const r of map) {
      lo = Math.min(lo, r.dmaStart);
      hi = Math.max(hi, r.dmaStart + r.size - 1);
    }
    return { base: lo, size: hi - lo + 1 };
  }
  const geo = domain.geometry;
  return { base: geo.apertureStart, size: geo.apertureEnd - geo.apertureStart + 1 };
}
