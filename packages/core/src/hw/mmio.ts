import { hex, rangesOverlap } from '../address';
import type { KernelLog } from '../log/kernel-log';

/** A device's register file. Offsets are relative to the region base. */
export interface MmioHandler {
  read32(offset: number): number;
  write32(offset: number, value: number): void;
  /** 64-bit accesses; when absent they are split into two 32-bit accesses, low word first. */
  read64?(offset: number): number;
  write64?(offset: number, value: number): void;
}

export interface MmioRegion {
  readonly name: string;
  readonly base: number;
  readonly size: number;
  readonly handler: MmioHandler;
}

/** Value an access to nothing returns (all ones, as an aborted read on most interconnects). */
export const MMIO_BUS_ERROR_VALUE = 0xffffffff;

/**
 * The system address map of MMIO regions. CPU-side register accesses (readl/writel and their 64-bit
 * forms) are routed to the region that decodes the address; an access nothing decodes is logged as a
 * bus error, counted, and reads all ones.
 */
export class MmioBus {
  private readonly regions: MmioRegion[] = [];
  private last: MmioRegion | undefined;
  busErrors = 0;

  constructor(private readonly log?: KernelLog) {}

  /** Maps a region; throws RangeError (host-level misuse) if it overlaps another. */
  map(name: string, base: number, size: number, handler: MmioHandler): MmioRegion {
    for (const r of this.regions) {
      if (rangesOverlap(base, size, r.base, r.size)) {
        throw new RangeError(`MMIO region ${name} at ${hex(base)}+${hex(size)} overlaps ${r.name} at ${hex(r.base)}+${hex(r.size)}`);
      }
    }
    const region: MmioRegion = { name, base, size, handler };
    this.regions.push(region);
    this.regions.sort((a, b) => a.base - b.base);
    return region;
  }

  unmap(name: string): void {
    const i = this.regions.findIndex((r) => r.name === name);
    if (i >= 0) this.regions.splice(i, 1);
    this.last = undefined;
  }

  get mapped(): readonly MmioRegion[] {
    return this.regions;
  }

  find(addr: number): MmioRegion | undefined {
    const l = this.last;
    if (l !== undefined && addr >= l.base && addr < l.base + l.size) return l;
    for (const r of this.regions) {
      if (addr >= r.base && addr < r.base + r.size) {
        this.last = r;
        return r;
      }
    }
    return undefined;
  }

  readl(addr: number): number {
    const r = this.find(addr);
    if (r === undefined) return this.busError('read', addr);
    return r.handler.read32(addr - r.base);
  }

  writel(addr: number, value: number): void {
    const r = this.find(addr);
    if (r === undefined) {
      this.busError('write', addr);
      return;
    }
    r.handler.write32(addr - r.base, value);
  }

  readq(addr: number): number {
    const r = this.find(addr);
    if (r === undefined) return this.busError('read', addr);
    const off = addr - r.base;
    if (r.handler.read64) return r.handler.read64(off);
    return r.handler.read32(off) + r.handler.read32(off + 4) * 0x100000000;
  }

  writeq(addr: number, value: number): void {
    const r = this.find(addr);
    if (r === undefined) {
      this.busError('write', addr);
      return;
    }
    const off = addr - r.base;
    if (r.handler.write64) {
      r.handler.write64(off, value);
      return;
    }
    const hi = Math.floor(value / 0x100000000);
    r.handler.write32(off, value - hi * 0x100000000);
    r.handler.write32(off + 4, hi);
  }

  private busError(kind: 'read' | 'write', addr: number): number {
    this.busErrors++;
    this.log?.err(`Unhandled MMIO ${kind} at ${hex(addr)}: bus error (no device decodes this address)`);
    return MMIO_BUS_ERROR_VALUE;
  }
}
