/**
 * Context bank programming (arm_smmu_init_context_bank + arm_smmu_write_context_bank) and the TLB
 * maintenance the page tables ask for (the iommu_flush_ops of stage 1, stage 2 on SMMUv2 and stage
 * 2 on SMMUv1), all through MMIO.
 */
import type { ArmLpaeIoPgtable, IommuFlushOps } from '@dmasim/iommu-core';
import * as R from '../hw/regs';
import type { SmmuRegs } from './smmu-regs';
import type { ArmSmmuContextFormat } from './types';

const TWO_32 = 0x100000000;
/** CBAR.BPSHCFG = non-shareable and CBAR.MEMATTR = write-back for stage-1 banks (weakest, overridden by the tables). */
const CBAR_S1_BPSHCFG_NSH = 3 << 8;
const CBAR_S1_MEMATTR_WB = 0xf << 12;
/** TCR2.SEP = upstream (sign extension of stage-1 VAs from the top bit the bus carries). */
const TCR2_SEP_UPSTREAM = 0x7 << 15;
const SCTLR_S1_ASIDPNE = 1 << 12;
const TCR_EPD1 = 1 << 23;
/** How long a TLB sync may spin before the driver gives up (TLB_LOOP_TIMEOUT). */
const TLB_LOOP_TIMEOUT = 1_000_000;

/** struct arm_smmu_cfg: how one domain uses its context bank. */
export interface ArmSmmuCfg {
  cbndx: number;
  irptndx: number;
  asid: number;
  vmid: number;
  /** CBAR.TYPE (CBAR_TYPE_S2_TRANS, CBAR_TYPE_S1_TRANS_S2_BYPASS ...). */
  cbar: number;
  fmt: ArmSmmuContextFormat;
}

/** The register values of one bank (struct arm_smmu_cb), computed once and written on reset too. */
export interface ArmSmmuCb {
  readonly cfg: ArmSmmuCfg;
  readonly tcr: number;
  readonly tcr2: number;
  /** TTBR0 / TTBR1 as (hi, lo) words: an ASID in bits 63:48 does not fit a number. */
  readonly ttbr0: readonly [number, number];
  readonly ttbr1: readonly [number, number];
  readonly mair0: number;
  readonly mair1: number;
}

function split(value: number): [number, number] {
  const hi = Math.floor(value / TWO_32);
  return [hi, value - hi * TWO_32];
}

/** arm_smmu_init_context_bank: the register values for `cfg` and its page tables. */
export function armSmmuInitContextBank(cfg: ArmSmmuCfg, pgtbl: ArmLpaeIoPgtable): ArmSmmuCb {
  const stage1 = cfg.cbar !== R.CBAR_TYPE_S2_TRANS;
  if (stage1) {
    const s1 = pgtbl.armLpaeS1Cfg!;
    const t = s1.tcr;
    // AArch32 TTBCR holds T0SZ in 3 bits (0 for a 32-bit input); EAE selects the long format.
    const tsz = cfg.fmt === 'aarch64' ? t.tsz : t.tsz & 7;
    let tcr = tsz | (t.irgn << 8) | (t.orgn << 10) | (t.sh << 12) | (t.tg << 14) | TCR_EPD1;
    let tcr2 = (t.ips & R.TCR2_PASIZE_MASK) | TCR2_SEP_UPSTREAM;
    if (cfg.fmt === 'aarch64') tcr2 |= R.TCR2_AS;
    else tcr |= R.TCR_EAE;
    const [hi, lo] = split(s1.ttbr);
    const asidHi = cfg.asid * 65536;
    const [mair1, mair0] = split(s1.mair);
    return { cfg, tcr: tcr >>> 0, tcr2: tcr2 >>> 0, ttbr0: [hi + asidHi, lo], ttbr1: [asidHi, 0], mair0, mair1 };
  }
  const s2 = pgtbl.armLpaeS2Cfg!;
  const v = s2.vtcr;
  const vtcr = (v.tsz | (v.sl << 6) | (v.irgn << 8) | (v.orgn << 10) | (v.sh << 12) | (v.tg << 14) | (v.ps << 16) | (1 << 31)) >>> 0;
  return { cfg, tcr: vtcr, tcr2: 0, ttbr0: split(s2.vttbr), ttbr1: [0, 0], mair0: 0, mair1: 0 };
}

/** arm_smmu_write_context_bank: program bank `idx` (or just disable it when unassigned). */
export function armSmmuWriteContextBank(regs: SmmuRegs, v2: boolean, idx: number, cb: ArmSmmuCb | null): void {
  if (cb === null) {
    regs.cbWrite(idx, R.CB_SCTLR, 0);
    return;
  }
  const cfg = cb.cfg;
  const stage1 = cfg.cbar !== R.CBAR_TYPE_S2_TRANS;
  if (v2) regs.gr1Write(R.gr1Cba2r(idx), cfg.fmt === 'aarch64' ? R.CBA2R_VA64 : 0);
  let cbar = cfg.cbar << R.CBAR_TYPE_SHIFT;
  if (!v2) cbar |= (cfg.irptndx & 0xff) << R.CBAR_IRPTNDX_SHIFT;
  if (stage1) cbar |= CBAR_S1_BPSHCFG_NSH | CBAR_S1_MEMATTR_WB;
  else cbar |= cfg.vmid & R.CBAR_VMID_MASK;
  regs.gr1Write(R.gr1Cbar(idx), cbar >>> 0);
  // TCR before the TTBRs: it decides how the ASID field of TTBR0 is read.
  if (stage1 && v2) regs.cbWrite(idx, R.CB_TCR2, cb.tcr2);
  regs.cbWrite(idx, R.CB_TCR, cb.tcr);
  regs.cbWriteqHiLo(idx, R.CB_TTBR0_LO, cb.ttbr0[0], cb.ttbr0[1]);
  if (stage1) {
    regs.cbWriteqHiLo(idx, R.CB_TTBR1_LO, cb.ttbr1[0], cb.ttbr1[1]);
    regs.cbWrite(idx, R.CB_MAIR0, cb.mair0);
    regs.cbWrite(idx, R.CB_MAIR1, cb.mair1);
  }
  let sctlr = R.SCTLR_CFIE | R.SCTLR_CFRE | R.SCTLR_AFE | R.SCTLR_TRE | R.SCTLR_M;
  if (stage1) sctlr |= SCTLR_S1_ASIDPNE;
  regs.cbWrite(idx, R.CB_SCTLR, sctlr);
}

/** What the TLB callbacks need of a domain (its bank, format, and the SMMU's registers). */
export interface TlbTarget {
  readonly regs: SmmuRegs;
  readonly cfg: ArmSmmuCfg;
  /** Logs the sync timeout (dev_err_ratelimited on the SMMU). */
  syncTimedOut(): void;
}

/** arm_smmu_tlb_sync_context: TLBSYNC on the bank, then wait for TLBSTATUS to go idle. */
export function armSmmuTlbSyncContext(t: TlbTarget): void {
  const { regs, cfg } = t;
  const idx = cfg.cbndx;
  regs.cbWrite(idx, R.CB_TLBSYNC, 0);
  // Polled in place rather than through a callback: this runs once per strict unmap.
  for (let i = 0; i < TLB_LOOP_TIMEOUT; i++) if ((regs.cbRead(idx, R.CB_TLBSTATUS) & R.TLBSTATUS_SACTIVE) === 0) return;
  t.syncTimedOut();
}

/** arm_smmu_tlb_sync_global: TLBGSYNC, then wait for TLBGSTATUS. */
export function armSmmuTlbSyncGlobal(regs: SmmuRegs, timedOut: () => void): void {
  regs.gr0Write(R.GR0_TLBGSYNC, 0);
  for (let i = 0; i < TLB_LOOP_TIMEOUT; i++) if ((regs.gr0Read(R.GR0_TLBGSTATUS) & R.TLBGSTATUS_GSACTIVE) === 0) return;
  timedOut();
}

/**
 * TLBIVA(L) over [iova, iova+size) one granule at a time, in the bank's format. Called once per
 * unmapped page: the words are computed in place (no [hi, lo] pair allocated per write).
 */
function invRangeS1(t: TlbTarget, iova: number, size: number, granule: number, reg: number): void {
  const { regs, cfg } = t;
  const idx = cfg.cbndx;
  if (cfg.fmt === 'aarch64') {
    // VA[55:12] in bits 43:0, ASID in 63:48.
    const asidHi = cfg.asid * 65536;
    for (let done = 0; done < size; done += granule) {
      const page = Math.floor((iova + done) / 4096);
      const hi = Math.floor(page / TWO_32);
      regs.cbWriteqHiLo(idx, reg, hi + asidHi, page - hi * TWO_32);
    }
  } else {
    const asid = cfg.asid % 256;
    for (let done = 0; done < size; done += granule) {
      const va = iova + done;
      regs.cbWrite(idx, reg, Math.floor(va / 4096) * 4096 + asid);
    }
  }
}

/** TLBIIPAS2(L) over an IPA range. */
function invRangeS2(t: TlbTarget, iova: number, size: number, granule: number, reg: number): void {
  const { regs, cfg } = t;
  const idx = cfg.cbndx;
  const va64 = cfg.fmt === 'aarch64';
  for (let done = 0; done < size; done += granule) {
    const page = Math.floor((iova + done) / 4096);
    const hi = Math.floor(page / TWO_32);
    if (va64) regs.cbWriteqHiLo(idx, reg, hi, page - hi * TWO_32);
    else regs.cbWrite(idx, reg, page - hi * TWO_32);
  }
}

/** arm_smmu_tlb_inv_context_s1: TLBIASID + context sync. */
export function armSmmuTlbInvContextS1(t: TlbTarget): void {
  t.regs.cbWrite(t.cfg.cbndx, R.CB_TLBIASID, t.cfg.asid);
  armSmmuTlbSyncContext(t);
}

/** arm_smmu_tlb_inv_context_s2: TLBIVMID + global sync. */
export function armSmmuTlbInvContextS2(t: TlbTarget): void {
  t.regs.gr0Write(R.GR0_TLBIVMID, t.cfg.vmid);
  armSmmuTlbSyncGlobal(t.regs, () => t.syncTimedOut());
}

/**
 * The iommu_flush_ops for a domain: stage 1 (TLBIVA/TLBIVAL, TLBIASID), stage 2 on SMMUv2
 * (TLBIIPAS2/TLBIIPAS2L, TLBIVMID) or stage 2 on SMMUv1, which can only invalidate a whole VMID.
 * Leaf invalidations (tlbAddPage) are posted without a sync; the domain's iotlbSync completes them.
 */
export function armSmmuFlushOps(stage1: boolean, v2: boolean, target: () => TlbTarget): IommuFlushOps {
  if (stage1) {
    return {
      tlbFlushAll: () => armSmmuTlbInvContextS1(target()),
      tlbFlushWalk: (iova, size, granule) => {
        const t = target();
        invRangeS1(t, iova, size, granule, R.CB_TLBIVA);
        armSmmuTlbSyncContext(t);
      },
      tlbAddPage: (iova, granule) => invRangeS1(target(), iova, granule, granule, R.CB_TLBIVAL),
    };
  }
  if (v2) {
    return {
      tlbFlushAll: () => armSmmuTlbInvContextS2(target()),
      tlbFlushWalk: (iova, size, granule) => {
        const t = target();
        invRangeS2(t, iova, size, granule, R.CB_TLBIIPAS2);
        armSmmuTlbSyncContext(t);
      },
      tlbAddPage: (iova, granule) => invRangeS2(target(), iova, granule, granule, R.CB_TLBIIPAS2L),
    };
  }
  return {
    tlbFlushAll: () => armSmmuTlbInvContextS2(target()),
    tlbFlushWalk: () => armSmmuTlbInvContextS2(target()),
    tlbAddPage: () => {
      const t = target();
      t.regs.gr0Write(R.GR0_TLBIVMID, t.cfg.vmid);
    },
  };
}
