import type { DmaPortFault, DmaTranslation } from '@dmasim/core';
import type { IommuMasterLink } from '@dmasim/iommu-core';
import type { RkIommuHardware } from '../hw/rk-iommu-hw';

/**
 * A master's DMA through its own Rockchip IOMMU: no ids (one instance per master), each
 * transaction translated page by page; a refused one goes to the master link for the report.
 */
export class RkIommuHop implements DmaTranslation {
  constructor(
    private readonly hw: RkIommuHardware,
    private readonly master: IommuMasterLink,
  ) {}

  translate(addr: number, len: number, access: 'read' | 'write'): { ok: true; addr: number; length: number } | { ok: false; fault: DmaPortFault; addr: number } {
    const t = this.hw.translate(addr, access);
    if (t.ok) return { ok: true, addr: t.phys, length: Math.max(1, Math.min(len, t.length)) };
    this.master.fault({ id: null, iova: addr, access, kind: t.kind });
    return { ok: false, fault: 'iommu-fault', addr };
  }
}
