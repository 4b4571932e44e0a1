import { PciFunctionHw } from '@dmasim/bus';
import { type IrqLine } from '@dmasim/core';
import { PortIo } from '../common/port-io';
import type { DeviceHardware, HardwareContext } from '../model';

export const ENG_SRC_LO = 0x00;
export const ENG_SRC_HI = 0x04;
export const ENG_DST_LO = 0x08;
export const ENG_DST_HI = 0x0c;
export const ENG_LEN = 0x10;
export const ENG_GO = 0x14;
export const ENG_STATUS = 0x18;
export const ENG_INTR_EN = 0x1c;
export const ENG_FAULT_LO = 0x20;
export const ENG_FAULT_HI = 0x24;
export const ENG_STATUS_DONE = 1 << 0;
export const ENG_STATUS_ERROR = 1 << 1;

/**
 * A plain DMA master with a memcpy engine: copies LEN bytes from SRC to DST (bus addresses) through
 * its DMA port. It stands for the controllers whose own protocol does not matter here (USB host
 * controllers, a PCI test function) but whose DMA must go through the IOMMU like everyone else's.
 */
export class DmaEngineHw implements DeviceHardware {
  readonly mmioSize = 0x1000;
  readonly pciFunction?: PciFunctionHw;
  private readonly io: PortIo;
  private readonly irq: IrqLine;
  private src = 0;
  private dst = 0;
  private len = 0;
  private status = 0;
  private intrEn = 0;
  private fault = 0;
  copies = 0;

  constructor(
    private readonly ctx: HardwareContext,
    pci?: { vendor: number; device: number; classCode: number },
  ) {
    this.io = new PortIo(ctx.dmaPort);
    this.irq = ctx.core.irqs.line(ctx.irq);
    if (pci) this.pciFunction = new PciFunctionHw(pci);
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
      case ENG_STATUS:
        return this.status;
      case ENG_INTR_EN:
        return this.intrEn;
      case ENG_FAULT_LO:
        return this.fault % 2 ** 32;
      case ENG_FAULT_HI:
        return Math.floor(this.fault / 2 ** 32);
      default:
        return 0;
    }
  }

  private write32(off: number, v: number): void {
    const u = v >>> 0;
    switch (off) {
      case ENG_SRC_LO:
        this.src = this.src - (this.src % 2 ** 32) + u;
        break;
      case ENG_SRC_HI:
        this.src = u * 2 ** 32 + (this.src % 2 ** 32);
        break;
      case ENG_DST_LO:
        this.dst = this.dst - (this.dst % 2 ** 32) + u;
        break;
      case ENG_DST_HI:
        this.dst = u * 2 ** 32 + (this.dst % 2 ** 32);
        break;
      case ENG_LEN:
        this.len = u;
        break;
      case ENG_GO:
        this.ctx.core.sched.schedule(500, () => this.copy(), `${this.ctx.name}:copy`);
        break;
      case ENG_STATUS:
        this.status &= ~u;
        this.update();
        break;
      case ENG_INTR_EN:
        this.intrEn = u;
        this.update();
        break;
      default:
        break;
    }
  }

  private copy(): void {
    const buf = new Uint8Array(this.len);
    if (!this.io.read(this.src, buf) || !this.io.write(this.dst, buf)) {
      this.fault = this.io.lastFault?.addr ?? 0;
      this.status |= ENG_STATUS_ERROR;
    } else {
      this.copies++;
      this.status |= ENG_STATUS_DONE;
    }
    this.update();
  }

  private update(): void {
    if ((this.status & this.intrEn) !== 0) this.irq.raise();
    else this.irq.lower();
  }
}
