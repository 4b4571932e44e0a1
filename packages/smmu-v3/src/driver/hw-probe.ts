import { ENXIO, GiB, KiB, MiB, type KernelLog, type LogDevice, type MmioBus } from '@dmasim/core';
import * as R from '../hw/regs';
import * as F from './types';

/** What arm_smmu_device_hw_probe learns from IDR0..IDR5 (fields of struct arm_smmu_device). */
export interface ArmSmmuV3HwCfg {
  features: number;
  options: number;
  /** Input and output address sizes (ias is max(ias, oas) once probed, as the kernel prints it). */
  ias: number;
  oas: number;
  asidBits: number;
  vmidBits: number;
  sidBits: number;
  ssidBits: number;
  pgsizeBitmap: number;
  cmdqMaxNShift: number;
  evtqMaxNShift: number;
  priqMaxNShift: number;
  maxStalls: number;
}

const SZ_4K = 4 * KiB;
const SZ_16K = 16 * KiB;
const SZ_64K = 64 * KiB;

/**
 * arm_smmu_device_hw_probe: read the ID registers through MMIO, work out the features, sizes and
 * page sizes, and log `ias %lu-bit, oas %lu-bit (features 0x%08x)`. `coherent` is what the firmware
 * says (`dma-coherent`); it wins over IDR0.COHACC, with a warning when they differ. -ENXIO for an SMMU
 * the driver cannot use.
 */
export function armSmmuDeviceHwProbe(mmio: MmioBus, base: number, coherent: boolean, log: KernelLog, dev: LogDevice, disableMsipolling: boolean): ArmSmmuV3HwCfg | number {
  const cfg: ArmSmmuV3HwCfg = {
    features: coherent ? F.ARM_SMMU_FEAT_COHERENCY : 0,
    options: 0, ias: 0, oas: 0, asidBits: 8, vmidBits: 8, sidBits: 0, ssidBits: 0, pgsizeBitmap: 0,
    cmdqMaxNShift: 0, evtqMaxNShift: 0, priqMaxNShift: 0, maxStalls: 0,
  };
  const idr0 = mmio.readl(base + R.IDR0);
  if (((idr0 >>> R.IDR0_ST_LVL_SHIFT) & 3) === R.IDR0_ST_LVL_2LVL) cfg.features |= F.ARM_SMMU_FEAT_2_LVL_STRTAB;
  if ((idr0 & R.IDR0_CD2L) !== 0) cfg.features |= F.ARM_SMMU_FEAT_2_LVL_CDTAB;
  switch ((idr0 >>> R.IDR0_TTENDIAN_SHIFT) & 3) {
    case R.IDR0_TTENDIAN_MIXED:
      cfg.features |= F.ARM_SMMU_FEAT_TT_LE | F.ARM_SMMU_FEAT_TT_BE;
      break;
    case R.IDR0_TTENDIAN_LE:
      cfg.features |= F.ARM_SMMU_FEAT_TT_LE;
      break;
    case R.IDR0_TTENDIAN_BE:
      cfg.features |= F.ARM_SMMU_FEAT_TT_BE;
      break;
    default:
      log.devErr(dev, 'unknown/unsupported TT endianness!');
      return -ENXIO;
  }
  if ((idr0 & R.IDR0_PRI) !== 0) cfg.features |= F.ARM_SMMU_FEAT_PRI;
  if ((idr0 & R.IDR0_ATS) !== 0) cfg.features |= F.ARM_SMMU_FEAT_ATS;
  if ((idr0 & R.IDR0_SEV) !== 0) cfg.features |= F.ARM_SMMU_FEAT_SEV;
  if ((idr0 & R.IDR0_MSI) !== 0) {
    cfg.features |= F.ARM_SMMU_FEAT_MSI;
    if (coherent && !disableMsipolling) cfg.options |= F.ARM_SMMU_OPT_MSIPOLL;
  }
  if ((idr0 & R.IDR0_HYP) !== 0) cfg.features |= F.ARM_SMMU_FEAT_HYP;
  if (((idr0 & R.IDR0_COHACC) !== 0) !== coherent) {
    log.devWarn(dev, `IDR0.COHACC overridden by FW configuration (${coherent ? 'true' : 'false'})`);
  }
  switch ((idr0 >>> R.IDR0_STALL_MODEL_SHIFT) & 3) {
    case R.IDR0_STALL_MODEL_FORCE:
      cfg.features |= F.ARM_SMMU_FEAT_STALL_FORCE | F.ARM_SMMU_FEAT_STALLS;
      break;
    case R.IDR0_STALL_MODEL_STALL:
      cfg.features |= F.ARM_SMMU_FEAT_STALLS;
      break;
  }
  if ((idr0 & R.IDR0_S1P) !== 0) cfg.features |= F.ARM_SMMU_FEAT_TRANS_S1;
  if ((idr0 & R.IDR0_S2P) !== 0) cfg.features |= F.ARM_SMMU_FEAT_TRANS_S2;
  if ((idr0 & (R.IDR0_S1P | R.IDR0_S2P)) === 0) {
    log.devErr(dev, 'no translation support!');
    return -ENXIO;
  }
  switch ((idr0 >>> R.IDR0_TTF_SHIFT) & 3) {
    case R.IDR0_TTF_AARCH32_64:
      cfg.ias = 40;
      break;
    case R.IDR0_TTF_AARCH64:
      break;
    default:
      log.devErr(dev, 'AArch64 table format not supported!');
      return -ENXIO;
  }
  cfg.asidBits = (idr0 & R.IDR0_ASID16) !== 0 ? 16 : 8;
  cfg.vmidBits = (idr0 & R.IDR0_VMID16) !== 0 ? 16 : 8;

  const idr1 = mmio.readl(base + R.IDR1);
  if ((idr1 & (R.IDR1_TABLES_PRESET | R.IDR1_QUEUES_PRESET | R.IDR1_REL)) !== 0) {
    log.devErr(dev, 'embedded implementation not supported');
    return -ENXIO;
  }
  cfg.cmdqMaxNShift = Math.min(F.CMDQ_MAX_SZ_SHIFT, (idr1 >>> R.IDR1_CMDQS_SHIFT) & 0x1f);
  if (cfg.cmdqMaxNShift <= Math.log2(F.CMDQ_BATCH_ENTRIES)) {
    // the queue must hold a batch plus its CMD_SYNC
    log.devErr(dev, `command queue size <= ${F.CMDQ_BATCH_ENTRIES} entries not supported`);
    return -ENXIO;
  }
  cfg.evtqMaxNShift = Math.min(F.EVTQ_MAX_SZ_SHIFT, (idr1 >>> R.IDR1_EVTQS_SHIFT) & 0x1f);
  cfg.priqMaxNShift = Math.min(F.EVTQ_MAX_SZ_SHIFT, (idr1 >>> R.IDR1_PRIQS_SHIFT) & 0x1f);
  cfg.ssidBits = (idr1 >>> R.IDR1_SSIDSIZE_SHIFT) & 0x1f;
  cfg.sidBits = (idr1 >>> R.IDR1_SIDSIZE_SHIFT) & 0x3f;
  // a 2-level table is pointless when one level-2 table covers every stream id
  if (cfg.sidBits <= R.STRTAB_SPLIT) cfg.features &= ~F.ARM_SMMU_FEAT_2_LVL_STRTAB;

  const idr3 = mmio.readl(base + R.IDR3);
  if ((idr3 & R.IDR3_RIL) !== 0) cfg.features |= F.ARM_SMMU_FEAT_RANGE_INV;

  const idr5 = mmio.readl(base + R.IDR5);
  cfg.maxStalls = idr5 >>> R.IDR5_STALL_MAX_SHIFT;
  if ((idr5 & R.IDR5_GRAN64K) !== 0) cfg.pgsizeBitmap += SZ_64K + 512 * MiB;
  if ((idr5 & R.IDR5_GRAN16K) !== 0) cfg.pgsizeBitmap += SZ_16K + 32 * MiB;
  if ((idr5 & R.IDR5_GRAN4K) !== 0) cfg.pgsizeBitmap += SZ_4K + 2 * MiB + GiB;
  if (((idr5 >>> R.IDR5_VAX_SHIFT) & 3) === R.IDR5_VAX_52_BIT) cfg.features |= F.ARM_SMMU_FEAT_VAX;
  const oasCode = idr5 & 7;
  if (oasCode === 6) {
    cfg.oas = 52;
    cfg.pgsizeBitmap += 2 ** 42;
  } else if (oasCode <= 5) {
    cfg.oas = R.IDR5_OAS_BITS[oasCode]!;
  } else {
    log.devInfo(dev, 'unknown output address size. Truncating to 48-bit');
    cfg.oas = 48;
  }
  cfg.ias = Math.max(cfg.ias, cfg.oas);
  log.devInfo(dev, `ias ${cfg.ias}-bit, oas ${cfg.oas}-bit (features 0x${(cfg.features >>> 0).toString(16).padStart(8, '0')})`);
  return cfg;
}
