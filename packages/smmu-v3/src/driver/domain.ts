import type { Device } from '@dmasim/bus';
import type { IommuIotlbGather} from '@dmasim/iommu-core';
import { IommuDomain, type ArmLpaeIoPgtable, type IommuDomainOps, type IommuDomainType } from '@dmasim/iommu-core';
import type { ArmSmmuV3Device } from './arm-smmu-v3-device';

/** enum arm_smmu_domain_stage, plus the abort-everything stage of blocked domains (later kernels). */
export type ArmSmmuV3DomainStage = 's1' | 's2' | 'bypass' | 'blocked';

/** struct arm_smmu_ctx_desc: the CD a stage-1 domain writes for substream 0. */
export interface ArmSmmuCtxDesc {
  asid: number;
  ttbr: number;
  /** CD dword 0 without V/ASID (T0SZ, TG0, IRGN0, ORGN0, SH0, EPD1 in the low word; IPS, AA64 in the high). */
  tcrLo: number;
  tcrHi: number;
  mair: number;
}

/** struct arm_smmu_s1_cfg: the CD table (linear, one CD per substream) and the domain's CD. */
export interface ArmSmmuS1Cfg {
  cdtab: number;
  s1cdmax: number;
  cd: ArmSmmuCtxDesc;
}

/** struct arm_smmu_s2_cfg. */
export interface ArmSmmuS2Cfg {
  vmid: number;
  vttbr: number;
  vtcr: number;
}

/** struct arm_smmu_master: a device behind an SMMUv3 and its stream ids. */
export interface ArmSmmuMaster {
  readonly dev: Device;
  readonly smmu: ArmSmmuV3Device;
  readonly sids: readonly number[];
  domain: ArmSmmuV3Domain | null;
  ssidBits: number;
}

/** struct arm_smmu_domain. */
export class ArmSmmuV3Domain extends IommuDomain {
  smmu: ArmSmmuV3Device | null = null;
  stage: ArmSmmuV3DomainStage = 's1';
  pgtbl: ArmLpaeIoPgtable | null = null;
  s1Cfg: ArmSmmuS1Cfg | null = null;
  s2Cfg: ArmSmmuS2Cfg | null = null;
  readonly devices = new Set<ArmSmmuMaster>();
  /** The gather of the unmap in progress, which tlbAddPage grows (iommu_iotlb_gather_add_page). */
  gather: IommuIotlbGather | null = null;

  constructor(ops: IommuDomainOps, type: IommuDomainType, id: number) {
    super(ops, { type, id });
  }
}
