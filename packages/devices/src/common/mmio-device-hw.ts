import type { IrqLine } from '@dmasim/core';
import type { DeviceHardware, HardwareContext } from '../model';
import { PortIo } from './port-io';

/**
 * What every register-programmed device model has in common: its DMA port (wrapped for descriptor
 * access), its interrupt line, and a 32-bit register window on the MMIO bus named after the device.
 *
 * The window is NOT mapped by this constructor: subclass fields (register state, `mmioSize`) are
 * only initialised after `super()` returns, so each subclass calls `mapMmio()` as the last step of
 * its own constructor, once the handlers have everything they read.
 */
export abstract class MmioDeviceHw implements DeviceHardware {
  abstract readonly mmioSize: number;
  protected readonly io: PortIo;
  protected readonly irq: IrqLine;
  /** Doorbell passes scheduled and not yet run, by label. */
  private readonly pendingPasses = new Set<string>();

  protected constructor(protected readonly ctx: HardwareContext) {
    this.io = new PortIo(ctx.dmaPort);
    this.irq = ctx.core.irqs.line(ctx.irq);
  }

  get name(): string {
    return this.ctx.name;
  }

  destroy(): void {
    this.ctx.core.mmio.unmap(this.ctx.name);
  }

  /** Puts the register window at `mmioBase`; call once, at the end of the subclass constructor. */
  protected mapMmio(): void {
    this.ctx.core.mmio.map(this.ctx.name, this.ctx.mmioBase, this.mmioSize, {
      read32: (off) => this.read32(off),
      write32: (off, v) => this.write32(off, v),
    });
  }

  /** Where the last DMA fault hit (0 when none): what the models latch in their FAULT registers. */
  protected lastFaultAddr(): number {
    return this.io.lastFault?.addr ?? 0;
  }

  /** Drives the level-triggered interrupt line: up while `asserted`. */
  protected setIrqLevel(asserted: boolean): void {
    if (asserted) this.irq.raise();
    else this.irq.lower();
  }

  /**
   * A doorbell: schedules one pass of `fn` after `delayNs` unless a pass is already pending, so the
   * doorbell writes that arrive before it runs are all served by that one pass (it reads the queue
   * state when it runs, not when it was rung).
   */
  protected doorbell(delayNs: number, what: string, fn: () => void): void {
    if (this.pendingPasses.has(what)) return;
    this.pendingPasses.add(what);
    this.after(delayNs, what, () => {
      this.pendingPasses.delete(what);
      fn();
    });
  }

  /** Schedules `fn` after `delayNs` of simulated time, labelled with the device's name. */
  protected after(delayNs: number, what: string, fn: () => void): void {
    this.ctx.core.sched.schedule(delayNs, fn, `${this.ctx.name}:${what}`);
  }

  protected abstract read32(off: number): number;
  protected abstract write32(off: number, v: number): void;
}
