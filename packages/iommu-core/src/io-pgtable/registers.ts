import {
  MAIR_ATTR_DEVICE,
  MAIR_ATTR_IDX_CACHE,
  MAIR_ATTR_IDX_DEV,
  MAIR_ATTR_IDX_INC_OCACHE,
  MAIR_ATTR_IDX_NC,
  MAIR_ATTR_INC_OWBRWA,
  MAIR_ATTR_NC,
  MAIR_ATTR_WBRWA,
} from './descriptor';
import type { ArmLpaeTcr, ArmLpaeVtcr } from './types';

/**
 * Translation-control values as the kernel computes them for the SMMU driver. Fields hold small
 * integers; packing uses multiplication so the 64-bit forms (IPS at bits 34:32) stay exact.
 */

export const ARM_LPAE_TCR_SH_NS = 0;
export const ARM_LPAE_TCR_SH_OS = 2;
export const ARM_LPAE_TCR_SH_IS = 3;
export const ARM_LPAE_TCR_RGN_NC = 0;
export const ARM_LPAE_TCR_RGN_WBWA = 1;
export const ARM_LPAE_TCR_TG0_4K = 0;

/** The MAIR value (64-bit register; attributes 0..3 used): 0xf404ff44. */
export const ARM_LPAE_MAIR =
  MAIR_ATTR_NC * 2 ** (8 * MAIR_ATTR_IDX_NC) +
  MAIR_ATTR_WBRWA * 2 ** (8 * MAIR_ATTR_IDX_CACHE) +
  MAIR_ATTR_DEVICE * 2 ** (8 * MAIR_ATTR_IDX_DEV) +
  MAIR_ATTR_INC_OWBRWA * 2 ** (8 * MAIR_ATTR_IDX_INC_OCACHE);

/** Attribute byte `idx` of a MAIR value. */
export function mairAttr(mair: number, idx: number): number {
  return Math.floor(mair / 2 ** (8 * idx)) % 256;
}

/**
 * The stage-1 fields packed in the AArch64 TCR layout (the 64-bit value Linux 4.x kept in
 * arm_lpae_s1_cfg.tcr): T0SZ [5:0], IRGN0 [9:8], ORGN0 [11:10], SH0 [13:12], TG0 [15:14],
 * EPD1 [23] (no TTBR1 walks), IPS [34:32]. The SMMU's TTBCR takes bits 31:0 and its TTBCR2
 * PASIZE takes IPS.
 */
export function armLpaeTcrValue(tcr: ArmLpaeTcr): number {
  return (
    tcr.tsz +
    tcr.irgn * 2 ** 8 +
    tcr.orgn * 2 ** 10 +
    tcr.sh * 2 ** 12 +
    tcr.tg * 2 ** 14 +
    2 ** 23 +
    tcr.ips * 2 ** 32
  );
}

/**
 * The stage-2 fields packed in the VTCR layout: T0SZ [5:0], SL0 [7:6], IRGN0 [9:8], ORGN0 [11:10],
 * SH0 [13:12], TG0 [15:14], PS [18:16], RES1 [31].
 */
export function armLpaeVtcrValue(vtcr: ArmLpaeVtcr): number {
  return (
    vtcr.tsz +
    vtcr.sl * 2 ** 6 +
    vtcr.irgn * 2 ** 8 +
    vtcr.orgn * 2 ** 10 +
    vtcr.sh * 2 ** 12 +
    vtcr.tg * 2 ** 14 +
    vtcr.ps * 2 ** 16 +
    2 ** 31
  );
}
