/** NVMe register offsets, opcodes and queue entry layouts the model and the driver share (NVMe 1.4 names). */
export const NVME_REG_CAP = 0x00;
export const NVME_REG_VS = 0x08;
export const NVME_REG_INTMS = 0x0c;
export const NVME_REG_INTMC = 0x10;
export const NVME_REG_CC = 0x14;
export const NVME_REG_CSTS = 0x1c;
export const NVME_REG_AQA = 0x24;
export const NVME_REG_ASQ = 0x28;
export const NVME_REG_ACQ = 0x30;
export const NVME_REG_DBS = 0x1000;

export const NVME_CC_ENABLE = 1 << 0;
export const NVME_CSTS_RDY = 1 << 0;
export const NVME_CSTS_CFS = 1 << 1;

export const NVME_SQE_SIZE = 64;
export const NVME_CQE_SIZE = 16;

export const nvme_admin_create_sq = 0x01;
export const nvme_admin_create_cq = 0x05;
export const nvme_cmd_write = 0x01;
export const nvme_cmd_read = 0x02;

/** Status codes (generic command status, SCT 0). */
export const NVME_SC_SUCCESS = 0x0;
export const NVME_SC_INVALID_OPCODE = 0x1;
export const NVME_SC_DATA_XFER_ERROR = 0x4;
export const NVME_SC_INVALID_FIELD = 0x2;
export const NVME_SC_LBA_RANGE = 0x80;

/** Doorbell of queue `qid`: SQ tail, or CQ head (stride 4 bytes). */
export function sqTailDoorbell(qid: number): number {
  return NVME_REG_DBS + qid * 8;
}
export function cqHeadDoorbell(qid: number): number {
  return NVME_REG_DBS + qid * 8 + 4;
}

export const NVME_PAGE = 4096;
export const NVME_LBA_SIZE = 512;
