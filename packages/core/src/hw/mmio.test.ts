import { describe, expect, it } from 'vitest';
import { KernelLog } from '../log/kernel-log';
import { MMIO_BUS_ERROR_VALUE, MmioBus, type MmioHandler } from './mmio';

/** A register file backed by a map of 32-bit words, recording every access. */
class Regs implements MmioHandler {
  readonly words = new Map<number, number>();
  readonly accesses: string[] = [];
  read32(offset: number): number {
    this.accesses.push(`r32 ${offset}`);
    return this.words.get(offset) ?? 0;
  }
  write32(offset: number, value: number): void {
    this.accesses.push(`w32 ${offset}=${value.toString(16)}`);
    this.words.set(offset, value);
  }
}

describe('MmioBus', () => {
  it('routes accesses to the region that decodes the address, at region-relative offsets', () => {
    const bus = new MmioBus();
    const smmu = new Regs();
    const sata = new Regs();
    bus.map('smmu0', 0x2b50_0000, 0x1_0000, smmu);
    bus.map('sata', 0xffe0_8000, 0x1000, sata);
    bus.writel(0x2b50_0004, 0x1234);
    bus.writel(0xffe0_8ffc, 0xdeadbeef);
    expect(smmu.words.get(4)).toBe(0x1234);
    expect(sata.words.get(0xffc)).toBe(0xdeadbeef);
    expect(bus.readl(0x2b50_0004)).toBe(0x1234);
    expect(bus.readl(0xffe0_8ffc)).toBe(0xdeadbeef);
    expect(bus.find(0xffe0_9000)).toBeUndefined();
    expect(bus.mapped.map((r) => r.name)).toEqual(['smmu0', 'sata']);
  });

  it('routes addresses above 4 GiB', () => {
    const bus = new MmioBus();
    const regs = new Regs();
    bus.map('pcie-ecam', 0x40_0000_0000, 0x1000_0000, regs);
    bus.writel(0x40_0000_0010, 7);
    expect(regs.words.get(0x10)).toBe(7);
    expect(bus.readl(0x0000_0010)).toBe(MMIO_BUS_ERROR_VALUE);
  });

  it('refuses a region that overlaps another', () => {
    const bus = new MmioBus();
    bus.map('a', 0x1000, 0x1000, new Regs());
    expect(() => bus.map('b', 0x1ffc, 0x10, new Regs())).toThrow(/overlaps a/);
    expect(() => bus.map('c', 0x2000, 0x1000, new Regs())).not.toThrow();
  });

  it('an access nothing decodes is logged as a bus error and reads all ones', () => {
    const log = new KernelLog();
    const bus = new MmioBus(log);
    bus.map('a', 0x1000, 0x1000, new Regs());
    expect(bus.readl(0x3000)).toBe(0xffffffff);
    bus.writel(0x5000_0000, 1);
    expect(bus.busErrors).toBe(2);
    expect(log.lines).toHaveLength(2);
    expect(log.lines[0]!.level).toBe('err');
    expect(log.lines[0]!.text).toContain('0x3000');
    expect(log.lines[1]!.text).toContain('0x50000000');
  });

  it('splits 64-bit accesses into two 32-bit ones, low word first, when the device has no 64-bit handler', () => {
    const bus = new MmioBus();
    const regs = new Regs();
    bus.map('r', 0x1000, 0x100, regs);
    bus.writeq(0x1008, 0x12_3456_789a);
    expect(regs.accesses).toEqual(['w32 8=3456789a', 'w32 12=12']);
    expect(bus.readq(0x1008)).toBe(0x12_3456_789a);
    expect(regs.accesses.slice(2)).toEqual(['r32 8', 'r32 12']);
  });

  it('uses a 64-bit handler when the device has one', () => {
    const bus = new MmioBus();
    let stored = 0;
    bus.map('r', 0x1000, 0x100, {
      read32: () => 0,
      write32: () => undefined,
      read64: () => stored,
      write64: (_o, v) => {
        stored = v;
      },
    });
    bus.writeq(0x1000, 2 ** 48 + 5);
    expect(stored).toBe(2 ** 48 + 5);
    expect(bus.readq(0x1000)).toBe(2 ** 48 + 5);
  });

  it('unmapped regions stop decoding', () => {
    const bus = new MmioBus();
    const regs = new Regs();
    bus.map('r', 0x1000, 0x100, regs);
    expect(bus.readl(0x1000)).toBe(0);
    bus.unmap('r');
    expect(bus.readl(0x1000)).toBe(MMIO_BUS_ERROR_VALUE);
  });
});
