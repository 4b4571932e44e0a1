import { createCoreServices, GiB, type CoreServices, type DmaPort } from '@dmasim/core';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { HardwareContext } from '../model';
import { IrqStatus } from './irq-status';
import { MmioDeviceHw } from './mmio-device-hw';
import { hi32, lo32, setHi32, setLo32 } from './reg64';

const BASE = 0x4000_0000;

function makeCore(): CoreServices {
  return createCoreServices({ memory: [{ base: 0, size: GiB }], pages: { dmaZoneEnd: 0 } });
}

const nullPort: DmaPort = {
  read: () => ({ ok: true }),
  write: () => ({ ok: true }),
};

function ctxOf(core: CoreServices): HardwareContext {
  return { core, name: 'probe', dmaPort: nullPort, mmioBase: BASE, irq: 7 };
}

/** A device with a 64-bit address register, an ID register read from a field, and a W1C status. */
class ProbeHw extends MmioDeviceHw {
  readonly mmioSize = 0x100;
  readonly status = new IrqStatus(this.irq);
  private readonly ident: number;
  addr = 0;

  constructor(ctx: HardwareContext, ident: number) {
    super(ctx);
    this.ident = ident;
    this.mapMmio();
  }

  protected read32(off: number): number {
    if (off === 0x00) return this.ident;
    if (off === 0x08) return lo32(this.addr);
    if (off === 0x0c) return hi32(this.addr);
    if (off === 0x10) return this.status.status;
    return 0;
  }

  protected write32(off: number, v: number): void {
    if (off === 0x08) this.addr = setLo32(this.addr, v);
    if (off === 0x0c) this.addr = setHi32(this.addr, v);
    if (off === 0x10) this.status.ack(v);
    if (off === 0x14) this.status.setEnable(v);
    if (off === 0x18) this.after(100, 'event', () => this.status.raise(v));
  }
}

describe('MmioDeviceHw', () => {
  it('maps the subclass window after its fields exist, and unmaps it on destroy', () => {
    const core = makeCore();
    const hw = new ProbeHw(ctxOf(core), 0xabcd1234);
    expect(hw.name).toBe('probe');
    expect(core.mmio.readl(BASE)).toBe(0xabcd1234);
    // the window has the subclass's size (a field the base constructor could not have seen)
    expect(core.mmio.mapped.map((r) => [r.name, r.base, r.size])).toEqual([['probe', BASE, 0x100]]);
    hw.destroy();
    expect(core.mmio.mapped).toHaveLength(0);
    core.mmio.readl(BASE);
    expect(core.mmio.busErrors).toBe(1);
    // the same window can be mapped again by a new instance
    const again = new ProbeHw(ctxOf(core), 1);
    expect(core.mmio.readl(BASE)).toBe(1);
    again.destroy();
  });

  it('holds 64-bit addresses written as LO/HI halves in either order', () => {
    const core = makeCore();
    const hw = new ProbeHw(ctxOf(core), 0);
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 2 ** 48 - 1 }), fc.integer({ min: 0, max: 2 ** 48 - 1 }), fc.boolean(), (prev, next, hiFirst) => {
        hw.addr = prev;
        const writes: [number, number][] = [
          [BASE + 0x08, lo32(next)],
          [BASE + 0x0c, hi32(next)],
        ];
        if (hiFirst) writes.reverse();
        for (const [a, v] of writes) core.mmio.writel(a, v);
        expect(hw.addr).toBe(next);
        expect(core.mmio.readl(BASE + 0x08) + core.mmio.readl(BASE + 0x0c) * 2 ** 32).toBe(next);
      }),
    );
  });

  it('keeps the other half when one half changes, above 4 GiB too', () => {
    expect(setLo32(0x12_3456_7890, 0xffff_ffff)).toBe(0x12_ffff_ffff);
    expect(setHi32(0x12_3456_7890, 0x1)).toBe(0x1_3456_7890);
    // a negative word (a signed 32-bit value from a register write) is read as unsigned
    expect(setLo32(2 ** 32, -1)).toBe(2 ** 33 - 1);
  });

  it('raises the level interrupt only while an enabled status bit is set', () => {
    const core = makeCore();
    const hw = new ProbeHw(ctxOf(core), 0);
    const line = core.irqs.line(7);
    core.mmio.writel(BASE + 0x18, 0b10);
    core.sched.runUntilIdle();
    expect(core.mmio.readl(BASE + 0x10)).toBe(0b10);
    expect(line.raised).toBe(false); // not enabled yet
    core.mmio.writel(BASE + 0x14, 0b10);
    expect(line.raised).toBe(true);
    core.mmio.writel(BASE + 0x10, 0b01); // clearing another bit changes nothing
    expect(line.raised).toBe(true);
    core.mmio.writel(BASE + 0x10, 0b10);
    expect(line.raised).toBe(false);
    expect(hw.status.status).toBe(0);
  });
});
