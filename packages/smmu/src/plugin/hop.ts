import type { DmaPortFault, DmaTranslation } from '@dmasim/core';
import type { IommuMasterLink } from '@dmasim/iommu-core';
import type { SmmuHardware } from '../hw/smmu';

/**
 * The SMMU in front of one master's DMA: the transaction carries the master's first stream id
 * (read on each transaction, since a PCI function's requester id is known only after enumeration).
 * A master without a stream id yet passes untranslated. Refused transactions go to the master
 * link for the report; the SMMU itself records them in its fault registers and interrupts.
 */
export class SmmuHop implements DmaTranslation {
  constructor(
    private readonly smmu: SmmuHardware,
    private readonly master: IommuMasterLink,
  ) {}

  translate(addr: number, len: number, access: 'read' | 'write'): { ok: true; addr: number; length: number } | { ok: false; fault: DmaPortFault; addr: number } {
    const sid = this.master.ids()?.[0];
    if (sid === undefined) return { ok: true, addr, length: len };
    // translateFast: the allocation-free entry point (its result is overwritten by the next call)
    const t = this.smmu.translateFast(sid, addr, access, len);
    if (t.fault === null) return { ok: true, addr: t.phys, length: Math.max(1, Math.min(len, t.length)) };
    this.master.fault({ id: sid, iova: addr, access, kind: t.fault.kind });
    return { ok: false, fault: 'iommu-fault', addr };
  }
}
