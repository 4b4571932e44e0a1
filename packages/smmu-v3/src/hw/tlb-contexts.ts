import { Iotlb } from '@dmasim/smmu/hw';

/** Translation contexts the IOTLB tells apart at once; the next new one flushes it (a TLB may forget). */
export const MAX_TLB_CONTEXTS = 64;

/**
 * The SMMUv2 IOTLB model (`Iotlb` of `@dmasim/smmu`) serving SMMUv3 tags: SMMUv3 has no context
 * banks, its TLB entries are tagged by ASID (stage 1) or VMID (stage 2). Each tag seen gets a small
 * context number that plays the bank's part in the Iotlb, so a look-up stays one probe per leaf size.
 */
export class TlbContexts {
  readonly iotlb: Iotlb;
  /** Context number per tag: stage-1 tags are the ASID, stage-2 tags 2^16 + VMID. */
  private readonly byTag = new Map<number, number>();
  /** Tag and stage of each context number in use. */
  private readonly tags: number[] = [];
  /** Context numbers of the stage-1 tags, kept as they are made (invalidations walk it). */
  readonly stage1: number[] = [];
  /** Whether a global (nG = 0) stage-1 leaf may be cached, so by-VA invalidations must look for it elsewhere. */
  globalsCached = false;
  /** Called when the contexts are renumbered, so cached configurations holding numbers are dropped. */
  onFlush: () => void = () => {};

  constructor(entries: number) {
    this.iotlb = new Iotlb(entries, MAX_TLB_CONTEXTS);
  }

  static tagOf(stage: 1 | 2, asid: number, vmid: number): number {
    return stage === 1 ? asid : 0x10000 + vmid;
  }

  /** The context number of a tag, made on first use. */
  contextOf(tag: number): number {
    const ctx = this.byTag.get(tag);
    if (ctx !== undefined) return ctx;
    if (this.tags.length === MAX_TLB_CONTEXTS) {
      this.iotlb.invalidateAll();
      this.byTag.clear();
      this.lastTag = -1;
      this.tags.length = 0;
      this.stage1.length = 0;
      this.globalsCached = false;
      this.onFlush();
    }
    const n = this.tags.length;
    this.lastTag = -1;
    this.tags.push(tag);
    this.byTag.set(tag, n);
    if (tag < 0x10000) this.stage1.push(n);
    return n;
  }

  /** The context of a tag if it has one (invalidations of tags never seen have nothing to do). */
  existing(tag: number): number | undefined {
    // a strict domain invalidates its own ASID over and over: remember the last answer
    if (tag === this.lastTag) return this.lastCtx;
    const ctx = this.byTag.get(tag);
    this.lastTag = tag;
    this.lastCtx = ctx;
    return ctx;
  }

  private lastTag = -1;
  private lastCtx: number | undefined = undefined;
}
