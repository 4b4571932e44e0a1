import { type IrqLine } from '@dmasim/core';
import { PortIo, getU32, getU64 } from '../common/port-io';
import { fillPattern } from '../common/pattern';
import type { DeviceHardware, HardwareContext } from '../model';
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
export class V3dHw implements DeviceHardware {
  readonly mmioSize = 0x1000;
  private readonly io: PortIo;
  private readonly irq: IrqLine;
  private seed = 0;
  private list = 0;
  private count = 0;
  private status = 0;
  private intrEn = 0;
  private fault = 0;
  framesRendered = 0;

  constructor(
    private readonly ctx: HardwareContext,
    private readonly paWidth = 10,
  ) {
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
      case V3D_IDENT:
        return 0x04020000; // 4.2
      case V3D_MMU_DEBUG_INFO:
        return this.paWidth;
      case V3D_STATUS:
        return this.status;
      case V3D_INTR_EN:
        return this.intrEn;
      case V3D_FAULT_LO:
        return this.fault % 2 ** 32;
      case V3D_FAULT_HI:
        return Math.floor(this.fault / 2 ** 32);
      default:
        return 0;
    }
  }

  private write32(off: number, v: number): void {
    switch (off) {
      case V3D_JOB_SEED:
        this.seed = v >>> 0;
        break;
      case V3D_JOB_LIST_LO:
        this.list = this.list - (this.list % 2 ** 32) + (v >>> 0);
        break;
      case V3D_JOB_LIST_HI:
        this.list = (v >>> 0) * 2 ** 32 + (this.list % 2 ** 32);
        break;
      case V3D_JOB_COUNT:
        this.count = v >>> 0;
        break;
      case V3D_JOB_SUBMIT:
        this.ctx.core.sched.schedule(1000, () => this.render(), `${this.ctx.name}:render`);
        break;
      case V3D_STATUS:
        this.status &= ~v;
        this.update();
        break;
      case V3D_INTR_EN:
        this.intrEn = v >>> 0;
        this.update();
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
    this.ctx.core.sched.schedule(Math.ceil(total / 1024) * RENDER_NS_PER_KIB, () => this.raise(V3D_STATUS_DONE), `${this.ctx.name}:done`);
  }

  private fail(): void {
    this.fault = this.io.lastFault?.addr ?? 0;
    this.raise(V3D_STATUS_ERROR);
  }

  private raise(bits: number): void {
    this.status |= bits;
    this.update();
  }

  private update(): void {
    if ((this.status & this.intrEn) !== 0) this.irq.raise();
    else this.irq.lower();
  }
}
