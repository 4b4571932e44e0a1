import { PciFunctionHw } from '@dmasim/bus';
import { IrqStatus } from '../common/irq-status';
import { MmioDeviceHw } from '../common/mmio-device-hw';
import { hi32, lo32, setHi32, setLo32 } from '../common/reg64';
import type { HardwareContext } from '../model';

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
export class DmaEngineHw extends MmioDeviceHw {
  readonly mmioSize = 0x1000;
  readonly pciFunction?: PciFunctionHw;
  private readonly status = new IrqStatus(this.irq);
  private src = 0;
  private dst = 0;
  private len = 0;
  private fault = 0;
  copies = 0;

  constructor(ctx: HardwareContext, pci?: { vendor: number; device: number; classCode: number }) {
    super(ctx);
    if (pci) this.pciFunction = new PciFunctionHw(pci);
    this.mapMmio();
  }

  protected read32(off: number): number {
    switch (off) {
      case ENG_STATUS:
        return this.status.status;
      case ENG_INTR_EN:
        return this.status.enable;
      case ENG_FAULT_LO:
        return lo32(this.fault);
      case ENG_FAULT_HI:
        return hi32(this.fault);
      default:
        return 0;
    }
  }

  protected write32(off: number, v: number): void {
    switch (off) {
      case ENG_SRC_LO:
        this.src = setLo32(this.src, v);
        break;
      case ENG_SRC_HI:
        this.src = setHi32(this.src, v);
        break;
      case ENG_DST_LO:
        this.dst = setLo32(this.dst, v);
        break;
      case ENG_DST_HI:
        this.dst = setHi32(this.dst, v);
        break;
      case ENG_LEN:
        this.len = v >>> 0;
        break;
      case ENG_GO:
        this.after(500, 'copy', () => this.copy());
        break;
      case ENG_STATUS:
        this.status.ack(v);
        break;
      case ENG_INTR_EN:
        this.status.setEnable(v);
        break;
      default:
        break;
    }
  }

  private copy(): void {
    const buf = new Uint8Array(this.len);
    if (!this.io.read(this.src, buf) || !this.io.write(this.dst, buf)) {
      this.fault = this.lastFaultAddr();
      this.status.raise(ENG_STATUS_ERROR);
    } else {
      this.copies++;
      this.status.raise(ENG_STATUS_DONE);
    }
  }
}
