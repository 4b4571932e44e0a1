import type { OfDeviceId } from '@dmasim/bus';
import type { IommuProfile } from '@dmasim/iommu-core';

/** arm_smmu_of_match. */
export const ARM_SMMU_V3_OF_MATCH: readonly OfDeviceId[] = [{ compatible: 'arm,smmu-v3' }];

/** Module parameters and the profile of the arm-smmu-v3 driver. */
export interface ArmSmmuV3DriverOptions {
  /** `arm-smmu-v3.disable_bypass` (default true): streams with no domain abort rather than bypass. */
  readonly disableBypass?: boolean;
  /** `arm-smmu-v3.disable_msipolling`: CMD_SYNC completion by polling CONS even when MSIs exist. */
  readonly disableMsipolling?: boolean;
  readonly profile?: IommuProfile;
}

/** ARM_SMMU_FEAT_* (the bit values the probe line prints). */
export const ARM_SMMU_FEAT_2_LVL_STRTAB = 1 << 0;
export const ARM_SMMU_FEAT_2_LVL_CDTAB = 1 << 1;
export const ARM_SMMU_FEAT_TT_LE = 1 << 2;
export const ARM_SMMU_FEAT_TT_BE = 1 << 3;
export const ARM_SMMU_FEAT_PRI = 1 << 4;
export const ARM_SMMU_FEAT_ATS = 1 << 5;
export const ARM_SMMU_FEAT_SEV = 1 << 6;
export const ARM_SMMU_FEAT_MSI = 1 << 7;
export const ARM_SMMU_FEAT_COHERENCY = 1 << 8;
export const ARM_SMMU_FEAT_TRANS_S1 = 1 << 9;
export const ARM_SMMU_FEAT_TRANS_S2 = 1 << 10;
export const ARM_SMMU_FEAT_STALLS = 1 << 11;
export const ARM_SMMU_FEAT_HYP = 1 << 12;
export const ARM_SMMU_FEAT_STALL_FORCE = 1 << 13;
export const ARM_SMMU_FEAT_VAX = 1 << 14;
export const ARM_SMMU_FEAT_RANGE_INV = 1 << 15;

/** ARM_SMMU_OPT_MSIPOLL: CMD_SYNC completion is signalled by an MSI write the driver polls. */
export const ARM_SMMU_OPT_MSIPOLL = 1 << 2;

/**
 * Queue size limit: Linux caps a queue at 2^(PAGE_SHIFT + CONFIG_CMA_ALIGNMENT) bytes (1 MiB with 4 KiB
 * pages and the default alignment of 8), so coherent allocations stay naturally aligned.
 */
export const Q_MAX_SZ_SHIFT = 12 + 8;
export const CMDQ_ENT_SZ_SHIFT = 4;
export const EVTQ_ENT_SZ_SHIFT = 5;
export const CMDQ_MAX_SZ_SHIFT = Q_MAX_SZ_SHIFT - CMDQ_ENT_SZ_SHIFT;
export const EVTQ_MAX_SZ_SHIFT = Q_MAX_SZ_SHIFT - EVTQ_ENT_SZ_SHIFT;
/** CMDQ_BATCH_ENTRIES (BITS_PER_LONG): the smallest command queue the driver accepts is larger. */
export const CMDQ_BATCH_ENTRIES = 64;
/** STRTAB_L1_SZ_SHIFT: the level-1 stream table is at most 1 MiB. */
export const STRTAB_L1_SZ_SHIFT = 20;
/** CTXDESC_LINEAR_CDMAX: substream bits a linear CD table serves. */
export const CTXDESC_LINEAR_CDMAX = 10;
/** VA_BITS of the kernel (Debian arm64: 48): stage-1 input size is at most this. */
export const VA_BITS = 48;
