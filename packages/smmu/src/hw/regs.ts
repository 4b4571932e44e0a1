/**
 * Register map of the ARM System MMU architecture v1/v2 (the layout Linux's arm-smmu.h uses).
 *
 * All values here are genuine 32-bit register words, so bitwise operators on them are fine. The
 * address space is split in two halves of `numPages` pages each: the global space (GR0 at page 0,
 * GR1 at page 1) and the translation context space (context bank n at page numPages + n).
 */

// ---- Global register space 0 (GR0) ----------------------------------------------------------
export const GR0_SCR0 = 0x0;
export const GR0_SCR1 = 0x4;
export const GR0_SACR = 0x10;
export const GR0_ID0 = 0x20;
export const GR0_ID1 = 0x24;
export const GR0_ID2 = 0x28;
export const GR0_ID7 = 0x3c;
export const GR0_SGFAR_LO = 0x40;
export const GR0_SGFAR_HI = 0x44;
export const GR0_SGFSR = 0x48;
export const GR0_SGFSRRESTORE = 0x4c;
export const GR0_SGFSYNR0 = 0x50;
export const GR0_SGFSYNR1 = 0x54;
export const GR0_SGFSYNR2 = 0x58;
export const GR0_TLBIVMID = 0x64;
export const GR0_TLBIALLNSNH = 0x68;
export const GR0_TLBIALLH = 0x6c;
export const GR0_TLBGSYNC = 0x70;
export const GR0_TLBGSTATUS = 0x74;
export const GR0_SMR_BASE = 0x800;
export const GR0_S2CR_BASE = 0xc00;

/** Offset of SMRn / S2CRn in GR0. */
export const gr0Smr = (n: number): number => GR0_SMR_BASE + n * 4;
export const gr0S2cr = (n: number): number => GR0_S2CR_BASE + n * 4;

// sCR0 bits
export const SCR0_CLIENTPD = 1 << 0;
export const SCR0_GFRE = 1 << 1;
export const SCR0_GFIE = 1 << 2;
export const SCR0_EXIDENABLE = 1 << 3;
export const SCR0_GCFGFRE = 1 << 4;
export const SCR0_GCFGFIE = 1 << 5;
export const SCR0_USFCFG = 1 << 10;
export const SCR0_VMIDPNE = 1 << 11;
export const SCR0_PTM = 1 << 12;
export const SCR0_FB = 1 << 13;
export const SCR0_VMID16EN = 1 << 31;

// ID0 fields
export const ID0_S1TS = 1 << 30;
export const ID0_S2TS = 1 << 29;
export const ID0_NTS = 1 << 28;
export const ID0_SMS = 1 << 27;
export const ID0_ATOSNS = 1 << 26;
export const ID0_PTFS_NO_AARCH32 = 1 << 25;
export const ID0_PTFS_NO_AARCH32S = 1 << 24;
export const ID0_NUMIRPT_SHIFT = 16; // [23:16]
export const ID0_CTTW = 1 << 14;
export const ID0_NUMSIDB_SHIFT = 9; // [12:9]
export const ID0_EXIDS = 1 << 8;
export const ID0_NUMSMRG_MASK = 0xff; // [7:0]

// ID1 fields
export const ID1_PAGESIZE = 1 << 31;
export const ID1_NUMPAGENDXB_SHIFT = 28; // [30:28]
export const ID1_NUMS2CB_SHIFT = 16; // [23:16]
export const ID1_NUMCB_MASK = 0xff; // [7:0]

// ID2 fields
export const ID2_VMID16 = 1 << 15;
export const ID2_PTFS_64K = 1 << 14;
export const ID2_PTFS_16K = 1 << 13;
export const ID2_PTFS_4K = 1 << 12;
export const ID2_UBS_SHIFT = 8; // [11:8]
export const ID2_OAS_SHIFT = 4; // [7:4]
export const ID2_IAS_SHIFT = 0; // [3:0]

// sGFSR bits
export const SGFSR_ICF = 1 << 0;
export const SGFSR_USF = 1 << 1;
export const SGFSR_SMCF = 1 << 2;
export const SGFSR_UCBF = 1 << 3;
export const SGFSR_UCIF = 1 << 4;
export const SGFSR_CAF = 1 << 5;
export const SGFSR_EF = 1 << 6;
export const SGFSR_PF = 1 << 7;
export const SGFSR_UUT = 1 << 8;
export const SGFSR_MULTI = 1 << 31;

// sGFSYNR0 bits
export const SGFSYNR0_NESTED = 1 << 0;
export const SGFSYNR0_WNR = 1 << 1;

export const TLBGSTATUS_GSACTIVE = 1 << 0;

// SMR / S2CR fields
export const SMR_VALID = 1 << 31;
export const SMR_MASK_SHIFT = 16; // [31:16] (bit 31 is VALID on SMMUv1/v2 without EXIDS)
export const SMR_ID_MASK = 0xffff; // [15:0]
export const S2CR_CBNDX_MASK = 0xff; // [7:0]
export const S2CR_TYPE_SHIFT = 16; // [17:16]
export const S2CR_PRIVCFG_SHIFT = 24; // [25:24]
export const S2CR_TYPE_TRANS = 0;
export const S2CR_TYPE_BYPASS = 1;
export const S2CR_TYPE_FAULT = 2;
export const S2CR_PRIVCFG_DEFAULT = 0;
export const S2CR_PRIVCFG_DIPAN = 1;
export const S2CR_PRIVCFG_UNPRIV = 2;
export const S2CR_PRIVCFG_PRIV = 3;

// ---- Global register space 1 (GR1) ----------------------------------------------------------
export const GR1_CBAR_BASE = 0x0;
export const GR1_CBFRSYNRA_BASE = 0x400;
export const GR1_CBA2R_BASE = 0x800;
export const gr1Cbar = (n: number): number => GR1_CBAR_BASE + n * 4;
export const gr1Cbfrsynra = (n: number): number => GR1_CBFRSYNRA_BASE + n * 4;
export const gr1Cba2r = (n: number): number => GR1_CBA2R_BASE + n * 4;

export const CBAR_VMID_MASK = 0xff; // [7:0]
export const CBAR_TYPE_SHIFT = 16; // [17:16]
export const CBAR_IRPTNDX_SHIFT = 24; // [31:24]
export const CBAR_TYPE_S2_TRANS = 0;
export const CBAR_TYPE_S1_TRANS_S2_BYPASS = 1;
export const CBAR_TYPE_S1_TRANS_S2_FAULT = 2;
export const CBAR_TYPE_S1_TRANS_S2_TRANS = 3;
export const CBA2R_VA64 = 1 << 0;

// ---- Context bank registers -------------------------------------------------------------------
export const CB_SCTLR = 0x0;
export const CB_ACTLR = 0x4;
export const CB_RESUME = 0x8;
export const CB_TCR2 = 0x10;
export const CB_TTBR0_LO = 0x20;
export const CB_TTBR0_HI = 0x24;
export const CB_TTBR1_LO = 0x28;
export const CB_TTBR1_HI = 0x2c;
export const CB_TCR = 0x30;
export const CB_CONTEXTIDR = 0x34;
export const CB_MAIR0 = 0x38;
export const CB_MAIR1 = 0x3c;
export const CB_PAR_LO = 0x50;
export const CB_PAR_HI = 0x54;
export const CB_FSR = 0x58;
export const CB_FSRRESTORE = 0x5c;
export const CB_FAR_LO = 0x60;
export const CB_FAR_HI = 0x64;
export const CB_FSYNR0 = 0x68;
export const CB_FSYNR1 = 0x6c;
export const CB_TLBIVA = 0x600;
export const CB_TLBIVAA = 0x608;
export const CB_TLBIASID = 0x610;
export const CB_TLBIALL = 0x618;
export const CB_TLBIVAL = 0x620;
export const CB_TLBIVAAL = 0x628;
export const CB_TLBIIPAS2 = 0x630;
export const CB_TLBIIPAS2L = 0x638;
export const CB_TLBSYNC = 0x7f0;
export const CB_TLBSTATUS = 0x7f4;

export const SCTLR_M = 1 << 0;
export const SCTLR_TRE = 1 << 1;
export const SCTLR_AFE = 1 << 2;
export const SCTLR_E = 1 << 4;
export const SCTLR_CFRE = 1 << 5;
export const SCTLR_CFIE = 1 << 6;
export const SCTLR_CFCFG = 1 << 7;
export const SCTLR_HUPCF = 1 << 8;

export const TCR2_AS = 1 << 4;
export const TCR2_PASIZE_MASK = 0x7; // [2:0]
export const TCR_EAE = 1 << 31; // AArch32 TTBCR: long-descriptor format

export const FSR_TF = 1 << 1;
export const FSR_AFF = 1 << 2;
export const FSR_PF = 1 << 3;
export const FSR_EF = 1 << 4;
export const FSR_TLBMCF = 1 << 5;
export const FSR_TLBLKF = 1 << 6;
export const FSR_ASF = 1 << 7;
export const FSR_UUT = 1 << 8;
export const FSR_FORMAT_SHIFT = 9; // [10:9]
export const FSR_SS = 1 << 30;
export const FSR_MULTI = 1 << 31;
/** Bits that mean "a fault is outstanding" (FORMAT is informational). */
export const FSR_FAULT = FSR_MULTI | FSR_SS | FSR_UUT | FSR_EF | FSR_PF | FSR_TF | FSR_AFF | FSR_ASF | FSR_TLBMCF | FSR_TLBLKF;
export const FSR_FORMAT_AARCH32_LONG = 1;
export const FSR_FORMAT_AARCH64 = 2;

export const FSYNR0_PLVL_MASK = 0x3; // [1:0]
export const FSYNR0_WNR = 1 << 4;
export const FSYNR0_PNU = 1 << 5;
export const FSYNR0_IND = 1 << 6;
export const FSYNR0_NSATTR = 1 << 8;
export const FSYNR0_PTWF = 1 << 10;
export const FSYNR0_AFR = 1 << 11;
export const FSYNR0_S1CBNDX_SHIFT = 16; // [23:16]

export const TLBSTATUS_SACTIVE = 1 << 0;

/** ID2 IAS/OAS/UBS encoding of an address size, as arm_smmu_id_size_to_bits decodes it. */
const ID_SIZE_BITS = [32, 36, 40, 42, 44, 48] as const;

/** Address size in bits → the 3/4-bit architectural code; throws for sizes the encoding lacks. */
export function encodeAddressSize(bits: number): number {
  const code = ID_SIZE_BITS.indexOf(bits as (typeof ID_SIZE_BITS)[number]);
  if (code < 0) throw new RangeError(`SMMU address size ${bits} bits is not one of ${ID_SIZE_BITS.join(', ')}`);
  return code;
}

/** The architectural code → bits (codes above 5 read as 48, as the Linux driver decodes them). */
export function decodeAddressSize(code: number): number {
  return ID_SIZE_BITS[code] ?? 48;
}
