import type { Device } from '@dmasim/bus';
import type { IrqLine } from '@dmasim/core';
import { IommuDomain, type ArmLpaeIoPgtable, type IommuDomainOps, type IommuDomainType, type IommuFlushOps } from '@dmasim/iommu-core';
import type { ArmSmmuDevice } from './arm-smmu-device';
import type { ArmSmmuCfg, TlbTarget } from './context';
import type { ArmSmmuDomainStage } from './types';

/**
 * struct arm_smmu_domain: an IOMMU domain of this driver. It is only half made until the first
 * attach finalises it on an SMMU (arm_smmu_init_domain_context): then it owns a context bank,
 * page tables in memory and a context interrupt handler.
 */
export class ArmSmmuDomain extends IommuDomain {
  /** The SMMU the domain is finalised on; null until the first attach. */
  smmu: ArmSmmuDevice | null = null;
  /** Requested stage: stage 1 unless the hardware lacks it (decided at finalise). */
  stage: ArmSmmuDomainStage = 's1';
  readonly cfg: ArmSmmuCfg = { cbndx: -1, irptndx: 0, asid: 0, vmid: 0, cbar: 0, fmt: 'aarch64' };
  pgtbl: ArmLpaeIoPgtable | null = null;
  flushOps: IommuFlushOps | null = null;
  /** The context interrupt line and the name its handler was requested under. */
  irq: { line: IrqLine; name: string } | null = null;
  /** Devices whose stream map entries point at this domain's bank. */
  readonly devices = new Set<Device>();

  constructor(ops: IommuDomainOps, type: IommuDomainType, id?: number) {
    super(ops, { type, ...(id !== undefined ? { id } : {}) });
  }

  /** The context bank index, or null while not finalised (or an identity domain). */
  get contextBank(): number | null {
    return this.smmu !== null && this.stage !== 'bypass' ? this.cfg.cbndx : null;
  }

  /** What the TLB callbacks act on; set when the domain is finalised. */
  tlb: TlbTarget | null = null;

  tlbTarget(): TlbTarget {
    if (this.tlb === null) throw new Error('arm-smmu: TLB maintenance on a domain that is not finalised');
    return this.tlb;
  }
}
