/**
 * ARM LPAE I/O page tables of `@dmasim/iommu-core` (Linux drivers/iommu/io-pgtable-arm.c), kept
 * as architectural descriptors in simulated physical memory.
 */
export { ArmLpaeIoPgtable, IoPgtableFreedError } from './arm-lpae';
export type { MappedBytes } from './arm-lpae';
export { allocIoPgtableOps, freeIoPgtableOps } from './io-pgtable';
export { ARM_64_LPAE_S1, ARM_64_LPAE_S2 } from './types';
export type {
  IoPgtableFmt,
  IoPgtableCfg,
  IoPgtableEnv,
  IommuFlushOps,
  IommuIotlbGather,
  ArmLpaeS1Cfg,
  ArmLpaeS2Cfg,
  ArmLpaeTcr,
  ArmLpaeVtcr,
} from './types';
export * from './prot';
export * from './descriptor';
export { protToPteWords } from './attributes';
export {
  ARM_LPAE_MAX_LEVELS,
  ARM_LPAE_S2_MAX_CONCAT_PAGES,
  LPAE_4K_PGSIZES,
  LPAE_GRANULE,
  lpaeBlockSize,
  lpaeGeometry,
  lpaeOutputSizeCode,
} from './geometry';
export type { LpaeGeometry } from './geometry';
export {
  ARM_LPAE_MAIR,
  ARM_LPAE_TCR_RGN_NC,
  ARM_LPAE_TCR_RGN_WBWA,
  ARM_LPAE_TCR_SH_IS,
  ARM_LPAE_TCR_SH_OS,
  ARM_LPAE_TCR_TG0_4K,
  armLpaeTcrValue,
  armLpaeVtcrValue,
  mairAttr,
} from './registers';
export { iommuPgsize, pgsizeBitmapToList, pgsizeListToBitmap } from './pgsize';
export type { PgsizeCount } from './pgsize';
