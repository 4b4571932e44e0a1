import { hex, type DmaPortFault, type DmaTranslation } from '@dmasim/core';
import type { SmmuHardware } from '@dmasim/smmu';
import type { FaultReport } from '../report/types';

/**
 * The SMMU in front of one master's DMA: the transaction carries the master's stream id (resolved
 * late, since a PCI function's requester id is known only after enumeration). Refused transactions
 * are recorded for the report; the SMMU itself records them in its fault registers and interrupts.
 */
export class SmmuHop implements DmaTranslation {
  constructor(
    private readonly smmu: SmmuHardware,
    private readonly iommuName: string,
    private readonly deviceName: string,
    private readonly streamId: () => number | null,
    private readonly faults: FaultReport[],
  ) {}

  translate(addr: number, len: number, access: 'read' | 'write'): { ok: true; addr: number; length: number } | { ok: false; fault: DmaPortFault; addr: number } {
    const sid = this.streamId();
    if (sid === null) return { ok: true, addr, length: len };
    // translateFast: the allocation-free entry point (its result is overwritten by the next call)
    const t = this.smmu.translateFast(sid, addr, access, len);
    if (t.fault === null) return { ok: true, addr: t.phys, length: Math.max(1, Math.min(len, t.length)) };
    this.faults.push({ iommu: this.iommuName, device: this.deviceName, streamId: sid, iova: hex(addr), access, kind: t.fault.kind });
    return { ok: false, fault: 'iommu-fault', addr };
  }
}
