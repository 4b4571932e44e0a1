import { decodeAddressSize } from './regs';
import {
  CBA2R_VA64,
  CBAR_IRPTNDX_SHIFT,
  CBAR_TYPE_S2_TRANS,
  CBAR_TYPE_SHIFT,
  CBAR_VMID_MASK,
  CB_TCR,
  CB_TCR2,
  CB_TTBR0_HI,
  CB_TTBR0_LO,
  CB_SCTLR,
  FSR_FORMAT_AARCH32_LONG,
  FSR_FORMAT_AARCH64,
  SCTLR_CFIE,
  SCTLR_CFRE,
  SCTLR_M,
  TCR2_AS,
  TCR2_PASIZE_MASK,
} from './regs';
import type { SmmuParams } from './params';
import { prepareWalkConfig, type PreparedWalkConfig, type WalkConfig } from './walker';

const TWO_32 = 0x100000000;

/** A context bank: its register page as stored words, plus what they mean, decoded on each write. */
export class ContextBank {
  /** The bank's register page, one 32-bit word per 4 bytes. */
  readonly regs: Uint32Array;
  /** GR1 words that belong to this bank. */
  cbar = 0;
  cba2r = 0;
  cbfrsynra = 0;

  // Decoded state used by every translation.
  enabled = false;
  stage: 1 | 2 = 2;
  va64 = false;
  asid = 0;
  vmid = 0;
  cfie = false;
  cfre = false;
  irptndx = 0;
  fsrFormat = FSR_FORMAT_AARCH32_LONG;
  /** null when the registers describe a regime this SMMU cannot walk (every access faults). */
  walk: PreparedWalkConfig | null = null;
  /** Latched high word of a 64-bit TLB invalidation register written as two halves. */
  tlbiHigh = 0;

  constructor(
    readonly index: number,
    private readonly params: SmmuParams,
  ) {
    this.regs = new Uint32Array(params.registerPageSize / 4);
    this.decode();
  }

  reg(offset: number): number {
    return this.regs[offset / 4] ?? 0;
  }

  /** Recomputes the decoded state from the registers (after any write that may change it). */
  decode(): void {
    const p = this.params;
    const sctlr = this.reg(CB_SCTLR);
    this.enabled = (sctlr & SCTLR_M) !== 0;
    this.cfie = (sctlr & SCTLR_CFIE) !== 0;
    this.cfre = (sctlr & SCTLR_CFRE) !== 0;
    this.stage = ((this.cbar >>> CBAR_TYPE_SHIFT) & 3) === CBAR_TYPE_S2_TRANS ? 2 : 1;
    this.vmid = this.cbar & CBAR_VMID_MASK;
    this.irptndx = p.version === 1 ? (this.cbar >>> CBAR_IRPTNDX_SHIFT) & 0xff : this.index;
    const tcr = this.reg(CB_TCR);
    const tg0 = (tcr >>> 14) & 3;
    // SMMUv2 selects the AArch64 format in CBA2R; SMMUv1 (MMU-401) recognises it by a 64K granule.
    this.va64 = p.version === 2 ? (this.cba2r & CBA2R_VA64) !== 0 : tg0 === 1 && p.formats.aarch64_64K;
    this.fsrFormat = this.va64 ? FSR_FORMAT_AARCH64 : FSR_FORMAT_AARCH32_LONG;
    const ttbrHi = this.reg(CB_TTBR0_HI);
    const tcr2 = this.reg(CB_TCR2);
    this.asid = this.stage === 2 ? 0 : this.va64 && (tcr2 & TCR2_AS) !== 0 ? ttbrHi >>> 16 : (ttbrHi >>> 16) & 0xff;
    const cfg = this.stage === 1 ? this.decodeStage1(tcr, tcr2) : this.decodeStage2(tcr);
    this.walk = cfg === null ? null : prepareWalkConfig(cfg);
  }

  private ttb(): number {
    return ((this.reg(CB_TTBR0_LO) & 0xfffffff0) >>> 0) + (this.reg(CB_TTBR0_HI) & 0xffff) * TWO_32;
  }

  private decodeStage1(tcr: number, tcr2: number): WalkConfig | null {
    const p = this.params;
    if (!p.stage1) return null;
    let g: number;
    let inputBits: number;
    let outputBits: number;
    if (this.va64) {
      if ((tcr & (1 << 7)) !== 0) return null; // EPD0: TTBR0 walks disabled
      const tg0 = (tcr >>> 14) & 3;
      g = tg0 === 0 ? 12 : tg0 === 1 ? 16 : 0;
      if ((g === 12 && !p.formats.aarch64_4K) || (g === 16 && !p.formats.aarch64_64K) || g === 0) return null;
      inputBits = Math.min(64 - (tcr & 0x3f), p.vaBits);
      outputBits = Math.min(decodeAddressSize(tcr2 & TCR2_PASIZE_MASK), p.ipaBits);
    } else {
      if (!p.formats.aarch32L) return null;
      g = 12;
      inputBits = 32 - (tcr & 7);
      outputBits = Math.min(40, p.ipaBits);
    }
    const bitsPerLevel = g - 3;
    const levels = Math.ceil((inputBits - g) / bitsPerLevel);
    const startLevel = 4 - levels;
    if (startLevel < 0 || startLevel > 3) return null;
    return { stage: 1, granuleShift: g, startLevel, inputBits, outputBits, ttb: this.ttb() };
  }

  private decodeStage2(tcr: number): WalkConfig | null {
    const p = this.params;
    if (!p.stage2) return null;
    const sl0 = (tcr >>> 6) & 3;
    let g: number;
    let inputBits: number;
    let outputBits: number;
    if (this.va64) {
      const tg0 = (tcr >>> 14) & 3;
      g = tg0 === 0 ? 12 : tg0 === 1 ? 16 : 0;
      if ((g === 12 && !(p.formats.aarch64_4K || p.formats.aarch32L)) || (g === 16 && !p.formats.aarch64_64K) || g === 0) return null;
      inputBits = 64 - (tcr & 0x3f);
      outputBits = Math.min(decodeAddressSize((tcr >>> 16) & 7), p.paBits);
    } else {
      if (!p.formats.aarch32L) return null;
      g = 12;
      // AArch32 VTCR: T0SZ is a signed 4-bit value with its sign in bit 4.
      const t = tcr & 0x1f;
      inputBits = 32 - (t >= 16 ? t - 32 : t);
      outputBits = Math.min(40, p.paBits);
    }
    inputBits = Math.min(inputBits, p.ipaBits);
    const startLevel = g === 12 ? [2, 1, 0, -1][sl0]! : [3, 2, 1, -1][sl0]!;
    if (startLevel < 0) return null;
    const bitsPerLevel = g - 3;
    const startShift = g + bitsPerLevel * (3 - startLevel);
    // At most 16 concatenated tables at the start level, and the start level must resolve something.
    const startBits = inputBits - startShift;
    if (startBits < 1 || startBits > bitsPerLevel + 4) return null;
    return { stage: 2, granuleShift: g, startLevel, inputBits, outputBits, ttb: this.ttb() };
  }
}
