import { getU32, getU64 } from '../common/port-io';
import { fillPattern } from '../common/pattern';
import { IrqStatus } from '../common/irq-status';
import { MmioDeviceHw } from '../common/mmio-device-hw';
import { hi32, lo32, setHi32, setLo32 } from '../common/reg64';
import type { HardwareContext } from '../model';
import { SEG_ENTRY_SIZE } from './frame-job';

export const V3D_IDENT = 0x00;
/** MMU_DEBUG_INFO: PA_WIDTH in bits 0-3 (the GPU reaches 30 + PA_WIDTH address bits). */
export const V3D_MMU_DEBUG_INFO = 0x04;
export const V3D_JOB_SEED = 0x10;
export const V3D_JOB_LIST_LO = 0x14;
export const V3D_JOB_LIST_HI = 0x18;
export const V3D_JOB_COUNT = 0x1c;
export const V3D_JOB_SUBMIT = 0x20;
export const V3D_STATUS = 0x24;
export const V3D_INTR_EN = 0x28;
export const V3D_FAULT_LO = 0x2c;
export const V3D_FAULT_HI = 0x30;
export const V3D_STATUS_DONE = 1 << 0;
export const V3D_STATUS_ERROR = 1 << 1;

const RENDER_NS_PER_KIB = 50;

/**
 * The Raspberry Pi 4 V3D as a frame renderer: a job names a pattern seed and a segment list; the
 * GPU writes the patterned frame across the segments through its DMA port and interrupts.
 */
export class V3dHw extends MmioDeviceHw {
  readonly mmioSize = 0x1000;
  private readonly status = new IrqStatus(this.irq);
  private seed = 0;
  private list = 0;
  private count = 0;
  private fault = 0;
  framesRendered = 0;

  constructor(
    ctx: HardwareContext,
    private readonly paWidth = 10,
  ) {
    super(ctx);
    this.mapMmio();
  }

  protected read32(off: number): number {
    switch (off) {
      case V3D_IDENT:
        return 0x04020000; // 4.2
      case V3D_MMU_DEBUG_INFO:
        return this.paWidth;
      case V3D_STATUS:
        return this.status.status;
      case V3D_INTR_EN:
        return this.status.enable;
      case V3D_FAULT_LO:
        return lo32(this.fault);
      case V3D_FAULT_HI:
        return hi32(this.fault);
      default:
        return 0;
    }
  }

  protected write32(off: number, v: number): void {
    switch (off) {
      case V3D_JOB_SEED:
        this.seed = v >>> 0;
        break;
      case V3D_JOB_LIST_LO:
        this.list = setLo32(this.list, v);
        break;
      case V3D_JOB_LIST_HI:
        this.list = setHi32(this.list, v);
        break;
      case V3D_JOB_COUNT:
        this.count = v >>> 0;
        break;
      case V3D_JOB_SUBMIT:
        this.after(1000, 'render', () => this.render());
        break;
      case V3D_STATUS:
        this.status.ack(v);
        break;
      case V3D_INTR_EN:
        this.status.setEnable(v);
        break;
      default:
        break;
    }
  }

  private render(): void {
    const raw = new Uint8Array(this.count * SEG_ENTRY_SIZE);
    if (!this.io.read(this.list, raw)) return this.fail();
    let total = 0;
    const segs: { addr: number; len: number }[] = [];
    for (let i = 0; i < this.count; i++) {
      const len = getU32(raw, i * SEG_ENTRY_SIZE + 8);
      segs.push({ addr: getU64(raw, i * SEG_ENTRY_SIZE), len });
      total += len;
    }
    const frame = fillPattern(new Uint8Array(total), this.seed);
    let at = 0;
    for (const s of segs) {
      if (!this.io.write(s.addr, frame.subarray(at, at + s.len))) return this.fail();
      at += s.len;
    }
    this.framesRendered++;
    // rendering takes time in proportion to the frame
    this.after(Math.ceil(total / 1024) * RENDER_NS_PER_KIB, 'done', () => this.status.raise(V3D_STATUS_DONE));
  }

  private fail(): void {
    this.fault = this.lastFaultAddr();
    this.status.raise(V3D_STATUS_ERROR);
  }
}
