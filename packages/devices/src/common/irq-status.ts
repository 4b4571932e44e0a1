import type { IrqLine } from '@dmasim/core';

/**
 * A status register with write-one-to-clear bits and an interrupt-enable mask in front of a level
 * interrupt: the line is up exactly while some enabled status bit is set. Several models share
 * this shape (V3D, HVS, the DMA engine, the ring NIC); the register offsets stay theirs.
 */
export class IrqStatus {
  private bits = 0;
  private enabled = 0;

  constructor(private readonly line: IrqLine) {}

  get status(): number {
    return this.bits;
  }

  get enable(): number {
    return this.enabled;
  }

  /** The hardware sets `bits` (an event happened). */
  raise(bits: number): void {
    this.bits = (this.bits | bits) >>> 0;
    this.update();
  }

  /** Software writes 1s to clear. */
  ack(bits: number): void {
    this.bits = (this.bits & ~bits) >>> 0;
    this.update();
  }

  /** Software writes the interrupt-enable register. */
  setEnable(mask: number): void {
    this.enabled = mask >>> 0;
    this.update();
  }

  /** Reset: every status bit cleared (the enable mask is kept). */
  clear(): void {
    this.bits = 0;
    this.update();
  }

  private update(): void {
    if ((this.bits & this.enabled) !== 0) this.line.raise();
    else this.line.lower();
  }
}
