/** AHCI register offsets and bits the model and the driver share (AHCI 1.3 names). */
export const HOST_CAP = 0x00;
export const HOST_CTL = 0x04;
export const HOST_IRQ_STAT = 0x08;
export const HOST_PORTS_IMPL = 0x0c;
export const HOST_VERSION = 0x10;

export const HOST_CTL_IRQ_EN = 1 << 1;
export const HOST_CTL_AHCI_EN = 1 << 31;
/** CAP.S64A: 64-bit addressing. */
export const HOST_CAP_64 = 1 << 31;
/** CAP.SNCQ. */
export const HOST_CAP_NCQ = 1 << 30;

/** Port 0 register block. */
export const PORT0 = 0x100;
export const PORT_LST_ADDR = 0x00;
export const PORT_LST_ADDR_HI = 0x04;
export const PORT_FIS_ADDR = 0x08;
export const PORT_FIS_ADDR_HI = 0x0c;
export const PORT_IRQ_STAT = 0x10;
export const PORT_IRQ_MASK = 0x14;
export const PORT_CMD = 0x18;
export const PORT_TFDATA = 0x20;
export const PORT_SCR_STAT = 0x28;
export const PORT_SCR_ERR = 0x30;
export const PORT_CMD_ISSUE = 0x38;

export const PORT_CMD_START = 1 << 0;
export const PORT_CMD_FIS_RX = 1 << 4;
export const PORT_CMD_LIST_ON = 1 << 15;

/** PxIS bits. */
export const PORT_IRQ_D2H_REG_FIS = 1 << 0;
export const PORT_IRQ_IF_ERR = 1 << 27;
export const PORT_IRQ_HBUS_ERR = 1 << 29;
export const PORT_IRQ_TF_ERR = 1 << 30;
export const PORT_IRQ_ERROR = PORT_IRQ_IF_ERR | PORT_IRQ_HBUS_ERR | PORT_IRQ_TF_ERR;

/** Task file status bits. */
export const ATA_DRDY = 0x40;
export const ATA_ERR = 0x01;

/** ATA commands the model implements. */
export const ATA_CMD_READ_EXT = 0x25;
export const ATA_CMD_WRITE_EXT = 0x35;
export const FIS_TYPE_REG_H2D = 0x27;

/** Command header (32 bytes) and table layout. */
export const CMD_HDR_SIZE = 32;
export const CMD_HDR_WRITE = 1 << 6;
export const CMD_TBL_CFIS = 0x00;
export const CMD_TBL_PRDT = 0x80;
export const PRD_SIZE = 16;
/** A PRD describes at most 4 MiB (22-bit byte count). */
export const AHCI_PRD_MAX = 4 * 1024 * 1024;
export const NR_SLOTS = 32;
