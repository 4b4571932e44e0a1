/**
 * Register map and descriptor layout of the descriptor-ring NIC model both the Calxeda xgmac and the
 * PCI NIC use (a reduced xgmac/sky2: one TX and one RX ring of 16-byte descriptors, an OWN bit,
 * poll-demand doorbells, a loopback switch and a fatal-bus-error status).
 */
export const NIC_CTRL = 0x00;
export const NIC_STATUS = 0x04;
export const NIC_INTR_EN = 0x08;
export const NIC_TX_BASE_LO = 0x10;
export const NIC_TX_BASE_HI = 0x14;
export const NIC_TX_RING_SIZE = 0x18;
export const NIC_RX_BASE_LO = 0x20;
export const NIC_RX_BASE_HI = 0x24;
export const NIC_RX_RING_SIZE = 0x28;
export const NIC_TX_POLL = 0x30;
export const NIC_RX_POLL = 0x34;
export const NIC_TX_INDEX = 0x38;
export const NIC_RX_INDEX = 0x3c;
export const NIC_FAULT_ADDR_LO = 0x40;
export const NIC_FAULT_ADDR_HI = 0x44;
export const NIC_RX_MISSED = 0x50;
/** Bit 31 of this read-only register: the NIC can do 64-bit DMA. */
export const NIC_HW_FEATURE = 0x58;

export const CTRL_TX_EN = 1 << 0;
export const CTRL_RX_EN = 1 << 1;
export const CTRL_LOOPBACK = 1 << 2;
export const CTRL_RESET = 1 << 31;

export const STATUS_TI = 1 << 0;
export const STATUS_RI = 1 << 1;
export const STATUS_FBI = 1 << 2;
export const STATUS_RU = 1 << 3;

export const FEATURE_DMA64 = 1 << 31;

export const DESC_SIZE = 16;
/** Word 0: OWN (hardware owns it), frame length in bits 0-15. Word 1: buffer size. Words 2-3: address. */
export const DESC_OWN = 1 << 31;
/** Receive buffers are one 2 KiB half page each. */
export const RX_BUF_SIZE = 2048;
