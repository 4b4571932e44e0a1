/**
 * The fault interrupt handlers: arm_smmu_context_fault (one per finalised domain, on its bank's
 * context line) and arm_smmu_global_fault (one per SMMU). They read the syndrome registers through
 * MMIO, report to the domain, print the kernel's lines and clear the fault.
 */
import { ENOSYS, type IrqReturn } from '@dmasim/core';
import { IOMMU_FAULT_READ, IOMMU_FAULT_WRITE, reportIommuFault, type IommuProfile } from '@dmasim/iommu-core';
import * as R from '../hw/regs';
import type { ArmSmmuDevice } from './arm-smmu-device';
import type { ArmSmmuDomain } from './domain';

/** FSR_IGN: fault kinds the 2015 driver called unexpected. */
const FSR_IGN = R.FSR_AFF | R.FSR_ASF | R.FSR_TLBMCF | R.FSR_TLBLKF;

/** `0x%08x` / `0x%08lx`: at least 8 hex digits. */
function hex8(v: number): string {
  return v.toString(16).padStart(8, '0');
}

/** `%08x` of a 32-bit register value. */
const reg32 = (v: number): string => hex8(v >>> 0);

/**
 * The two decoded lines arm_smmu_print_context_fault_info (6.12 on) adds after the "Unhandled
 * context fault" line: FSR flags, format and the stream id; FSYNR0's fields.
 */
export function contextFaultDecode(fsr: number, fsynr: number, cbfrsynra: number): [string, string] {
  const f = (bit: number, name: string): string => ((fsr & bit) !== 0 ? name : '');
  const fsrLine =
    `FSR    = ${reg32(fsr)} [${f(R.FSR_MULTI, 'MULTI ')}${f(R.FSR_SS, 'SS ')}Format=${(fsr >>> R.FSR_FORMAT_SHIFT) & 3}` +
    `${f(R.FSR_UUT, ' UUT')}${f(R.FSR_ASF, ' ASF')}${f(R.FSR_TLBLKF, ' TLBLKF')}${f(R.FSR_TLBMCF, ' TLBMCF')}${f(R.FSR_EF, ' EF')}${f(R.FSR_PF, ' PF')}${f(R.FSR_AFF, ' AFF')}${f(R.FSR_TF, ' TF')}], SID=0x${(cbfrsynra >>> 0).toString(16)}`;
  const s = (bit: number, name: string): string => ((fsynr & bit) !== 0 ? name : '');
  const fsynrLine =
    `FSYNR0 = ${reg32(fsynr)} [S1CBNDX=${(fsynr >>> R.FSYNR0_S1CBNDX_SHIFT) & 0xff}${s(R.FSYNR0_AFR, ' AFR')}${s(R.FSYNR0_PTWF, ' PTWF')}${s(R.FSYNR0_NSATTR, ' NSATTR')}` +
    `${s(R.FSYNR0_IND, ' IND')}${s(R.FSYNR0_PNU, ' PNU')}${s(R.FSYNR0_WNR, ' WNR')} PLVL=${fsynr & R.FSYNR0_PLVL_MASK}]`;
  return [fsrLine, fsynrLine];
}

/** A fault the driver saw, as the report (and tests) want it. */
export interface ArmSmmuFaultRecord {
  readonly kind: 'context' | 'global';
  readonly smmu: string;
  readonly cb: number | null;
  readonly fsr: number;
  readonly iova: number;
  readonly fsynr: number;
  /** CBFRSYNRA (context) or GFSYNR1 (global): the stream id. */
  readonly streamId: number;
  readonly write: boolean;
  /** report_iommu_fault's answer (context faults), or null. */
  readonly reported: number | null;
}

export function contextFaultHandler(domain: ArmSmmuDomain, profile: IommuProfile, record: (f: ArmSmmuFaultRecord) => void): (irq: number) => IrqReturn {
  return () => {
    const smmu = domain.smmu;
    if (smmu === null) return 'none';
    const regs = smmu.regs;
    const idx = domain.cfg.cbndx;
    const fsr = regs.cbRead(idx, R.CB_FSR);
    if ((fsr & R.FSR_FAULT) === 0) return 'none';
    const fsynr = regs.cbRead(idx, R.CB_FSYNR0);
    const iova = regs.cbReadq(idx, R.CB_FAR_LO);
    const cbfrsynra = regs.gr1Read(R.gr1Cbfrsynra(idx));
    const write = (fsynr & R.FSYNR0_WNR) !== 0;
    const key = `arm-smmu ${smmu.name} context fault`;
    let result: IrqReturn = 'handled';
    if (profile === 'linux-4.2') {
      if ((fsr & FSR_IGN) !== 0) smmu.log.ratelimited(key, 'err', `${smmu.prefix}Unexpected context fault (fsr 0x${fsr.toString(16)})`);
    }
    const ret = reportIommuFault(domain, null, iova, write ? IOMMU_FAULT_WRITE : IOMMU_FAULT_READ);
    record({ kind: 'context', smmu: smmu.name, cb: idx, fsr, iova, fsynr, streamId: cbfrsynra & 0xffff, write, reported: ret });
    if (profile === 'linux-4.2') {
      if (ret !== 0) {
        smmu.log.ratelimited(key, 'err', `${smmu.prefix}Unhandled context fault: iova=0x${hex8(iova)}, fsynr=0x${fsynr.toString(16)}, cb=${idx}`);
        result = 'none';
      }
    } else if (ret === -ENOSYS) {
      // arm_smmu_print_context_fault_info: three lines under one ratelimit
      const printed = smmu.log.ratelimited(
        key,
        'err',
        `${smmu.prefix}Unhandled context fault: fsr=0x${(fsr >>> 0).toString(16)}, iova=0x${hex8(iova)}, fsynr=0x${fsynr.toString(16)}, cbfrsynra=0x${cbfrsynra.toString(16)}, cb=${idx}`,
      );
      if (printed) for (const line of contextFaultDecode(fsr, fsynr, cbfrsynra)) smmu.log.err(`${smmu.prefix}${line}`);
    }
    regs.cbWrite(idx, R.CB_FSR, fsr);
    // Stall mode is never enabled by this driver, so there is no stalled transaction to resume.
    return result;
  };
}

export function globalFaultHandler(smmu: ArmSmmuDevice, profile: IommuProfile, record: (f: ArmSmmuFaultRecord) => void): (irq: number) => IrqReturn {
  return () => {
    const regs = smmu.regs;
    const gfsr = regs.gr0Read(R.GR0_SGFSR);
    const gfsynr0 = regs.gr0Read(R.GR0_SGFSYNR0);
    const gfsynr1 = regs.gr0Read(R.GR0_SGFSYNR1);
    const gfsynr2 = regs.gr0Read(R.GR0_SGFSYNR2);
    if (gfsr === 0) return 'none';
    const iova = regs.gr0Read(R.GR0_SGFAR_LO) + regs.gr0Read(R.GR0_SGFAR_HI) * 0x100000000;
    record({ kind: 'global', smmu: smmu.name, cb: null, fsr: gfsr, iova, fsynr: gfsynr0, streamId: gfsynr1 & 0xffff, write: (gfsynr0 & R.SGFSYNR0_WNR) !== 0, reported: null });
    const key = `arm-smmu ${smmu.name} global fault`;
    // The blocked-stream hint exists from the disable-bypass-by-default era on (CONFIG_ARM_SMMU_DISABLE_BYPASS_BY_DEFAULT).
    const first =
      profile !== 'linux-4.2' && (gfsr & R.SGFSR_USF) !== 0
        ? `Blocked unknown Stream ID 0x${(gfsynr1 & 0xffff).toString(16)}; boot with "arm-smmu.disable_bypass=0" to allow, but this may have security implications`
        : 'Unexpected global fault, this could be serious';
    if (smmu.log.ratelimited(key, 'err', `${smmu.prefix}${first}`) || profile === 'linux-4.2') {
      smmu.log.ratelimited(`${key} regs`, 'err', `${smmu.prefix}\tGFSR 0x${hex8(gfsr)}, GFSYNR0 0x${hex8(gfsynr0)}, GFSYNR1 0x${hex8(gfsynr1)}, GFSYNR2 0x${hex8(gfsynr2)}`);
    }
    regs.gr0Write(R.GR0_SGFSR, gfsr);
    return 'handled';
  };
}
