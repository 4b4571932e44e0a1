import type { Scheduler } from '@dmasim/core';
import { iommuFlushIotlbAll, type IommuDomain } from '@dmasim/iommu-core';

/** Entries of one per-CPU flush queue (IOVA_DEFAULT_FQ_SIZE). */
export const IOVA_DEFAULT_FQ_SIZE = 256;
/** Entries of the single queue used when the IOMMU shadows its tables on flush (IOVA_SINGLE_FQ_SIZE). */
export const IOVA_SINGLE_FQ_SIZE = 32768;
/** Milliseconds before a per-CPU queue is flushed by its timer (IOVA_DEFAULT_FQ_TIMEOUT). */
export const IOVA_DEFAULT_FQ_TIMEOUT = 10;
/** Milliseconds for the single queue (IOVA_SINGLE_FQ_TIMEOUT). */
export const IOVA_SINGLE_FQ_TIMEOUT = 1000;

export interface FlushQueueOptions {
  /** IOMMU_DMA_OPTS_SINGLE_QUEUE (32768 entries, 1000 ms) instead of the per-CPU queue. */
  readonly singleQueue?: boolean;
  /** Arms the flush timer; without one the queue is flushed only when full or by `flush()`. */
  readonly sched?: Scheduler | null;
}

/**
 * The lazy-invalidation flush queue of a DMA_FQ domain (struct iova_fq plus the cookie's
 * counters): unmapped IOVAs wait here, still possibly cached in the IOTLB, until a flush of the
 * whole IOTLB; only then are they given back to the allocator. Until that flush a device can
 * still reach the old pages through stale IOTLB entries: the window lazy mode trades for speed.
 * One queue models the current CPU's (dmasim runs one CPU).
 */
export class IovaFlushQueue {
  readonly size: number;
  readonly timeoutMs: number;
  /** fq_flush_start_cnt / fq_flush_finish_cnt. */
  flushStartCnt = 0;
  flushFinishCnt = 0;
  /** Flushes done (timer, full queue or explicit). */
  flushes = 0;
  private head = 0;
  private tail = 0;
  private readonly pfns: Float64Array;
  private readonly pages: Float64Array;
  private readonly counters: Float64Array;
  private timer: { cancel(): void } | null = null;
  private readonly sched: Scheduler | null;

  constructor(
    private readonly domain: IommuDomain,
    /** Gives a range back to the IOVA allocator (free_iova_fast). */
    private readonly freeIova: (pfn: number, pages: number) => void,
    options: FlushQueueOptions = {},
  ) {
    this.size = options.singleQueue ? IOVA_SINGLE_FQ_SIZE : IOVA_DEFAULT_FQ_SIZE;
    this.timeoutMs = options.singleQueue ? IOVA_SINGLE_FQ_TIMEOUT : IOVA_DEFAULT_FQ_TIMEOUT;
    this.sched = options.sched ?? null;
    this.pfns = new Float64Array(this.size);
    this.pages = new Float64Array(this.size);
    this.counters = new Float64Array(this.size);
  }

  /** Entries waiting for a flush. */
  get length(): number {
    return (this.tail - this.head + this.size) % this.size;
  }

  /** Whether the flush timer is armed (fq_timer_on). */
  get timerPending(): boolean {
    return this.timer !== null;
  }

  private full(): boolean {
    return (this.tail + 1) % this.size === this.head;
  }

  /** fq_ring_free_locked(): free every entry queued before the last completed flush. */
  private ringFree(): void {
    const done = this.flushFinishCnt;
    while (this.head !== this.tail) {
      const i = this.head;
      if (this.counters[i]! >= done) break;
      this.freeIova(this.pfns[i]!, this.pages[i]!);
      this.head = (i + 1) % this.size;
    }
  }

  /** fq_flush_iotlb(): invalidate the domain's whole IOTLB. */
  private flushIotlb(): void {
    this.flushStartCnt++;
    iommuFlushIotlbAll(this.domain);
    this.flushFinishCnt++;
    this.flushes++;
  }

  /** queue_iova(): defer freeing `pages` granules at `pfn` until the next IOTLB flush. */
  queueIova(pfn: number, pages: number): void {
    this.ringFree();
    if (this.full()) {
      this.flushIotlb();
      this.ringFree();
    }
    const i = this.tail;
    this.pfns[i] = pfn;
    this.pages[i] = pages;
    this.counters[i] = this.flushStartCnt;
    this.tail = (i + 1) % this.size;
    if (this.timer === null && this.sched !== null) {
      this.timer = this.sched.schedule(this.timeoutMs * 1e6, () => this.timeout(), 'fq_flush_timeout');
    }
  }

  /** fq_flush_timeout(): the timer fired: flush and free everything queued. */
  private timeout(): void {
    this.timer = null;
    this.flush();
  }

  /** Flush the IOTLB now and give every queued range back. */
  flush(): void {
    this.flushIotlb();
    this.ringFree();
  }

  /** iommu_dma_free_fq(): on domain teardown; the IOTLB goes with the domain, ranges are freed. */
  destroy(): void {
    this.timer?.cancel();
    this.timer = null;
    this.flush();
  }
}
