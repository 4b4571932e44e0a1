import { PciFunctionHw } from '@dmasim/bus';
import type { HardwareContext } from '../model';
import { IrqStatus } from '../common/irq-status';
import { MmioDeviceHw } from '../common/mmio-device-hw';
import { getU32, getU64, putU32 } from '../common/port-io';
import { hi32, lo32, setHi32, setLo32 } from '../common/reg64';
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
export class RingNicHw extends MmioDeviceHw {
  readonly mmioSize = 0x1000;
  readonly pciFunction?: PciFunctionHw;
  private readonly status = new IrqStatus(this.irq);
  private ctrl = 0;
  private txBase = 0;
  private rxBase = 0;
  private txSize = 0;
  private rxSize = 0;
  private txi = 0;
  private rxi = 0;
  private faultAddr = 0;
  rxMissed = 0;
  framesSent = 0;
  framesReceived = 0;
  dmaFaults = 0;

  constructor(
    ctx: HardwareContext,
    private readonly options: RingNicHwOptions = {},
  ) {
    super(ctx);
    if (options.pci) this.pciFunction = new PciFunctionHw({ vendor: options.pci.vendor, device: options.pci.device, classCode: 0x020000 });
    this.mapMmio();
  }

  protected read32(off: number): number {
    switch (off) {
      case R.NIC_CTRL:
        return this.ctrl >>> 0;
      case R.NIC_STATUS:
        return this.status.status;
      case R.NIC_INTR_EN:
        return this.status.enable;
      case R.NIC_TX_INDEX:
        return this.txi;
      case R.NIC_RX_INDEX:
        return this.rxi;
      case R.NIC_FAULT_ADDR_LO:
        return lo32(this.faultAddr);
      case R.NIC_FAULT_ADDR_HI:
        return hi32(this.faultAddr);
      case R.NIC_RX_MISSED:
        return this.rxMissed;
      case R.NIC_HW_FEATURE:
        return this.options.dma64 === true ? R.FEATURE_DMA64 >>> 0 : 0;
      default:
        return 0;
    }
  }

  protected write32(off: number, v: number): void {
    switch (off) {
      case R.NIC_CTRL:
        if ((v & R.CTRL_RESET) !== 0) {
          this.ctrl = 0;
          this.txi = 0;
          this.rxi = 0;
          this.status.clear();
        } else this.ctrl = v >>> 0;
        break;
      case R.NIC_STATUS:
        this.status.ack(v);
        break;
      case R.NIC_INTR_EN:
        this.status.setEnable(v);
        break;
      case R.NIC_TX_BASE_LO:
        this.txBase = setLo32(this.txBase, v);
        break;
      case R.NIC_TX_BASE_HI:
        this.txBase = setHi32(this.txBase, v);
        break;
      case R.NIC_RX_BASE_LO:
        this.rxBase = setLo32(this.rxBase, v);
        break;
      case R.NIC_RX_BASE_HI:
        this.rxBase = setHi32(this.rxBase, v);
        break;
      case R.NIC_TX_RING_SIZE:
        this.txSize = v >>> 0;
        break;
      case R.NIC_RX_RING_SIZE:
        this.rxSize = v >>> 0;
        break;
      case R.NIC_TX_POLL:
      case R.NIC_RX_POLL:
        this.doorbell(TX_LATENCY_NS, 'dma', () => this.process());
        break;
      default:
        break;
    }
  }

  private fatal(): void {
    this.dmaFaults++;
    this.faultAddr = this.lastFaultAddr();
    this.ctrl = (this.ctrl & ~(R.CTRL_TX_EN | R.CTRL_RX_EN)) >>> 0;
    this.status.raise(R.STATUS_FBI);
  }

  private process(): void {
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
    if (sent > 0) this.status.raise(R.STATUS_TI);
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
      this.status.raise(R.STATUS_RU);
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
    this.status.raise(R.STATUS_RI);
    return true;
  }
}
