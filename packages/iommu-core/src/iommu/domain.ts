import type { Device } from '@dmasim/bus';
import { EEXIST, type EventEmitter, type KernelLog } from '@dmasim/core';
import type { IommuEvents } from './events';
import type { IommuIotlbGather } from './gather';
import type { IommuOps } from './ops';
import type { IommuDomainType } from './types';
import { isPagingDomainType } from './types';

/** struct iommu_domain_geometry: the IOVA window the hardware translates. */
export interface IommuDomainGeometry {
  /** First address that can be mapped. */
  apertureStart: number;
  /** Last address that can be mapped (inclusive). */
  apertureEnd: number;
  /** DMA only allowed inside the aperture. */
  forceAperture: boolean;
}

/** The kernel's `size_t *mapped` out-parameter of map_pages, reused by callers on hot paths. */
export interface MappedOut {
  mapped: number;
}

/**
 * struct iommu_domain_ops: what an IOMMU driver does for one domain. Return values follow the
 * kernel: 0 or a negative errno, byte counts for unmap, 0 for an untranslated IOVA.
 */
export interface IommuDomainOps {
  attachDev(domain: IommuDomain, dev: Device): number;
  /** 2015 drivers: undo attachDev (later kernels attach another domain instead). */
  detachDev?(domain: IommuDomain, dev: Device): void;
  /**
   * Map `pgcount` pages of `pgsize` bytes. Sets `out.mapped` to the bytes mapped, even on error,
   * so the caller can unwind.
   */
  mapPages(domain: IommuDomain, iova: number, paddr: number, pgsize: number, pgcount: number, prot: number, out: MappedOut): number;
  /** Unmap up to `pgcount` pages of `pgsize` bytes; returns the bytes unmapped (0 at a hole). */
  unmapPages(domain: IommuDomain, iova: number, pgsize: number, pgcount: number, gather: IommuIotlbGather): number;
  iovaToPhys(domain: IommuDomain, iova: number): number;
  flushIotlbAll?(domain: IommuDomain): void;
  iotlbSyncMap?(domain: IommuDomain, iova: number, size: number): number;
  iotlbSync?(domain: IommuDomain, gather: IommuIotlbGather): void;
  free?(domain: IommuDomain): void;
}

/** iommu_fault_handler_t: returns 0 when handled, -ENOSYS to ask for the driver's default. */
export type IommuFaultHandler = (domain: IommuDomain, dev: Device | null, iova: number, flags: number, token: unknown) => number;

/** Who owns `domain.cookie` (enum iommu_domain_cookie_type). */
export type IommuCookieType = 'none' | 'dma-iova' | 'dma-msi' | 'fault-handler' | 'iommufd';

let nextDomainId = 1;

/**
 * struct iommu_domain. An IOMMU driver makes one in `domainAlloc` (it may subclass this to hold
 * its own state: a context bank, page-table ops); the core sets `type` and `owner`.
 */
export class IommuDomain {
  type: IommuDomainType;
  /** The ops of the driver that allocated it (domain->owner). */
  owner: IommuOps | null = null;
  /** Page sizes the domain maps, as a sum of powers of two (never combined with bitwise operators). */
  pgsizeBitmap: number;
  readonly geometry: IommuDomainGeometry;
  /** dma-iommu's per-domain state (IOVA allocator, flush queue); owned per `cookieType`. */
  cookie: unknown = null;
  cookieType: IommuCookieType = 'none';
  /** Called by iommuDomainFree when a cookie is set (iommu_put_dma_cookie and friends). */
  cookieRelease: ((domain: IommuDomain) => void) | null = null;
  handler: IommuFaultHandler | null = null;
  handlerToken: unknown = undefined;
  /** A machine-unique number for reports and logs (not a kernel field). */
  readonly id: number;
  freed = false;
  /** The machine's log, set by the IommuCore that allocates or attaches the domain. */
  log: KernelLog | null = null;
  /** The IOMMU core's observational events, set with `log`; null for a domain no core has seen. */
  events: EventEmitter<IommuEvents> | null = null;

  constructor(
    readonly ops: IommuDomainOps,
    init: { type?: IommuDomainType; pgsizeBitmap?: number; geometry?: Partial<IommuDomainGeometry>; id?: number } = {},
  ) {
    this.type = init.type ?? 'UNMANAGED';
    this.pgsizeBitmap = init.pgsizeBitmap ?? 0;
    this.geometry = {
      apertureStart: init.geometry?.apertureStart ?? 0,
      apertureEnd: init.geometry?.apertureEnd ?? Number.MAX_SAFE_INTEGER,
      forceAperture: init.geometry?.forceAperture ?? false,
    };
    // A driver that numbers its own domains (one per machine) keeps reports identical across runs in
    // one process; the process-wide counter is the fallback for domains made outside a machine.
    this.id = init.id ?? nextDomainId++;
  }

  get isPaging(): boolean {
    return isPagingDomainType(this.type);
  }

  /** Sets the cookie slot; returns -EEXIST (as a negative number) when one is already set. */
  setCookie(type: Exclude<IommuCookieType, 'none'>, cookie: unknown, release: ((domain: IommuDomain) => void) | null = null): number {
    if (this.cookieType !== 'none') return -EEXIST;
    this.cookieType = type;
    this.cookie = cookie;
    this.cookieRelease = release;
    return 0;
  }

  clearCookie(): void {
    this.cookieType = 'none';
    this.cookie = null;
    this.cookieRelease = null;
  }
}
