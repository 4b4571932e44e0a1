import type { Device, OfDeviceId } from '@dmasim/bus';
import type { IommuProfile } from '@dmasim/iommu-core';

/** enum arm_smmu_arch_version: SMMUv1, SMMUv1 that also walks AArch64 64K tables (MMU-401), SMMUv2. */
export type ArmSmmuArchVersion = 'v1' | 'v1-64k' | 'v2';

/** enum arm_smmu_implementation (the implementations this model knows). */
export type ArmSmmuImplementation = 'generic' | 'arm-mmu500';

/** struct arm_smmu_match_data. */
export interface ArmSmmuMatchData {
  readonly version: ArmSmmuArchVersion;
  readonly model: ArmSmmuImplementation;
}

/** arm_smmu_of_match: the compatibles the driver binds to, with their match data. */
export const ARM_SMMU_OF_MATCH: readonly OfDeviceId[] = [
  { compatible: 'arm,smmu-v1', data: { version: 'v1', model: 'generic' } satisfies ArmSmmuMatchData },
  { compatible: 'arm,smmu-v2', data: { version: 'v2', model: 'generic' } satisfies ArmSmmuMatchData },
  { compatible: 'arm,mmu-400', data: { version: 'v1', model: 'generic' } satisfies ArmSmmuMatchData },
  { compatible: 'arm,mmu-401', data: { version: 'v1-64k', model: 'generic' } satisfies ArmSmmuMatchData },
  { compatible: 'arm,mmu-500', data: { version: 'v2', model: 'arm-mmu500' } satisfies ArmSmmuMatchData },
];

/** ARM_SMMU_FEAT_*: what the configuration probe found. */
export interface ArmSmmuFeatures {
  coherentWalk: boolean;
  streamMatch: boolean;
  transS1: boolean;
  transS2: boolean;
  transNested: boolean;
  transOps: boolean;
  fmtAarch64_4K: boolean;
  fmtAarch64_16K: boolean;
  fmtAarch64_64K: boolean;
  fmtAarch32L: boolean;
  fmtAarch32S: boolean;
}

export function noFeatures(): ArmSmmuFeatures {
  return {
    coherentWalk: false, streamMatch: false, transS1: false, transS2: false, transNested: false, transOps: false,
    fmtAarch64_4K: false, fmtAarch64_16K: false, fmtAarch64_64K: false, fmtAarch32L: false, fmtAarch32S: false,
  };
}

/** Module parameters and build options of the driver. */
export interface ArmSmmuDriverOptions {
  /**
   * arm-smmu.disable_bypass: unmatched streams (and free stream map entries) fault instead of
   * bypassing. Default: false for `linux-4.2` (the parameter's default then), true for `linux-6.x`
   * (CONFIG_ARM_SMMU_DISABLE_BYPASS_BY_DEFAULT=y).
   */
  readonly disableBypass?: boolean;
  /**
   * disable_bypass for one SMMU instance (a board's `iommus[].disableBypass`), or undefined to use
   * `disableBypass`: the reset then programs unmatched streams and free stream map entries to fault.
   */
  readonly disableBypassOf?: (smmuDev: Device) => boolean | undefined;
  /** arm-smmu.force_stage: 1 or 2 restricts the stages used; 0 (default) uses what the hardware has. */
  readonly forceStage?: 0 | 1 | 2;
  /** Which kernel generation to behave like; defaults to the IommuCore's profile. */
  readonly profile?: IommuProfile;
}

/** The context format chosen for a domain (ARM_SMMU_CTX_FMT_*). */
export type ArmSmmuContextFormat = 'aarch64' | 'aarch32-l';

/** enum arm_smmu_domain_stage. */
export type ArmSmmuDomainStage = 's1' | 's2' | 'nested' | 'bypass';

/** ARM_SMMU_INVALID_IRPTNDX. */
export const ARM_SMMU_INVALID_IRPTNDX = 0xff;

/** ARM_SMMU_MAX_CBS. */
export const ARM_SMMU_MAX_CBS = 128;
