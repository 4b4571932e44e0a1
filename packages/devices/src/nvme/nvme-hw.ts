import { PciFunctionHw } from '@dmasim/bus';
import { MmioDeviceHw } from '../common/mmio-device-hw';
import { getU32, getU64, putU32 } from '../common/port-io';
import { setHi32, setLo32 } from '../common/reg64';
import { SparseDisk } from '../common/sparse-disk';
import type { HardwareContext } from '../model';
import * as N from './nvme-regs';

const CMD_LATENCY_NS = 1500;

interface Sq {
  base: number;
  size: number;
  head: number;
  tail: number;
  cqid: number;
}

interface Cq {
  base: number;
  size: number;
  tail: number;
  head: number;
  phase: number;
}

/**
 * An NVMe controller (QEMU's 1b36:0010) with one namespace on a sparse disk: admin and I/O
 * submission/completion queues in host memory, PRP1/PRP2 and chained PRP lists, phase-tagged
 * completions, and a level interrupt while completions are unacknowledged. A DMA fault during data
 * transfer completes the command with Data Transfer Error; one while fetching a command is fatal
 * (CSTS.CFS).
 */
export class NvmeHw extends MmioDeviceHw {
  /** BAR 0: registers and doorbells. */
  static readonly MMIO_SIZE = 0x2000;
  readonly mmioSize = NvmeHw.MMIO_SIZE;
  readonly pciFunction = new PciFunctionHw({ vendor: 0x1b36, device: 0x0010, classCode: 0x010802, subsystemVendor: 0x1af4, subsystem: 0x1100 });
  readonly disk = new SparseDisk(2 ** 24);
  private cc = 0;
  private csts = 0;
  private aqa = 0;
  private asq = 0;
  private acq = 0;
  private intMask = 0;
  private sqs = new Map<number, Sq>();
  private cqs = new Map<number, Cq>();
  commandsDone = 0;
  dataFaults = 0;

  constructor(ctx: HardwareContext) {
    super(ctx);
    this.mapMmio();
  }

  protected read32(off: number): number {
    switch (off) {
      case N.NVME_REG_CAP:
        return 1023 | (1 << 16); // MQES 1023, contiguous queues required
      case N.NVME_REG_CAP + 4:
        return 0x20; // CSS: NVM command set; DSTRD 0; MPSMIN 0 (4 KiB pages)
      case N.NVME_REG_VS:
        return 0x00010400;
      case N.NVME_REG_CC:
        return this.cc;
      case N.NVME_REG_CSTS:
        return this.csts;
      case N.NVME_REG_AQA:
        return this.aqa;
      case N.NVME_REG_INTMS:
      case N.NVME_REG_INTMC:
        return this.intMask;
      default:
        return 0;
    }
  }

  protected write32(off: number, v: number): void {
    switch (off) {
      case N.NVME_REG_CC:
        this.writeCc(v >>> 0);
        return;
      case N.NVME_REG_AQA:
        this.aqa = v >>> 0;
        return;
      case N.NVME_REG_ASQ:
        this.asq = setLo32(this.asq, v);
        return;
      case N.NVME_REG_ASQ + 4:
        this.asq = setHi32(this.asq, v);
        return;
      case N.NVME_REG_ACQ:
        this.acq = setLo32(this.acq, v);
        return;
      case N.NVME_REG_ACQ + 4:
        this.acq = setHi32(this.acq, v);
        return;
      case N.NVME_REG_INTMS:
        this.intMask = (this.intMask | v) >>> 0;
        this.updateIrq();
        return;
      case N.NVME_REG_INTMC:
        this.intMask = (this.intMask & ~v) >>> 0;
        this.updateIrq();
        return;
      default:
        break;
    }
    if (off >= N.NVME_REG_DBS && off < N.NVME_REG_DBS + 0x100) {
      const idx = (off - N.NVME_REG_DBS) / 4;
      const qid = Math.floor(idx / 2);
      if (idx % 2 === 0) {
        const sq = this.sqs.get(qid);
        if (sq) {
          sq.tail = v % sq.size;
          this.doorbell(CMD_LATENCY_NS, 'cmd', () => this.process());
        }
      } else {
        const cq = this.cqs.get(qid);
        if (cq) {
          cq.head = v % cq.size;
          this.updateIrq();
        }
      }
    }
  }

  private writeCc(v: number): void {
    const was = (this.cc & N.NVME_CC_ENABLE) !== 0;
    this.cc = v;
    const en = (v & N.NVME_CC_ENABLE) !== 0;
    if (en && !was) {
      this.sqs = new Map([[0, { base: this.asq, size: (this.aqa & 0xfff) + 1, head: 0, tail: 0, cqid: 0 }]]);
      this.cqs = new Map([[0, { base: this.acq, size: ((this.aqa >>> 16) & 0xfff) + 1, head: 0, tail: 0, phase: 1 }]]);
      this.csts = N.NVME_CSTS_RDY;
    } else if (!en && was) {
      // controller reset: every queue is gone
      this.sqs.clear();
      this.cqs.clear();
      this.csts = 0;
      this.updateIrq();
    }
  }

  private process(): void {
    if ((this.csts & N.NVME_CSTS_RDY) === 0 || (this.csts & N.NVME_CSTS_CFS) !== 0) return;
    const sqe = new Uint8Array(N.NVME_SQE_SIZE);
    for (const [qid, sq] of [...this.sqs].sort((a, b) => a[0] - b[0])) {
      while (sq.head !== sq.tail) {
        if (!this.io.read(sq.base + sq.head * N.NVME_SQE_SIZE, sqe)) {
          this.csts |= N.NVME_CSTS_CFS;
          return;
        }
        sq.head = (sq.head + 1) % sq.size;
        const status = qid === 0 ? this.admin(sqe) : this.ioCommand(sqe);
        if (!this.complete(sq, qid, getU32(sqe, 0) >>> 16, status)) return;
      }
    }
  }

  private complete(sq: Sq, sqid: number, cid: number, status: number): boolean {
    const cq = this.cqs.get(sq.cqid);
    if (!cq) return true;
    const cqe = new Uint8Array(N.NVME_CQE_SIZE);
    putU32(cqe, 8, sq.head | (sqid << 16));
    putU32(cqe, 12, (cid | (cq.phase << 16) | (status << 17)) >>> 0);
    if (!this.io.write(cq.base + cq.tail * N.NVME_CQE_SIZE, cqe)) {
      this.csts |= N.NVME_CSTS_CFS;
      return false;
    }
    cq.tail = (cq.tail + 1) % cq.size;
    if (cq.tail === 0) cq.phase ^= 1;
    this.commandsDone++;
    this.updateIrq();
    return true;
  }

  private admin(sqe: Uint8Array): number {
    const opcode = getU32(sqe, 0) & 0xff;
    const prp1 = getU64(sqe, 24);
    const dw10 = getU32(sqe, 40);
    const dw11 = getU32(sqe, 44);
    const qid = dw10 & 0xffff;
    const size = (dw10 >>> 16) + 1;
    if (opcode === N.nvme_admin_create_cq) {
      if (qid === 0 || this.cqs.has(qid)) return N.NVME_SC_INVALID_FIELD;
      this.cqs.set(qid, { base: prp1, size, head: 0, tail: 0, phase: 1 });
      return N.NVME_SC_SUCCESS;
    }
    if (opcode === N.nvme_admin_create_sq) {
      const cqid = dw11 >>> 16;
      if (qid === 0 || this.sqs.has(qid) || !this.cqs.has(cqid)) return N.NVME_SC_INVALID_FIELD;
      this.sqs.set(qid, { base: prp1, size, head: 0, tail: 0, cqid });
      return N.NVME_SC_SUCCESS;
    }
    return N.NVME_SC_INVALID_OPCODE;
  }

  private ioCommand(sqe: Uint8Array): number {
    const opcode = getU32(sqe, 0) & 0xff;
    if (opcode !== N.nvme_cmd_read && opcode !== N.nvme_cmd_write) return N.NVME_SC_INVALID_OPCODE;
    const slba = getU64(sqe, 40);
    const nlb = (getU32(sqe, 48) & 0xffff) + 1;
    if (!this.disk.inRange(slba, nlb)) return N.NVME_SC_LBA_RANGE;
    const len = nlb * N.NVME_LBA_SIZE;
    const pieces = this.prpPieces(getU64(sqe, 24), getU64(sqe, 32), len);
    if (pieces === null) return this.dataFault();
    const data = new Uint8Array(len);
    if (opcode === N.nvme_cmd_read) this.disk.read(slba, data);
    let at = 0;
    for (const p of pieces) {
      const part = data.subarray(at, at + p.len);
      const ok = opcode === N.nvme_cmd_write ? this.io.read(p.addr, part) : this.io.write(p.addr, part);
      if (!ok) return this.dataFault();
      at += p.len;
    }
    if (opcode === N.nvme_cmd_write) this.disk.write(slba, data);
    return N.NVME_SC_SUCCESS;
  }

  private dataFault(): number {
    this.dataFaults++;
    return N.NVME_SC_DATA_XFER_ERROR;
  }

  /** The data pieces PRP1/PRP2 describe (PRP2 a page or a list, lists chained by their last entry); null on a DMA fault. */
  private prpPieces(prp1: number, prp2: number, len: number): { addr: number; len: number }[] | null {
    const out: { addr: number; len: number }[] = [];
    const first = Math.min(len, N.NVME_PAGE - (prp1 % N.NVME_PAGE));
    out.push({ addr: prp1, len: first });
    let left = len - first;
    if (left === 0) return out;
    if (left <= N.NVME_PAGE) {
      out.push({ addr: prp2, len: left });
      return out;
    }
    let list = prp2;
    let idx = 0;
    const perPage = N.NVME_PAGE / 8;
    while (left > 0) {
      const e = this.io.u64(list + idx * 8);
      if (e === null) return null;
      if (idx === perPage - 1 - Math.floor((list % N.NVME_PAGE) / 8) && left > N.NVME_PAGE) {
        list = e;
        idx = 0;
        continue;
      }
      const n = Math.min(N.NVME_PAGE, left);
      out.push({ addr: e, len: n });
      left -= n;
      idx++;
    }
    return out;
  }

  private updateIrq(): void {
    let pending = false;
    for (const cq of this.cqs.values()) if (cq.head !== cq.tail) pending = true;
    this.setIrqLevel(pending && (this.intMask & 1) === 0);
  }
}
