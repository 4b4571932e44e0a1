import { IDR5_OAS_BITS } from './regs';
import * as R from './regs';

/**
 * What a board may set on an SMMUv3. The defaults are the SMMUv3 of QEMU's `virt` machine
 * (`-M virt,iommu=smmuv3`, QEMU 7.2): stage 1 only, AArch64 tables, 2-level stream table, 16-bit
 * stream ids, no substreams, 2^19-entry command and event queues, 44-bit OAS, 4K/16K/64K granules,
 * range invalidation, coherent table walks, no MSI, ATS, PRI or stalls.
 */
export interface SmmuV3Options {
  readonly stage1?: boolean;
  readonly stage2?: boolean;
  /** IDR0.ST_LVL: a 2-level stream table is offered (else linear only). */
  readonly twoLevelStreamTable?: boolean;
  /** IDR0.CD2L: 2-level context descriptor tables (offered, not walked: the model reads linear CD tables). */
  readonly twoLevelCdTable?: boolean;
  /** IDR1.SIDSIZE: stream id bits (at most 32). */
  readonly sidBits?: number;
  /** IDR1.SSIDSIZE: substream id bits. */
  readonly ssidBits?: number;
  /** IDR1.CMDQS / EVTQS: log2 of the largest queue the SMMU accepts. */
  readonly cmdqShift?: number;
  readonly evtqShift?: number;
  /** Output address bits (IDR5.OAS): 32, 36, 40, 42, 44, 48 or 52. */
  readonly oasBits?: number;
  readonly gran4k?: boolean;
  readonly gran16k?: boolean;
  readonly gran64k?: boolean;
  /** IDR3.RIL: range invalidation (TLBI with NUM/SCALE). */
  readonly rangeInvalidation?: boolean;
  readonly asid16?: boolean;
  readonly vmid16?: boolean;
  /** IDR0.HYP: EL2 translation regimes (TLBI_EL2_* commands are legal). */
  readonly hyp?: boolean;
  /** IDR0.MSI: CMD_SYNC can signal completion with an MSI write. */
  readonly msi?: boolean;
  /** IDR0.COHACC: table walks and queue accesses are coherent. */
  readonly coherent?: boolean;
  /** IOTLB entries (QEMU: 256). */
  readonly iotlbEntries?: number;
}

export type SmmuV3Params = Required<SmmuV3Options>;

export const QEMU_VIRT_SMMUV3: SmmuV3Params = {
  stage1: true,
  stage2: false,
  twoLevelStreamTable: true,
  twoLevelCdTable: false,
  sidBits: 16,
  ssidBits: 0,
  cmdqShift: 19,
  evtqShift: 19,
  oasBits: 44,
  gran4k: true,
  gran16k: true,
  gran64k: true,
  rangeInvalidation: true,
  asid16: true,
  vmid16: false,
  hyp: false,
  msi: false,
  coherent: true,
  iotlbEntries: 256,
};

/** Resolves a board's options over the QEMU `virt` defaults; a bad value is a RangeError naming it. */
export function resolveSmmuV3Params(options: SmmuV3Options = {}): SmmuV3Params {
  const p: SmmuV3Params = { ...QEMU_VIRT_SMMUV3, ...stripUndefined(options) };
  const int = (name: keyof SmmuV3Params, lo: number, hi: number): void => {
    const v = p[name] as number;
    if (!Number.isInteger(v) || v < lo || v > hi) throw new RangeError(`smmu-v3: ${name} must be an integer in [${lo}, ${hi}], got ${String(v)}`);
  };
  int('sidBits', 0, 32);
  int('ssidBits', 0, 20);
  int('cmdqShift', 0, 19);
  int('evtqShift', 0, 19);
  int('iotlbEntries', 1, 1 << 20);
  if (!IDR5_OAS_BITS.includes(p.oasBits)) throw new RangeError(`smmu-v3: oasBits must be one of ${IDR5_OAS_BITS.join(', ')}, got ${p.oasBits}`);
  if (!p.stage1 && !p.stage2) throw new RangeError('smmu-v3: at least one of stage1 and stage2 must be supported');
  return p;
}

function stripUndefined(o: SmmuV3Options): Partial<SmmuV3Params> {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined));
}

/** The ID registers IDR0..IDR5 that encode `p`. */
export function encodeIdrs(p: SmmuV3Params): readonly number[] {
  let idr0 = (R.IDR0_STALL_MODEL_NOSTALL << R.IDR0_STALL_MODEL_SHIFT) | (R.IDR0_TTENDIAN_LE << R.IDR0_TTENDIAN_SHIFT) | (R.IDR0_TTF_AARCH64 << R.IDR0_TTF_SHIFT);
  if (p.twoLevelStreamTable) idr0 |= R.IDR0_ST_LVL_2LVL << R.IDR0_ST_LVL_SHIFT;
  if (p.twoLevelCdTable) idr0 |= R.IDR0_CD2L;
  if (p.vmid16) idr0 |= R.IDR0_VMID16;
  if (p.msi) idr0 |= R.IDR0_MSI;
  if (p.asid16) idr0 |= R.IDR0_ASID16;
  if (p.hyp) idr0 |= R.IDR0_HYP;
  if (p.coherent) idr0 |= R.IDR0_COHACC;
  if (p.stage1) idr0 |= R.IDR0_S1P;
  if (p.stage2) idr0 |= R.IDR0_S2P;
  const idr1 = (p.cmdqShift << R.IDR1_CMDQS_SHIFT) | (p.evtqShift << R.IDR1_EVTQS_SHIFT) | (p.ssidBits << R.IDR1_SSIDSIZE_SHIFT) | (p.sidBits << R.IDR1_SIDSIZE_SHIFT);
  const idr3 = p.rangeInvalidation ? R.IDR3_RIL : 0;
  let idr5 = IDR5_OAS_BITS.indexOf(p.oasBits);
  if (p.gran4k) idr5 |= R.IDR5_GRAN4K;
  if (p.gran16k) idr5 |= R.IDR5_GRAN16K;
  if (p.gran64k) idr5 |= R.IDR5_GRAN64K;
  return [idr0 >>> 0, idr1 >>> 0, 0, idr3, 0, idr5 >>> 0];
}
