import type { DmaPortFault, DmaTranslation } from '@dmasim/core';
import type { SmmuV3Fault, SmmuV3Hardware } from './smmu-v3';

/**
 * The SMMUv3 in front of one master's DMA port: every transaction carries the master's stream id
 * (asked late, since a PCI function's requester id is known only after enumeration; null means the
 * master is not behind this SMMU). A refused transaction never reaches memory.
 */
export class SmmuV3DmaHop implements DmaTranslation {
  constructor(
    private readonly smmu: SmmuV3Hardware,
    private readonly streamId: () => number | null,
    private readonly onFault: (fault: SmmuV3Fault) => void = () => {},
  ) {}

  translate(addr: number, len: number, access: 'read' | 'write'): { ok: true; addr: number; length: number } | { ok: false; fault: DmaPortFault; addr: number } {
    const sid = this.streamId();
    if (sid === null) return { ok: true, addr, length: len };
    const t = this.smmu.translateFast(sid, addr, access, len);
    if (t.fault === null) return { ok: true, addr: t.phys, length: Math.max(1, Math.min(len, t.length)) };
    this.onFault(t.fault);
    return { ok: false, fault: 'iommu-fault', addr };
  }
}
