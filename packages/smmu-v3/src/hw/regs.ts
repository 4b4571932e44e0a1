/**
 * Register map and in-memory structure layouts of the ARM SMMU architecture v3 (the names Linux's
 * arm-smmu-v3.h uses, without the `ARM_SMMU_` prefix).
 *
 * Every value here is a genuine 32-bit word, so bitwise operators on them are fine. 64-bit
 * registers and the 64-bit double words of stream table entries, context descriptors, commands and
 * events are handled as two 32-bit words (low word first); a field of bits [m:n] of a double word
 * with n >= 32 is given as its position in the high word (`_HI` names).
 */

// ---- Register page 0 ----------------------------------------------------------------------------
export const IDR0 = 0x0;
export const IDR1 = 0x4;
export const IDR2 = 0x8;
export const IDR3 = 0xc;
export const IDR4 = 0x10;
export const IDR5 = 0x14;
export const IIDR = 0x18;
export const AIDR = 0x1c;
export const CR0 = 0x20;
export const CR0ACK = 0x24;
export const CR1 = 0x28;
export const CR2 = 0x2c;
export const STATUSR = 0x40;
export const GBPA = 0x44;
export const AGBPA = 0x48;
export const IRQ_CTRL = 0x50;
export const IRQ_CTRLACK = 0x54;
export const GERROR = 0x60;
export const GERRORN = 0x64;
export const GERROR_IRQ_CFG0 = 0x68;
export const GERROR_IRQ_CFG1 = 0x70;
export const GERROR_IRQ_CFG2 = 0x74;
export const STRTAB_BASE = 0x80;
export const STRTAB_BASE_CFG = 0x88;
export const CMDQ_BASE = 0x90;
export const CMDQ_PROD = 0x98;
export const CMDQ_CONS = 0x9c;
export const EVTQ_BASE = 0xa0;
export const EVTQ_IRQ_CFG0 = 0xb0;
export const EVTQ_IRQ_CFG1 = 0xb8;
export const EVTQ_IRQ_CFG2 = 0xbc;
export const PRIQ_BASE = 0xc0;
export const PRIQ_IRQ_CFG0 = 0xd0;
export const PRIQ_IRQ_CFG1 = 0xd8;
export const PRIQ_IRQ_CFG2 = 0xdc;

// ---- Register page 1 (offsets from the start of the register file) -------------------------------
export const PAGE1_OFFSET = 0x10000;
export const EVTQ_PROD = 0x100a8;
export const EVTQ_CONS = 0x100ac;
export const PRIQ_PROD = 0x100c8;
export const PRIQ_CONS = 0x100cc;

/** Bytes of each register page a driver maps (ARM_SMMU_REG_SZ): what /proc/iomem lists. */
export const REG_SZ = 0xe00;
/** The register file spans two 64 KiB pages. */
export const REGION_SIZE = 0x20000;

// ---- IDR0 ------------------------------------------------------------------------------------
export const IDR0_ST_LVL_SHIFT = 27;
export const IDR0_ST_LVL_2LVL = 1;
export const IDR0_STALL_MODEL_SHIFT = 24;
export const IDR0_STALL_MODEL_STALL = 0;
export const IDR0_STALL_MODEL_NOSTALL = 1;
export const IDR0_STALL_MODEL_FORCE = 2;
export const IDR0_TTENDIAN_SHIFT = 21;
export const IDR0_TTENDIAN_MIXED = 0;
export const IDR0_TTENDIAN_LE = 2;
export const IDR0_TTENDIAN_BE = 3;
export const IDR0_CD2L = 1 << 19;
export const IDR0_VMID16 = 1 << 18;
export const IDR0_PRI = 1 << 16;
export const IDR0_SEV = 1 << 14;
export const IDR0_MSI = 1 << 13;
export const IDR0_ASID16 = 1 << 12;
export const IDR0_ATS = 1 << 10;
export const IDR0_HYP = 1 << 9;
export const IDR0_BTM = 1 << 5;
export const IDR0_COHACC = 1 << 4;
export const IDR0_TTF_SHIFT = 2;
export const IDR0_TTF_AARCH64 = 2;
export const IDR0_TTF_AARCH32_64 = 3;
export const IDR0_S1P = 1 << 1;
export const IDR0_S2P = 1 << 0;

// ---- IDR1 ------------------------------------------------------------------------------------
export const IDR1_TABLES_PRESET = 1 << 30;
export const IDR1_QUEUES_PRESET = 1 << 29;
export const IDR1_REL = 1 << 28;
export const IDR1_CMDQS_SHIFT = 21;
export const IDR1_EVTQS_SHIFT = 16;
export const IDR1_PRIQS_SHIFT = 11;
export const IDR1_SSIDSIZE_SHIFT = 6;
export const IDR1_SIDSIZE_SHIFT = 0;

// ---- IDR3 / IDR5 -----------------------------------------------------------------------------
export const IDR3_RIL = 1 << 10;
export const IDR5_STALL_MAX_SHIFT = 16;
export const IDR5_VAX_SHIFT = 10;
export const IDR5_VAX_52_BIT = 1;
export const IDR5_GRAN64K = 1 << 6;
export const IDR5_GRAN16K = 1 << 5;
export const IDR5_GRAN4K = 1 << 4;
/** IDR5.OAS codes, in order: 32, 36, 40, 42, 44, 48, 52 bits. */
export const IDR5_OAS_BITS: readonly number[] = [32, 36, 40, 42, 44, 48, 52];

// ---- CR0/CR1/CR2, GBPA, IRQ_CTRL, GERROR -------------------------------------------------------
export const CR0_ATSCHK = 1 << 4;
export const CR0_CMDQEN = 1 << 3;
export const CR0_EVTQEN = 1 << 2;
export const CR0_PRIQEN = 1 << 1;
export const CR0_SMMUEN = 1 << 0;
export const CR1_TABLE_SH_SHIFT = 10;
export const CR1_TABLE_OC_SHIFT = 8;
export const CR1_TABLE_IC_SHIFT = 6;
export const CR1_QUEUE_SH_SHIFT = 4;
export const CR1_QUEUE_OC_SHIFT = 2;
export const CR1_QUEUE_IC_SHIFT = 0;
export const CR1_CACHE_WB = 1;
export const SH_ISH = 3;
export const CR2_PTM = 1 << 2;
export const CR2_RECINVSID = 1 << 1;
export const CR2_E2H = 1 << 0;
export const GBPA_UPDATE = 1 << 31;
export const GBPA_ABORT = 1 << 20;
/** GBPA at reset: SHCFG = use incoming, ABORT clear (pass-through while the SMMU is disabled), as QEMU. */
export const GBPA_RESET = 0x1000;
export const IRQ_CTRL_EVTQ_IRQEN = 1 << 2;
export const IRQ_CTRL_PRIQ_IRQEN = 1 << 1;
export const IRQ_CTRL_GERROR_IRQEN = 1 << 0;
export const GERROR_SFM_ERR = 1 << 8;
export const GERROR_MSI_GERROR_ABT_ERR = 1 << 7;
export const GERROR_MSI_PRIQ_ABT_ERR = 1 << 6;
export const GERROR_MSI_EVTQ_ABT_ERR = 1 << 5;
export const GERROR_MSI_CMDQ_ABT_ERR = 1 << 4;
export const GERROR_PRIQ_ABT_ERR = 1 << 3;
export const GERROR_EVTQ_ABT_ERR = 1 << 2;
export const GERROR_CMDQ_ERR = 1 << 0;
export const GERROR_ERR_MASK = 0x1fd;

// ---- Stream table base ----------------------------------------------------------------------
/** STRTAB_BASE.RA (bit 62), in the high word. */
export const STRTAB_BASE_RA_HI = 1 << 30;
export const STRTAB_BASE_CFG_FMT_SHIFT = 16;
export const STRTAB_BASE_CFG_FMT_LINEAR = 0;
export const STRTAB_BASE_CFG_FMT_2LVL = 1;
export const STRTAB_BASE_CFG_SPLIT_SHIFT = 6;
export const STRTAB_BASE_CFG_LOG2SIZE_MASK = 0x3f;
/** STRTAB_SPLIT: stream id bits resolved by one level-2 table (Linux always uses 8). */
export const STRTAB_SPLIT = 8;
/** Bytes of one level-1 stream table descriptor and of one STE. */
export const STRTAB_L1_DESC_SIZE = 8;
export const STRTAB_STE_SIZE = 64;
/** Level-1 descriptor: SPAN [4:0], L2PTR [51:6]. */
export const STRTAB_L1_DESC_SPAN_MASK = 0x1f;

// ---- Queues ----------------------------------------------------------------------------------
/** Q_BASE.RWA (bit 62), in the high word; LOG2SIZE [4:0]; the address is bits [51:5]. */
export const Q_BASE_RWA_HI = 1 << 30;
export const Q_BASE_LOG2SIZE_MASK = 0x1f;
/** PROD/CONS overflow flag. */
export const Q_OVERFLOW_FLAG = 0x80000000;
/** CMDQ_CONS.ERR [30:24]. */
export const CMDQ_CONS_ERR_SHIFT = 24;
export const CMDQ_CONS_ERR_MASK = 0x7f;
export const CMDQ_ERR_CERROR_NONE_IDX = 0;
export const CMDQ_ERR_CERROR_ILL_IDX = 1;
export const CMDQ_ERR_CERROR_ABT_IDX = 2;
export const CMDQ_ERR_CERROR_ATC_INV_IDX = 3;
export const CMDQ_ENT_SIZE = 16;
export const EVTQ_ENT_SIZE = 32;

// ---- Stream table entry (8 double words) ------------------------------------------------------
export const STE_0_V = 1 << 0;
export const STE_0_CFG_SHIFT = 1;
export const STE_0_CFG_ABORT = 0;
export const STE_0_CFG_BYPASS = 4;
export const STE_0_CFG_S1_TRANS = 5;
export const STE_0_CFG_S2_TRANS = 6;
export const STE_0_S1FMT_SHIFT = 4;
export const STE_0_S1FMT_LINEAR = 0;
/** S1CDMAX [63:59], in the high word. */
export const STE_0_S1CDMAX_HI_SHIFT = 27;
export const STE_1_S1DSS_SSID0 = 2;
export const STE_1_S1CIR_SHIFT = 2;
export const STE_1_S1COR_SHIFT = 4;
export const STE_1_S1CSH_SHIFT = 6;
export const STE_1_S1STALLD = 1 << 27;
export const STE_1_STRW_SHIFT = 30;
export const STE_1_STRW_NSEL1 = 0;
/** SHCFG [45:44], in the high word. */
export const STE_1_SHCFG_HI_SHIFT = 12;
export const STE_1_SHCFG_INCOMING = 1;
export const STE_2_S2VMID_MASK = 0xffff;
/** STE dword 2, high word: S2VTCR [50:32] is bits [18:0], S2AA64 bit 51, S2ENDI 52, S2PTW 54, S2R 58. */
export const STE_2_VTCR_HI_MASK = 0x7ffff;
export const STE_2_S2AA64_HI = 1 << 19;
export const STE_2_S2ENDI_HI = 1 << 20;
export const STE_2_S2PTW_HI = 1 << 22;
export const STE_2_S2R_HI = 1 << 26;
/** VTCR fields inside STE.S2VTCR. */
export const VTCR_T0SZ_MASK = 0x3f;
export const VTCR_SL0_SHIFT = 6;
export const VTCR_IRGN0_SHIFT = 8;
export const VTCR_ORGN0_SHIFT = 10;
export const VTCR_SH0_SHIFT = 12;
export const VTCR_TG0_SHIFT = 14;
export const VTCR_PS_SHIFT = 16;

// ---- Context descriptor (8 double words) ------------------------------------------------------
export const CD_SIZE = 64;
export const CD_0_TCR_T0SZ_MASK = 0x3f;
export const CD_0_TCR_TG0_SHIFT = 6;
export const CD_0_TCR_IRGN0_SHIFT = 8;
export const CD_0_TCR_ORGN0_SHIFT = 10;
export const CD_0_TCR_SH0_SHIFT = 12;
export const CD_0_TCR_EPD0 = 1 << 14;
export const CD_0_ENDI = 1 << 15;
export const CD_0_TCR_EPD1 = 1 << 30;
export const CD_0_V = 1 << 31;
/** CD dword 0, high word: IPS [34:32], AA64 41, R 45, A 46, ASET 47, ASID [63:48]. */
export const CD_0_IPS_HI_MASK = 0x7;
export const CD_0_AA64_HI = 1 << 9;
export const CD_0_S_HI = 1 << 12;
export const CD_0_R_HI = 1 << 13;
export const CD_0_A_HI = 1 << 14;
export const CD_0_ASET_HI = 1 << 15;
export const CD_0_ASID_HI_SHIFT = 16;
/** TG0 codes in a CD (the AArch64 TCR encoding): 0 = 4 KiB, 1 = 64 KiB, 2 = 16 KiB. */
export const TG0_4K = 0;
export const TG0_64K = 1;
export const TG0_16K = 2;

// ---- Commands (2 double words) --------------------------------------------------------------
export const CMDQ_OP_PREFETCH_CFG = 0x1;
export const CMDQ_OP_CFGI_STE = 0x3;
export const CMDQ_OP_CFGI_ALL = 0x4;
export const CMDQ_OP_CFGI_CD = 0x5;
export const CMDQ_OP_CFGI_CD_ALL = 0x6;
export const CMDQ_OP_TLBI_NH_ALL = 0x10;
export const CMDQ_OP_TLBI_NH_ASID = 0x11;
export const CMDQ_OP_TLBI_NH_VA = 0x12;
export const CMDQ_OP_TLBI_NH_VAA = 0x13;
export const CMDQ_OP_TLBI_EL2_ALL = 0x20;
export const CMDQ_OP_TLBI_EL2_ASID = 0x21;
export const CMDQ_OP_TLBI_EL2_VA = 0x22;
export const CMDQ_OP_TLBI_S12_VMALL = 0x28;
export const CMDQ_OP_TLBI_S2_IPA = 0x2a;
export const CMDQ_OP_TLBI_NSNH_ALL = 0x30;
export const CMDQ_OP_ATC_INV = 0x40;
export const CMDQ_OP_PRI_RESP = 0x41;
export const CMDQ_OP_RESUME = 0x44;
export const CMDQ_OP_CMD_SYNC = 0x46;
/** Command dword 0, low word: SSID [31:12] (CFGI_CD), NUM [16:12] and SCALE [24:20] (TLBI ranges). */
export const CMDQ_0_SSV = 1 << 11;
export const CMDQ_TLBI_0_NUM_SHIFT = 12;
export const CMDQ_TLBI_0_SCALE_SHIFT = 20;
export const CMDQ_TLBI_RANGE_NUM_MAX = 31;
/** Command dword 0, high word: SID (CFGI_*) or VMID [47:32] and ASID [63:48] (TLBI). */
export const CMDQ_TLBI_0_ASID_HI_SHIFT = 16;
/** Command dword 1, low word: LEAF bit 0, TTL [9:8], TG [11:10], ADDR from bit 12; CFGI_ALL RANGE [4:0]. */
export const CMDQ_1_LEAF = 1 << 0;
export const CMDQ_TLBI_1_TTL_SHIFT = 8;
export const CMDQ_TLBI_1_TG_SHIFT = 10;
export const CMDQ_CFGI_1_RANGE_MASK = 0x1f;
/** CMD_SYNC dword 0: CS [13:12] (none, IRQ, SEV), MSH [23:22], MSIATTR [27:24], MSIDATA [63:32]. */
export const CMDQ_SYNC_0_CS_SHIFT = 12;
export const CMDQ_SYNC_0_CS_NONE = 0;
export const CMDQ_SYNC_0_CS_IRQ = 1;
export const CMDQ_SYNC_0_CS_SEV = 2;
export const CMDQ_SYNC_0_MSH_SHIFT = 22;
export const CMDQ_SYNC_0_MSIATTR_SHIFT = 24;
export const CMDQ_SYNC_0_MSIATTR_OIWB = 0xf;

// ---- Events (4 double words) ----------------------------------------------------------------
export const EVT_ID_UUT = 0x01;
export const EVT_ID_BAD_STREAMID = 0x02;
export const EVT_ID_STE_FETCH = 0x03;
export const EVT_ID_BAD_STE = 0x04;
export const EVT_ID_STREAM_DISABLED = 0x06;
export const EVT_ID_BAD_SUBSTREAMID = 0x08;
export const EVT_ID_CD_FETCH = 0x09;
export const EVT_ID_BAD_CD = 0x0a;
export const EVT_ID_WALK_EABT = 0x0b;
export const EVT_ID_TRANSLATION_FAULT = 0x10;
export const EVT_ID_ADDR_SIZE_FAULT = 0x11;
export const EVT_ID_ACCESS_FAULT = 0x12;
export const EVT_ID_PERMISSION_FAULT = 0x13;
/** Event dword 1, high word: PnU bit 33, InD 34, RnW 35 (1 = read), S2 39, CLASS [41:40]. */
export const EVTQ_1_PNU_HI = 1 << 1;
export const EVTQ_1_IND_HI = 1 << 2;
export const EVTQ_1_RNW_HI = 1 << 3;
export const EVTQ_1_S2_HI = 1 << 7;
export const EVTQ_1_CLASS_HI_SHIFT = 8;
export const EVTQ_1_STALL = 1 << 31;
/** CLASS: the fault arose fetching a CD, walking translation tables, or translating the input address. */
export const EVT_CLASS_CD = 0;
export const EVT_CLASS_TT = 1;
export const EVT_CLASS_IN = 2;
