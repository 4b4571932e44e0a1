import { IommuIotlbGather, iommuFlushIotlbAll, iommuUnmapFast, type IommuDomain } from '@dmasim/iommu-core';

/** IOVA_FQ_SIZE: entries a flush queue holds before it must flush. */
export const IOVA_FQ_SIZE = 256;

/**
 * A minimal deferred-invalidation queue for a DMA_FQ (lazy) domain, enough to show the stale window
 * the dma-iommu flush queue opens: unmaps clear the page-table entries but post no TLB
 * invalidation, so the IOTLB may keep serving a removed translation until the queue is flushed with
 * one flush-all (iommu_flush_iotlb_all). The full flush queue (IOVA reuse, timers) lives in the
 * dma-iommu layer.
 */
export class IotlbFlushQueue {
  private readonly pending: { iova: number; size: number }[] = [];
  private readonly gather = new IommuIotlbGather();
  flushes = 0;

  constructor(
    readonly domain: IommuDomain,
    readonly capacity: number = IOVA_FQ_SIZE,
  ) {}

  /** Unmap without invalidating; the range waits in the queue. Returns the bytes unmapped. */
  unmap(iova: number, size: number): number {
    this.gather.queued = true;
    const unmapped = iommuUnmapFast(this.domain, iova, size, this.gather);
    if (unmapped > 0) this.pending.push({ iova, size: unmapped });
    if (this.pending.length >= this.capacity) this.flush();
    return unmapped;
  }

  /** Ranges unmapped whose TLB entries may still be live. */
  get pendingCount(): number {
    return this.pending.length;
  }

  /** fq_flush_iotlb: one invalidation of the whole context for everything queued. */
  flush(): void {
    iommuFlushIotlbAll(this.domain);
    this.pending.length = 0;
    this.flushes++;
  }
}
