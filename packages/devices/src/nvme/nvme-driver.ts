import type { BusServices, Device, PciDev, PciDriver } from '@dmasim/bus';
import { EBUSY, EINVAL, EIO, ENODEV, ENOMEM, ETIMEDOUT, alignDown, type CoreServices, type LogDevice } from '@dmasim/core';
import {
  DMA_FROM_DEVICE,
  DMA_TO_DEVICE,
  dmaAllocCoherent,
  dmaMapSg,
  dmaUnmapSg,
  type DmaCoherentBuffer,
  type DmaDataDirection,
  type Scatterlist,
} from '@dmasim/dma-mapping';
import type { BlockQueue, BlockRequest, BlockStatus } from '../common/block-workload';
import { blockRwSync } from '../common/block-sync';
import { dmaFreeCoherentBuffers, dmaSetMaskWithFallback } from '../common/driver-dma';
import { coherentRead, coherentWrite } from '../common/cpu-access';
import { BAD_DMA_ADDR, takeInjectedFault } from '../common/fault-inject';
import { iovaLinkApi, type DmaIovaState, type IovaLinkApi } from '../common/iova-link';
import { getU32, hi32, lo32, putU32, putU64 } from '../common/port-io';
import { deviceResources } from '../common/resources';
import { DEFAULT_TIMEOUT_NS, waitFor } from '../common/wait';
import * as N from './nvme-regs';

export const NVME_DRIVER_NAME = 'nvme';
const ADMIN_DEPTH = 32;
const IO_DEPTH = 64;
/** Commands in flight at once (one PRP list page each). */
const MAX_TAGS = 32;

/** How a command's data was mapped: the two-step IOVA API (seed 001), or a mapped scatterlist. */
type Mapping =
  | { readonly kind: 'iova'; readonly api: IovaLinkApi; readonly state: DmaIovaState; readonly linked: number }
  | { readonly kind: 'sg'; readonly sgl: Scatterlist[] };

export interface NvmeCommand {
  readonly req: BlockRequest;
  readonly cid: number;
  readonly dir: DmaDataDirection;
  readonly mapping: Mapping;
  status: BlockStatus;
  /** NVMe status field of the completion (0 = success). */
  nvmeStatus: number;
}

interface Queue {
  readonly qid: number;
  readonly sq: DmaCoherentBuffer;
  readonly cq: DmaCoherentBuffer;
  readonly depth: number;
  sqTail: number;
  cqHead: number;
  phase: number;
}

/**
 * struct nvme_dev with its one I/O queue pair. Data of a request is mapped with the two-step IOVA
 * API when the device's DMA goes through an IOMMU that offers it (one IOVA allocation per request,
 * a link per segment, the first segment's offset kept so PRP entries are page steps of one range),
 * and with dma_map_sg otherwise.
 */
export class NvmeCtrl implements BlockQueue {
  readonly queueDepth = 8;
  readonly ctrlDev: LogDevice;
  readonly active = new Map<number, NvmeCommand>();
  private admin: Queue | null = null;
  private ioq: Queue | null = null;
  private adminDone = new Map<number, number>();
  private nextAdminCid = 0;
  completed = 0;
  failed = 0;
  resets = 0;
  iovaRequests = 0;
  sgRequests = 0;

  constructor(
    private readonly core: CoreServices,
    readonly dev: Device,
    readonly instance: number,
    private readonly base: number,
    readonly irq: number,
    private readonly prpPool: DmaCoherentBuffer,
  ) {
    this.ctrlDev = { name: `nvme${instance}`, driverName: NVME_DRIVER_NAME };
  }

  get diskName(): string {
    return `nvme${this.instance}n1`;
  }

  private writel(off: number, v: number): void {
    this.core.mmio.writel(this.base + off, v);
  }
  private readl(off: number): number {
    return this.core.mmio.readl(this.base + off);
  }

  private allocQueue(qid: number, depth: number): Queue | null {
    const sq = dmaAllocCoherent(this.dev, depth * N.NVME_SQE_SIZE);
    const cq = dmaAllocCoherent(this.dev, depth * N.NVME_CQE_SIZE);
    if (sq === null || cq === null) {
      dmaFreeCoherentBuffers(this.dev, sq, cq);
      return null;
    }
    return { qid, sq, cq, depth, sqTail: 0, cqHead: 0, phase: 1 };
  }

  private freeQueue(q: Queue | null): void {
    if (q) dmaFreeCoherentBuffers(this.dev, q.sq, q.cq);
  }

  /** Enables the controller with fresh queues and creates the I/O queue pair; 0 or -errno. */
  enable(): number {
    this.writel(N.NVME_REG_CC, 0);
    this.freeQueue(this.admin);
    this.freeQueue(this.ioq);
    this.admin = this.allocQueue(0, ADMIN_DEPTH);
    this.ioq = this.allocQueue(1, IO_DEPTH);
    if (!this.admin || !this.ioq) return -ENOMEM;
    this.writel(N.NVME_REG_AQA, ((ADMIN_DEPTH - 1) | ((ADMIN_DEPTH - 1) << 16)) >>> 0);
    this.writel(N.NVME_REG_ASQ, lo32(this.admin.sq.dmaHandle));
    this.writel(N.NVME_REG_ASQ + 4, hi32(this.admin.sq.dmaHandle));
    this.writel(N.NVME_REG_ACQ, lo32(this.admin.cq.dmaHandle));
    this.writel(N.NVME_REG_ACQ + 4, hi32(this.admin.cq.dmaHandle));
    this.writel(N.NVME_REG_CC, N.NVME_CC_ENABLE);
    if (!waitFor(this.core.sched, () => (this.readl(N.NVME_REG_CSTS) & N.NVME_CSTS_RDY) !== 0)) {
      this.core.log.devErr(this.ctrlDev, 'Device not ready; aborting initialisation, CSTS=0x0');
      return -ENODEV;
    }
    const cq = this.adminCmd(N.nvme_admin_create_cq, this.ioq.cq.dmaHandle, 1 | ((IO_DEPTH - 1) << 16), 0x3);
    if (cq !== 0) return -EIO;
    const sq = this.adminCmd(N.nvme_admin_create_sq, this.ioq.sq.dmaHandle, 1 | ((IO_DEPTH - 1) << 16), 0x1 | (1 << 16));
    if (sq !== 0) return -EIO;
    return 0;
  }

  /** Synchronous admin command; the completion status, or -ETIMEDOUT. */
  private adminCmd(opcode: number, prp1: number, dw10: number, dw11: number): number {
    const q = this.admin!;
    const cid = this.nextAdminCid++ % 0x8000;
    const sqe = new Uint8Array(N.NVME_SQE_SIZE);
    putU32(sqe, 0, (opcode | (cid << 16)) >>> 0);
    putU64(sqe, 24, prp1);
    putU32(sqe, 40, dw10 >>> 0);
    putU32(sqe, 44, dw11 >>> 0);
    this.post(q, sqe);
    if (!waitFor(this.core.sched, () => this.adminDone.has(cid))) return -ETIMEDOUT;
    const st = this.adminDone.get(cid)!;
    this.adminDone.delete(cid);
    return st;
  }

  private post(q: Queue, sqe: Uint8Array): void {
    coherentWrite(this.core.cache, q.sq, q.sqTail * N.NVME_SQE_SIZE, sqe);
    q.sqTail = (q.sqTail + 1) % q.depth;
    this.writel(N.sqTailDoorbell(q.qid), q.sqTail);
  }

  private freeTag(): number {
    for (let t = 0; t < MAX_TAGS; t++) if (!this.active.has(t)) return t;
    return -1;
  }

  /** nvme_map_data: maps the request and fills PRP1/PRP2 (and the PRP list); the SQE fields or -errno. */
  private mapData(req: BlockRequest, cid: number, dir: DmaDataDirection): { mapping: Mapping; prp1: number; prp2: number } | number {
    const total = req.segments.reduce((s, g) => s + g.len, 0);
    const api = iovaLinkApi(this.dev);
    let addrs: number[] = [];
    let mapping: Mapping | null = null;
    if (api !== null && req.segments.length > 0) {
      const state: DmaIovaState = { addr: 0, size: 0 };
      if (api.tryAlloc(this.dev, state, req.segments[0]!.phys, total)) {
        let off = 0;
        for (const seg of req.segments) {
          const rc = api.link(this.dev, state, seg.phys, off, seg.len, dir, 0);
          if (rc !== 0) {
            api.destroy(this.dev, state, off, dir, 0);
            return rc;
          }
          off += seg.len;
        }
        const rc = api.sync(this.dev, state, 0, total);
        if (rc !== 0) {
          api.destroy(this.dev, state, total, dir, 0);
          return rc;
        }
        mapping = { kind: 'iova', api, state, linked: total };
        // one contiguous IOVA range: PRP entries are the page steps after the (offset) first address
        addrs.push(state.addr);
        for (let a = alignDown(state.addr, N.NVME_PAGE) + N.NVME_PAGE; a < state.addr + total; a += N.NVME_PAGE) addrs.push(a);
        this.iovaRequests++;
      }
    }
    if (mapping === null) {
      addrs = [];
      const sgl: Scatterlist[] = req.segments.map((s) => ({ pagePhys: alignDown(s.phys, N.NVME_PAGE), offset: s.phys % N.NVME_PAGE, length: s.len, dmaAddress: 0, dmaLength: 0 }));
      const nents = dmaMapSg(this.dev, sgl, sgl.length, dir);
      if (nents === 0) return -ENOMEM;
      mapping = { kind: 'sg', sgl };
      for (let i = 0; i < nents; i++) {
        const sg = sgl[i]!;
        for (let a = sg.dmaAddress; a < sg.dmaAddress + sg.dmaLength; a = alignDown(a, N.NVME_PAGE) + N.NVME_PAGE) {
          // only the first PRP entry may carry an offset
          if (addrs.length > 0 && a % N.NVME_PAGE !== 0) {
            dmaUnmapSg(this.dev, sgl, sgl.length, dir);
            return -EINVAL;
          }
          addrs.push(a);
        }
      }
      this.sgRequests++;
    }
    if (addrs.length > 0 && takeInjectedFault(this.dev)) addrs[0] = BAD_DMA_ADDR + (addrs[0]! % N.NVME_PAGE);
    const prp1 = addrs[0] ?? 0;
    let prp2 = 0;
    if (addrs.length === 2) prp2 = addrs[1]!;
    else if (addrs.length > 2) {
      if (addrs.length - 1 > N.NVME_PAGE / 8) {
        this.unmap(mapping, dir);
        return -EINVAL;
      }
      const list = new Uint8Array((addrs.length - 1) * 8);
      for (let i = 1; i < addrs.length; i++) putU64(list, (i - 1) * 8, addrs[i]!);
      coherentWrite(this.core.cache, this.prpPool, cid * N.NVME_PAGE, list);
      prp2 = this.prpPool.dmaHandle + cid * N.NVME_PAGE;
    }
    return { mapping, prp1, prp2 };
  }

  private unmap(m: Mapping, dir: DmaDataDirection): void {
    if (m.kind === 'iova') m.api.destroy(this.dev, m.state, m.linked, dir, 0);
    else dmaUnmapSg(this.dev, m.sgl, m.sgl.length, dir);
  }

  /** nvme_queue_rq: a read or write; the command, or -errno (-EBUSY with every tag taken). */
  submit(req: BlockRequest): NvmeCommand | number {
    const q = this.ioq;
    if (q === null) return -ENODEV;
    const cid = this.freeTag();
    if (cid < 0) return -EBUSY;
    const dir = req.write ? DMA_TO_DEVICE : DMA_FROM_DEVICE;
    const m = this.mapData(req, cid, dir);
    if (typeof m === 'number') return m;
    const sqe = new Uint8Array(N.NVME_SQE_SIZE);
    putU32(sqe, 0, ((req.write ? N.nvme_cmd_write : N.nvme_cmd_read) | (cid << 16)) >>> 0);
    putU32(sqe, 4, 1);
    putU64(sqe, 24, m.prp1);
    putU64(sqe, 32, m.prp2);
    putU64(sqe, 40, req.lba);
    putU32(sqe, 48, req.sectors - 1);
    const cmd: NvmeCommand = { req, cid, dir, mapping: m.mapping, status: 'pending', nvmeStatus: 0 };
    this.active.set(cid, cmd);
    this.post(q, sqe);
    return cmd;
  }

  /** nvme_irq: reaps both completion queues. */
  interrupt(): 'handled' | 'none' {
    let n = 0;
    for (const q of [this.admin, this.ioq]) {
      if (!q) continue;
      const cqe = new Uint8Array(N.NVME_CQE_SIZE);
      for (;;) {
        coherentRead(this.core.cache, q.cq, q.cqHead * N.NVME_CQE_SIZE, cqe);
        const dw3 = getU32(cqe, 12);
        if (((dw3 >>> 16) & 1) !== q.phase) break;
        const cid = dw3 & 0xffff;
        const status = dw3 >>> 17;
        if (q.qid === 0) this.adminDone.set(cid, status);
        else this.completeIo(cid, status);
        q.cqHead = (q.cqHead + 1) % q.depth;
        if (q.cqHead === 0) q.phase ^= 1;
        n++;
      }
      if (n > 0) this.writel(N.cqHeadDoorbell(q.qid), q.cqHead);
    }
    return n > 0 ? 'handled' : 'none';
  }

  private completeIo(cid: number, status: number): void {
    const cmd = this.active.get(cid);
    if (!cmd) return;
    this.active.delete(cid);
    this.unmap(cmd.mapping, cmd.dir);
    cmd.nvmeStatus = status;
    if (status === 0) {
      cmd.status = 'ok';
      this.completed++;
      return;
    }
    cmd.status = 'error';
    this.failed++;
    const sc = status & 0xff;
    const sct = (status >>> 8) & 0x7;
    const op = cmd.req.write ? 0x1 : 0x2;
    const what = sc === N.NVME_SC_DATA_XFER_ERROR ? 'Data Transfer Error' : 'I/O Error';
    this.core.log.err(`${this.diskName}: I/O Cmd(${`0x${op.toString(16)}`}) @ LBA ${cmd.req.lba}, ${cmd.req.sectors} blocks, ${what} (sct 0x${sct.toString(16)} / sc 0x${sc.toString(16)})`);
    this.core.log.err(`I/O error, dev ${this.diskName}, sector ${cmd.req.lba} op 0x${op.toString(16)}:(${cmd.req.write ? 'WRITE' : 'READ'}) flags 0x0 phys_seg ${cmd.req.segments.length} prio class 0`);
  }

  /** Waits for the queue to drain; on timeout aborts everything and resets the controller. */
  waitIdle(timeoutNs = DEFAULT_TIMEOUT_NS): number {
    if (waitFor(this.core.sched, () => this.active.size === 0, timeoutNs)) return 0;
    for (const cmd of [...this.active.values()]) {
      this.core.log.warning(`${'nvme'} ${this.ctrlDev.name}: I/O tag ${cmd.cid} (${cmd.cid.toString(16).padStart(4, '0')}) opcode 0x${(cmd.req.write ? 1 : 2).toString(16)} (I/O Cmd) QID 1 timeout, reset controller`);
    }
    this.reset();
    return -ETIMEDOUT;
  }

  /** Controller reset: every in-flight command fails, queues are rebuilt. */
  reset(): void {
    this.resets++;
    this.writel(N.NVME_REG_CC, 0);
    for (const cmd of [...this.active.values()]) {
      this.active.delete(cmd.cid);
      this.unmap(cmd.mapping, cmd.dir);
      cmd.status = 'error';
      this.failed++;
    }
    this.enable();
  }

  rw(req: BlockRequest): number {
    return blockRwSync(this, req);
  }

  release(): void {
    this.writel(N.NVME_REG_CC, 0);
    this.core.irqs.freeIrq(this.irq, NVME_DRIVER_NAME);
    this.freeQueue(this.admin);
    this.freeQueue(this.ioq);
    this.admin = this.ioq = null;
    dmaFreeCoherentBuffers(this.dev, this.prpPool);
  }
}

/** Controller numbering per machine. */
const instances = new WeakMap<CoreServices, number>();

/** The `nvme` PCI driver (QEMU NVMe, 1b36:0010). */
export function nvmeDriver(core: CoreServices, bus: BusServices): PciDriver {
  return {
    name: NVME_DRIVER_NAME,
    bus: bus.pci,
    idTable: [{ vendor: 0x1b36, device: 0x0010 }],
    probe: (pdev: PciDev) => nvmeProbe(core, pdev),
    remove: (pdev: PciDev) => {
      nvmeCtrlOf(pdev)?.release();
      pdev.driverData = undefined;
    },
  };
}

function nvmeProbe(core: CoreServices, dev: Device): number {
  const res = deviceResources(dev);
  if (res === null) return -ENODEV;
  let rc = dmaSetMaskWithFallback(dev, 64);
  if (rc !== 0) return -ENODEV;
  const prpPool = dmaAllocCoherent(dev, MAX_TAGS * N.NVME_PAGE);
  if (prpPool === null) return -ENOMEM;
  const n = instances.get(core) ?? 0;
  instances.set(core, n + 1);
  const ctrl = new NvmeCtrl(core, dev, n, res.mmioBase, res.irq, prpPool);
  core.log.devInfo(ctrl.ctrlDev, `pci function ${dev.name}`);
  rc = core.irqs.requestIrq(res.irq, () => ctrl.interrupt(), NVME_DRIVER_NAME, true);
  if (rc === 0) rc = ctrl.enable();
  if (rc !== 0) {
    core.log.devWarn(ctrl.ctrlDev, `Removing after probe failure status: ${rc}`);
    ctrl.release();
    return rc;
  }
  core.log.devInfo(ctrl.ctrlDev, '1/0/0 default/read/poll queues');
  dev.driverData = ctrl;
  return 0;
}

export function nvmeCtrlOf(dev: Device): NvmeCtrl | null {
  return dev.driverData instanceof NvmeCtrl ? dev.driverData : null;
}
