/** What the swiotlb functions share: the machine's memory services and the hooks of the layer above. */
import type { KernelLog, PageAllocator, PhysicalMemory } from '@dmasim/core/standalone';
import type { BounceCopier } from './bounce';
import type { DeviceReach } from './device';

export interface SwiotlbContext {
  readonly memory: PhysicalMemory;
  readonly pages: PageAllocator;
  readonly log: KernelLog;
  readonly reach: DeviceReach;
  readonly copier: BounceCopier;
  /** The CPU doing the mapping (raw_smp_processor_id), which picks the first area searched. */
  cpu(): number;
  /** schedule_work(): runs fn later, outside the current mapping. */
  queueWork(label: string, fn: () => void): void;
}

/** The "software IO TLB: " pr_fmt prefix of swiotlb's own (non-dev_*) messages. */
export const PR_FMT = 'software IO TLB: ';
