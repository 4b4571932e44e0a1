/**
 * Stream map entries (SMR + S2CR pairs): the driver's shadow of them, allocation with sharing and
 * reference counts (arm_smmu_find_sme / arm_smmu_master_alloc_smes / arm_smmu_free_sme), and the
 * register writes that publish them.
 */
import { EEXIST, EINVAL, ENOSPC } from '@dmasim/core';
import type { IommuGroup } from '@dmasim/iommu-core';
import * as R from '../hw/regs';
import type { SmmuRegs } from './smmu-regs';

/** struct arm_smmu_smr. */
export interface ArmSmmuSmr {
  mask: number;
  id: number;
  valid: boolean;
}

export type S2crType = 'trans' | 'bypass' | 'fault';

/** struct arm_smmu_s2cr. */
export interface ArmSmmuS2cr {
  /** The IOMMU group whose devices own this entry (for arm_smmu_device_group lookups). */
  group: IommuGroup | null;
  /** Masters using the entry; it is freed when the last one goes. */
  count: number;
  type: S2crType;
  privcfg: number;
  cbndx: number;
}

/** INVALID_SMENDX. */
export const INVALID_SMENDX = -1;

/** A fwspec id packs the SMR ID in bits 15:0 and the SMR MASK in bits 31:16 (arm_smmu_of_xlate). */
export function fwidOf(id: number, mask: number): number {
  return ((id & R.SMR_ID_MASK) | ((mask & R.SMR_ID_MASK) << R.SMR_MASK_SHIFT)) >>> 0;
}

export function fwidStreamId(fwid: number): number {
  return fwid & R.SMR_ID_MASK;
}

export function fwidMask(fwid: number): number {
  return (fwid >>> R.SMR_MASK_SHIFT) & R.SMR_ID_MASK;
}

const S2CR_TYPE_CODE: Record<S2crType, number> = { trans: R.S2CR_TYPE_TRANS, bypass: R.S2CR_TYPE_BYPASS, fault: R.S2CR_TYPE_FAULT };

/** The SMRs and S2CRs of one SMMU as the driver tracks them. */
export class StreamMap {
  /** null when the SMMU does stream indexing (no SMRs). */
  readonly smrs: ArmSmmuSmr[] | null;
  readonly s2crs: ArmSmmuS2cr[];

  constructor(
    private readonly regs: SmmuRegs,
    numMappingGroups: number,
    streamMatch: boolean,
    /** s2cr_init_val: what a free entry does with its stream (bypass, or fault with disable_bypass). */
    private readonly initType: S2crType,
    /** Whether identical ids share one entry (later kernels) or each master takes its own (2015). */
    private readonly share: boolean,
  ) {
    this.smrs = streamMatch ? Array.from({ length: numMappingGroups }, () => ({ mask: 0, id: 0, valid: false })) : null;
    this.s2crs = Array.from({ length: numMappingGroups }, () => this.initVal());
  }

  private initVal(): ArmSmmuS2cr {
    return { group: null, count: 0, type: this.initType, privcfg: R.S2CR_PRIVCFG_DEFAULT, cbndx: 0 };
  }

  get size(): number {
    return this.s2crs.length;
  }

  /** Entries in use (count > 0). */
  get used(): number {
    return this.s2crs.filter((s) => s.count > 0).length;
  }

  /** arm_smmu_write_smr. */
  writeSmr(idx: number): void {
    const smr = this.smrs?.[idx];
    if (smr === undefined) return;
    let reg = (smr.id & R.SMR_ID_MASK) | ((smr.mask & 0x7fff) << R.SMR_MASK_SHIFT);
    if (smr.valid) reg |= R.SMR_VALID;
    this.regs.gr0Write(R.gr0Smr(idx), reg >>> 0);
  }

  /** arm_smmu_write_s2cr. */
  writeS2cr(idx: number): void {
    const s = this.s2crs[idx];
    if (s === undefined) return;
    const reg = (S2CR_TYPE_CODE[s.type] << R.S2CR_TYPE_SHIFT) | (s.cbndx & R.S2CR_CBNDX_MASK) | (s.privcfg << R.S2CR_PRIVCFG_SHIFT);
    this.regs.gr0Write(R.gr0S2cr(idx), reg >>> 0);
  }

  /** arm_smmu_write_sme: S2CR first, so a newly valid SMR never routes to a stale S2CR. */
  writeSme(idx: number): void {
    this.writeS2cr(idx);
    this.writeSmr(idx);
  }

  /**
   * arm_smmu_find_sme: the index for (id, mask). An existing entry that covers the request is
   * shared; one that only overlaps is a conflict (-EINVAL); otherwise the first free entry, or
   * -ENOSPC.
   */
  findSme(id: number, mask: number): number {
    const smrs = this.smrs;
    if (smrs === null) return id;
    let freeIdx = -ENOSPC;
    for (let i = 0; i < smrs.length; i++) {
      const smr = smrs[i]!;
      if (!smr.valid) {
        if (freeIdx < 0) freeIdx = i;
        continue;
      }
      if (!this.share) continue;
      // Stream ids and masks are 16-bit register fields.
      if ((mask & smr.mask) === mask && ((id ^ smr.id) & ~smr.mask) === 0) return i;
      if (((id ^ smr.id) & ~(smr.mask | mask)) === 0) return -EINVAL;
    }
    return freeIdx;
  }

  /**
   * arm_smmu_master_alloc_smes: one entry per fwspec id, written to the hardware once all are
   * found. Returns 0 and fills `smendx`, or -errno with nothing allocated.
   */
  allocSmes(fwids: readonly number[], smendx: number[]): number {
    const taken: number[] = [];
    let ret = 0;
    for (let i = 0; i < fwids.length; i++) {
      const fwid = fwids[i]!;
      if (smendx[i] !== undefined && smendx[i] !== INVALID_SMENDX) {
        ret = -EEXIST;
        break;
      }
      const idx = this.findSme(fwidStreamId(fwid), fwidMask(fwid));
      if (idx < 0) {
        ret = idx;
        break;
      }
      const s2cr = this.s2crs[idx]!;
      if (this.smrs !== null && s2cr.count === 0) this.smrs[idx] = { id: fwidStreamId(fwid), mask: fwidMask(fwid), valid: true };
      s2cr.count++;
      smendx[i] = idx;
      taken.push(i);
    }
    if (ret !== 0) {
      for (const i of taken) {
        this.freeSme(smendx[i]!);
        smendx[i] = INVALID_SMENDX;
      }
      return ret;
    }
    for (const i of taken) this.writeSme(smendx[i]!);
    return 0;
  }

  /** arm_smmu_free_sme: drop one user; the last resets the entry. Returns whether it was reset. */
  freeSme(idx: number): boolean {
    const s2cr = this.s2crs[idx];
    if (s2cr === undefined) return false;
    if (--s2cr.count > 0) return false;
    this.s2crs[idx] = this.initVal();
    if (this.smrs !== null) this.smrs[idx] = { mask: 0, id: 0, valid: false };
    return true;
  }

  /** arm_smmu_master_free_smes. */
  freeSmes(smendx: number[]): void {
    for (let i = 0; i < smendx.length; i++) {
      const idx = smendx[i]!;
      if (idx === INVALID_SMENDX) continue;
      if (this.freeSme(idx)) this.writeSme(idx);
      smendx[i] = INVALID_SMENDX;
    }
  }

  /** Route the entries of a master: translate through `cbndx`, or bypass (identity domains). */
  route(smendx: readonly number[], type: S2crType, cbndx: number): void {
    for (const idx of smendx) {
      const s = this.s2crs[idx];
      if (s === undefined) continue;
      if (s.type === type && s.cbndx === cbndx) continue;
      s.type = type;
      s.privcfg = R.S2CR_PRIVCFG_DEFAULT;
      s.cbndx = cbndx;
      this.writeS2cr(idx);
    }
  }

  /** Back to what a free entry does (2015 detach). */
  unroute(smendx: readonly number[]): void {
    for (const idx of smendx) {
      const s = this.s2crs[idx];
      if (s === undefined) continue;
      s.type = this.initType;
      s.cbndx = 0;
      this.writeS2cr(idx);
    }
  }
}
