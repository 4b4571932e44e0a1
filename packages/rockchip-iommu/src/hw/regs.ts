/**
 * Registers of one RK3288 IOMMU (one MMU of a master's IOMMU block), as offsets in its 0x100-byte
 * window, with their fields (rockchip-iommu.c's RK_MMU_* names in camelCase).
 */
export const RK_MMU_DTE_ADDR = 0x00;
export const RK_MMU_STATUS = 0x04;
export const RK_MMU_COMMAND = 0x08;
export const RK_MMU_PAGE_FAULT_ADDR = 0x0c;
export const RK_MMU_ZAP_ONE_LINE = 0x10;
export const RK_MMU_INT_RAWSTAT = 0x14;
export const RK_MMU_INT_CLEAR = 0x18;
export const RK_MMU_INT_MASK = 0x1c;
export const RK_MMU_INT_STATUS = 0x20;
export const RK_MMU_AUTO_GATING = 0x24;
/** Size of one MMU's register window. */
export const RK_MMU_REGS_SIZE = 0x100;

/** RK_MMU_STATUS fields (values, each one bit; bit 31 is STALL_NOT_ACTIVE). */
export const RK_MMU_STATUS_PAGING_ENABLED = 0x01;
export const RK_MMU_STATUS_PAGE_FAULT_ACTIVE = 0x02;
export const RK_MMU_STATUS_STALL_ACTIVE = 0x04;
export const RK_MMU_STATUS_IDLE = 0x08;
export const RK_MMU_STATUS_REPLAY_BUFFER_EMPTY = 0x10;
export const RK_MMU_STATUS_PAGE_FAULT_IS_WRITE = 0x20;
export const RK_MMU_STATUS_STALL_NOT_ACTIVE = 2 ** 31;

/** RK_MMU_COMMAND values. */
export const RK_MMU_CMD_ENABLE_PAGING = 0;
export const RK_MMU_CMD_DISABLE_PAGING = 1;
export const RK_MMU_CMD_ENABLE_STALL = 2;
export const RK_MMU_CMD_DISABLE_STALL = 3;
export const RK_MMU_CMD_ZAP_CACHE = 4;
export const RK_MMU_CMD_PAGE_FAULT_DONE = 5;
export const RK_MMU_CMD_FORCE_RESET = 6;

/** RK_MMU_INT_* fields. */
export const RK_MMU_IRQ_PAGE_FAULT = 0x01;
export const RK_MMU_IRQ_BUS_ERROR = 0x02;
export const RK_MMU_IRQ_MASK = 0x03;

/** What the driver writes to test that DTE_ADDR works before a reset (its upper 20 bits read back). */
export const DTE_ADDR_DUMMY = 0xcafebabe;
