import { PciFunctionHw } from '@dmasim/bus';
import { type IrqLine } from '@dmasim/core';
import type { DeviceHardware, HardwareContext } from '../model';
import { PortIo, getU32, getU64, putU32 } from '../common/port-io';
import * as R from './ring-nic-regs';

const TX_LATENCY_NS = 1000;

export interface RingNicHwOptions {
  /** PCI identity when the NIC is a PCI function. */
  readonly pci?: { readonly vendor: number; readonly device: number };
  readonly dma64?: boolean;
}

/**
 * A descriptor-ring Ethernet MAC: on a TX poll demand it walks the TX ring while descriptors are
 * owned by hardware, fetches each frame through its DMA port and, in loopback, writes it into the
 * next owned RX buffer. A DMA fault stops both engines with a fatal-bus-error status, as xgmac does.
 */
export class RingNicHw implements DeviceHardware {
  readonly mmioSize = 0x1000;
  readonly pciFunction?: PciFunctionHw;
  private readonly io: PortIo;
  private readonly irq: IrqLine;
  private ctrl = 0;
  private status = 0;
  private intrEn = 0;
  private txBase = 0;
  private rxBase = 0;
  private txSize = 0;
  private rxSize = 0;
  private txi = 0;
  private rxi = 0;
  private faultAddr = 0;
  private busy = false;
  rxMissed = 0;
  framesSent = 0;
  framesReceived = 0;
  dmaFaults = 0;

  constructor(
    private readonly ctx: HardwareContext,
    private readonly options: RingNicHwOptions = {},
  ) {
    this.io = new PortIo(ctx.dmaPort);
    this.irq = ctx.core.irqs.line(ctx.irq);
    if (options.pci) this.pciFunction = new PciFunctionHw({ vendor: options.pci.vendor, device: options.pci.device, classCode: 0x020000 });
    ctx.core.mmio.map(ctx.name, ctx.mmioBase, this.mmioSize, { read32: (o) => this.read32(o), write32: (o, v) => this.write32(o, v) });
  }

  get name(): string {
    return this.ctx.name;
  }

  destroy(): void {
    this.ctx.core.mmio.unmap(this.ctx.name);
  }

  private read32(off: number): number {
    switch (off) {
      case R.NIC_CTRL:
        return this.ctrl >>> 0;
      case R.NIC_STATUS:
        return this.status >>> 0;
      case R.NIC_INTR_EN:
        return this.intrEn >>> 0;
      case R.NIC_TX_INDEX:
        return this.txi;
      case R.NIC_RX_INDEX:
        return this.rxi;
      case R.NIC_FAULT_ADDR_LO:
        return this.faultAddr % 2 ** 32;
      case R.NIC_FAULT_ADDR_HI:
        return Math.floor(this.faultAddr / 2 ** 32);
      case R.NIC_RX_MISSED:
        return this.rxMissed;
      case R.NIC_HW_FEATURE:
        return this.options.dma64 === true ? R.FEATURE_DMA64 >>> 0 : 0;
      default:
        return 0;
    }
  }

  private write32(off: number, v: number): void {
    switch (off) {
      case R.NIC_CTRL:
        if ((v & R.CTRL_RESET) !== 0) {
          this.ctrl = 0;
          this.status = 0;
          this.txi = 0;
          this.rxi = 0;
          this.updateIrq();
        } else this.ctrl = v >>> 0;
        break;
      case R.NIC_STATUS:
        this.status = (this.status & ~v) >>> 0;
        this.updateIrq();
        break;
      case R.NIC_INTR_EN:
        this.intrEn = v >>> 0;
        this.updateIrq();
        break;
      case R.NIC_TX_BASE_LO:
        this.txBase = this.txBase - (this.txBase % 2 ** 32) + (v >>> 0);
        break;
      case R.NIC_TX_BASE_HI:
        this.txBase = (v >>> 0) * 2 ** 32 + (this.txBase % 2 ** 32);
        break;
      case R.NIC_RX_BASE_LO:
        this.rxBase = this.rxBase - (this.rxBase % 2 ** 32) + (v >>> 0);
        break;
      case R.NIC_RX_BASE_HI:
        this.rxBase = (v >>> 0) * 2 ** 32 + (this.rxBase % 2 ** 32);
        break;
      case R.NIC_TX_RING_SIZE:
        this.txSize = v >>> 0;
        break;
      case R.NIC_RX_RING_SIZE:
        this.rxSize = v >>> 0;
        break;
      case R.NIC_TX_POLL:
      case R.NIC_RX_POLL:
        this.kick();
        break;
      default:
        break;
    }
  }

  private kick(): void {
    if (this.busy) return;
    this.busy = true;
    this.ctx.core.sched.schedule(TX_LATENCY_NS, () => this.process(), `${this.ctx.name}:dma`);
  }

  private fatal(): void {
    this.dmaFaults++;
    this.faultAddr = this.io.lastFault?.addr ?? 0;
    this.ctrl = (this.ctrl & ~(R.CTRL_TX_EN | R.CTRL_RX_EN)) >>> 0;
    this.raise(R.STATUS_FBI);
  }

  private process(): void {
    this.busy = false;
    if ((this.ctrl & R.CTRL_TX_EN) === 0 || this.txSize === 0) return;
    const desc = new Uint8Array(R.DESC_SIZE);
    let sent = 0;
    for (;;) {
      const at = this.txBase + this.txi * R.DESC_SIZE;
      if (!this.io.read(at, desc)) return this.fatal();
      const w0 = getU32(desc, 0);
      if ((w0 & R.DESC_OWN) === 0) break;
      const len = w0 & 0xffff;
      const frame = new Uint8Array(len);
      if (!this.io.read(getU64(desc, 8), frame)) return this.fatal();
      if ((this.ctrl & R.CTRL_LOOPBACK) !== 0 && !this.receive(frame)) return this.fatal();
      // write back: hardware gives the descriptor to software
      const wb = new Uint8Array(4);
      putU32(wb, 0, len);
      if (!this.io.write(at, wb)) return this.fatal();
      this.txi = (this.txi + 1) % this.txSize;
      this.framesSent++;
      sent++;
    }
    if (sent > 0) this.raise(R.STATUS_TI);
  }

  /** Loopback delivery into the next RX buffer the driver gave; false on a DMA fault. */
  private receive(frame: Uint8Array): boolean {
    if ((this.ctrl & R.CTRL_RX_EN) === 0 || this.rxSize === 0) return true;
    const at = this.rxBase + this.rxi * R.DESC_SIZE;
    const desc = new Uint8Array(R.DESC_SIZE);
    if (!this.io.read(at, desc)) return false;
    const w0 = getU32(desc, 0);
    if ((w0 & R.DESC_OWN) === 0) {
      this.rxMissed++;
      this.raise(R.STATUS_RU);
      return true;
    }
    const bufSize = getU32(desc, 4);
    const n = Math.min(frame.length, bufSize);
    if (!this.io.write(getU64(desc, 8), frame.subarray(0, n))) return false;
    const wb = new Uint8Array(4);
    putU32(wb, 0, n);
    if (!this.io.write(at, wb)) return false;
    this.rxi = (this.rxi + 1) % this.rxSize;
    this.framesReceived++;
    this.raise(R.STATUS_RI);
    return true;
  }

  private raise(bits: number): void {
    this.status = (this.status | bits) >>> 0;
    this.updateIrq();
  }

  private updateIrq(): void {
    if ((this.status & this.intrEn) !== 0) this.irq.raise();
    else this.irq.lower();
  }
}
