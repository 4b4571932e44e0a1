/** Shared set-up for the hardware tests: memory, IRQ lines and an SMMU mapped on the MMIO bus. */
import { createCoreServices, MiB, type CoreServices, type IrqLine } from '@dmasim/core/standalone';
import { SmmuHardware, type SmmuHardwareOptions } from '../smmu';
import * as R from '../regs';

export const SMMU_BASE = 0x2b500000;
export const GLOBAL_IRQ = 40;
export const CONTEXT_IRQ = 41;

export interface Rig {
  readonly core: CoreServices;
  readonly smmu: SmmuHardware;
  readonly globalIrq: IrqLine;
  readonly contextIrq: IrqLine;
  /** Register accessors the way a driver reaches them: through the MMIO bus. */
  gr0Read(off: number): number;
  gr0Write(off: number, v: number): void;
  gr1Read(off: number): number;
  gr1Write(off: number, v: number): void;
  cbRead(n: number, off: number): number;
  cbWrite(n: number, off: number, v: number): void;
  cbWrite64(n: number, off: number, v: number): void;
}

export function makeRig(options: Omit<SmmuHardwareOptions, 'memory'>, sharedIrq = false): Rig {
  const core = createCoreServices({ memory: [{ base: 0, size: 256 * MiB }] });
  const globalIrq = core.irqs.line(GLOBAL_IRQ);
  const contextIrq = sharedIrq ? globalIrq : core.irqs.line(CONTEXT_IRQ);
  const smmu = new SmmuHardware({ globalIrqs: [globalIrq], contextIrqs: [contextIrq], ...options, memory: core.memory });
  smmu.mapInto(core.mmio, SMMU_BASE);
  const pg = smmu.params.registerPageSize;
  const cbBase = (n: number): number => SMMU_BASE + (smmu.params.numPages + n) * pg;
  return {
    core, smmu, globalIrq, contextIrq,
    gr0Read: (off) => core.mmio.readl(SMMU_BASE + off),
    gr0Write: (off, v) => core.mmio.writel(SMMU_BASE + off, v),
    gr1Read: (off) => core.mmio.readl(SMMU_BASE + pg + off),
    gr1Write: (off, v) => core.mmio.writel(SMMU_BASE + pg + off, v),
    cbRead: (n, off) => core.mmio.readl(cbBase(n) + off),
    cbWrite: (n, off, v) => core.mmio.writel(cbBase(n) + off, v),
    cbWrite64: (n, off, v) => core.mmio.writeq(cbBase(n) + off, v),
  };
}

/** Enables the SMMU the way arm_smmu_device_reset leaves it (fault reporting and interrupts on). */
export function enableSmmu(rig: Rig, usfcfg: boolean): void {
  let scr0 = R.SCR0_GFRE | R.SCR0_GFIE | R.SCR0_GCFGFRE | R.SCR0_GCFGFIE | R.SCR0_PTM | R.SCR0_VMIDPNE;
  if (usfcfg) scr0 |= R.SCR0_USFCFG;
  rig.gr0Write(R.GR0_SCR0, scr0 >>> 0);
}

/** Routes stream `sid` (with SMR mask) through SMR/S2CR `idx` to context bank `cb`. */
export function routeStream(rig: Rig, idx: number, sid: number, mask: number, cb: number): void {
  rig.gr0Write(R.gr0S2cr(idx), (R.S2CR_TYPE_TRANS << R.S2CR_TYPE_SHIFT) | cb);
  rig.gr0Write(R.gr0Smr(idx), (R.SMR_VALID | (mask << R.SMR_MASK_SHIFT) | sid) >>> 0);
}

/**
 * Programs context bank `cb` for an AArch64 stage-1 regime with 4 KiB pages (as the Linux driver
 * does for an S1 domain on SMMUv2): 48-bit VA, 4 levels from TTBR0, the given ASID.
 */
export function programStage1(rig: Rig, cb: number, ttb: number, asid: number, vaBits = 48): void {
  rig.gr1Write(R.gr1Cba2r(cb), R.CBA2R_VA64);
  rig.gr1Write(R.gr1Cbar(cb), (R.CBAR_TYPE_S1_TRANS_S2_BYPASS << R.CBAR_TYPE_SHIFT) | (cb << R.CBAR_IRPTNDX_SHIFT));
  rig.cbWrite(cb, R.CB_TCR2, 5); // PASize 48 bits
  rig.cbWrite(cb, R.CB_TCR, 64 - vaBits); // T0SZ, TG0 = 4K
  rig.cbWrite(cb, R.CB_TTBR0_LO, ttb % 0x100000000);
  rig.cbWrite(cb, R.CB_TTBR0_HI, (Math.floor(ttb / 0x100000000) | (asid << 16)) >>> 0);
  rig.cbWrite(cb, R.CB_SCTLR, R.SCTLR_M | R.SCTLR_CFIE | R.SCTLR_CFRE | R.SCTLR_AFE | R.SCTLR_TRE);
}

/** Programs context bank `cb` for stage 2 with a 4 KiB granule: IPA bits and start level via SL0. */
export function programStage2(rig: Rig, cb: number, ttb: number, vmid: number, ipaBits: number, sl0: number): void {
  rig.gr1Write(R.gr1Cbar(cb), (R.CBAR_TYPE_S2_TRANS << R.CBAR_TYPE_SHIFT) | vmid);
  rig.cbWrite(cb, R.CB_TCR, (64 - ipaBits) | (sl0 << 6) | (2 << 16)); // T0SZ, SL0, PS = 40 bits
  rig.cbWrite(cb, R.CB_TTBR0_LO, ttb % 0x100000000);
  rig.cbWrite(cb, R.CB_TTBR0_HI, Math.floor(ttb / 0x100000000));
  rig.cbWrite(cb, R.CB_SCTLR, R.SCTLR_M | R.SCTLR_CFIE | R.SCTLR_CFRE | R.SCTLR_AFE | R.SCTLR_TRE);
}
