import { getU32, getU64 } from '../common/port-io';
import { CHECKSUM_INIT, fnv1a } from '../common/pattern';
import { IrqStatus } from '../common/irq-status';
import { MmioDeviceHw } from '../common/mmio-device-hw';
import { hi32, lo32, setHi32, setLo32 } from '../common/reg64';
import type { HardwareContext } from '../model';
import { SEG_ENTRY_SIZE } from './frame-job';

export const HVS_DISPCTRL = 0x00;
export const HVS_DISPSTAT = 0x04;
export const HVS_INTR_EN = 0x08;
export const HVS_DLIST_LO = 0x10;
export const HVS_DLIST_HI = 0x14;
export const HVS_DLIST_COUNT = 0x18;
export const HVS_GO = 0x1c;
/** FNV-1a of the bytes scanned out in the last frame. */
export const HVS_CRC = 0x20;
export const HVS_BYTES = 0x24;
export const HVS_FAULT_LO = 0x28;
export const HVS_FAULT_HI = 0x2c;

export const DISPCTRL_ENABLE = 1 << 31;
export const DISPSTAT_FRAME_DONE = 1 << 0;
export const DISPSTAT_DMA_ERROR = 1 << 1;

const SCAN_CHUNK = 64 * 1024;

/**
 * The BCM2711 HVS as a scan-out engine: a display list of segments (bus addresses as the device
 * sees them, i.e. through the 1 GiB `dma-ranges` window), fetched through the DMA port; the frame's
 * checksum lands in a register so the driver can check the pixels it expected.
 */
export class HvsHw extends MmioDeviceHw {
  readonly mmioSize = 0x1000;
  private readonly stat = new IrqStatus(this.irq);
  private ctrl = 0;
  private dlist = 0;
  private count = 0;
  private crc = 0;
  private bytes = 0;
  private fault = 0;
  framesScanned = 0;

  constructor(ctx: HardwareContext) {
    super(ctx);
    this.mapMmio();
  }

  protected read32(off: number): number {
    switch (off) {
      case HVS_DISPCTRL:
        return this.ctrl >>> 0;
      case HVS_DISPSTAT:
        return this.stat.status;
      case HVS_INTR_EN:
        return this.stat.enable;
      case HVS_CRC:
        return this.crc;
      case HVS_BYTES:
        return this.bytes;
      case HVS_FAULT_LO:
        return lo32(this.fault);
      case HVS_FAULT_HI:
        return hi32(this.fault);
      default:
        return 0;
    }
  }

  protected write32(off: number, v: number): void {
    switch (off) {
      case HVS_DISPCTRL:
        this.ctrl = v >>> 0;
        break;
      case HVS_DISPSTAT:
        this.stat.ack(v);
        break;
      case HVS_INTR_EN:
        this.stat.setEnable(v);
        break;
      case HVS_DLIST_LO:
        this.dlist = setLo32(this.dlist, v);
        break;
      case HVS_DLIST_HI:
        this.dlist = setHi32(this.dlist, v);
        break;
      case HVS_DLIST_COUNT:
        this.count = v >>> 0;
        break;
      case HVS_GO:
        if ((this.ctrl & DISPCTRL_ENABLE) !== 0) this.after(1000, 'scanout', () => this.scanout());
        break;
      default:
        break;
    }
  }

  /** Runs one scan-out: the display list, then each segment, checksummed in order. */
  scanout(): void {
    const raw = new Uint8Array(this.count * SEG_ENTRY_SIZE);
    if (!this.io.read(this.dlist, raw)) return this.fail();
    let h = CHECKSUM_INIT;
    let total = 0;
    const chunk = new Uint8Array(SCAN_CHUNK);
    for (let i = 0; i < this.count; i++) {
      const addr = getU64(raw, i * SEG_ENTRY_SIZE);
      const len = getU32(raw, i * SEG_ENTRY_SIZE + 8);
      for (let off = 0; off < len; off += SCAN_CHUNK) {
        const part = chunk.subarray(0, Math.min(SCAN_CHUNK, len - off));
        if (!this.io.read(addr + off, part)) return this.fail();
        h = fnv1a(part, h);
      }
      total += len;
    }
    this.crc = h;
    this.bytes = total;
    this.framesScanned++;
    this.stat.raise(DISPSTAT_FRAME_DONE);
  }

  private fail(): void {
    this.fault = this.lastFaultAddr();
    this.stat.raise(DISPSTAT_DMA_ERROR);
  }
}
