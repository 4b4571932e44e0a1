import { type IrqLine } from '@dmasim/core';
import { PortIo, getU32, getU64 } from '../common/port-io';
import { CHECKSUM_INIT, fnv1a } from '../common/pattern';
import type { DeviceHardware, HardwareContext } from '../model';
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
export class HvsHw implements DeviceHardware {
  readonly mmioSize = 0x1000;
  private readonly io: PortIo;
  private readonly irq: IrqLine;
  private ctrl = 0;
  private stat = 0;
  private intrEn = 0;
  private dlist = 0;
  private count = 0;
  private crc = 0;
  private bytes = 0;
  private fault = 0;
  framesScanned = 0;

  constructor(private readonly ctx: HardwareContext) {
    this.io = new PortIo(ctx.dmaPort);
    this.irq = ctx.core.irqs.line(ctx.irq);
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
      case HVS_DISPCTRL:
        return this.ctrl >>> 0;
      case HVS_DISPSTAT:
        return this.stat;
      case HVS_INTR_EN:
        return this.intrEn;
      case HVS_CRC:
        return this.crc;
      case HVS_BYTES:
        return this.bytes;
      case HVS_FAULT_LO:
        return this.fault % 2 ** 32;
      case HVS_FAULT_HI:
        return Math.floor(this.fault / 2 ** 32);
      default:
        return 0;
    }
  }

  private write32(off: number, v: number): void {
    switch (off) {
      case HVS_DISPCTRL:
        this.ctrl = v >>> 0;
        break;
      case HVS_DISPSTAT:
        this.stat &= ~v;
        this.update();
        break;
      case HVS_INTR_EN:
        this.intrEn = v >>> 0;
        this.update();
        break;
      case HVS_DLIST_LO:
        this.dlist = this.dlist - (this.dlist % 2 ** 32) + (v >>> 0);
        break;
      case HVS_DLIST_HI:
        this.dlist = (v >>> 0) * 2 ** 32 + (this.dlist % 2 ** 32);
        break;
      case HVS_DLIST_COUNT:
        this.count = v >>> 0;
        break;
      case HVS_GO:
        if ((this.ctrl & DISPCTRL_ENABLE) !== 0) this.ctx.core.sched.schedule(1000, () => this.scanout(), `${this.ctx.name}:scanout`);
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
    this.raise(DISPSTAT_FRAME_DONE);
  }

  private fail(): void {
    this.fault = this.io.lastFault?.addr ?? 0;
    this.raise(DISPSTAT_DMA_ERROR);
  }

  private raise(bits: number): void {
    this.stat |= bits;
    this.update();
  }

  private update(): void {
    if ((this.stat & this.intrEn) !== 0) this.irq.raise();
    else this.irq.lower();
  }
}
