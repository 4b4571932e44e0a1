import type { DmaPort, DmaPortResult } from '@dmasim/core';

/**
 * Little-endian descriptor access through a device's DMA port. A read returns null when the port
 * faulted (the hardware then reports the fault in its own status register); `lastFault` says where.
 */
export class PortIo {
  private readonly b8 = new Uint8Array(8);
  private readonly view = new DataView(this.b8.buffer);
  lastFault: (DmaPortResult & { ok: false }) | null = null;

  constructor(readonly port: DmaPort) {}

  read(addr: number, dst: Uint8Array): boolean {
    return this.note(this.port.read(addr, dst));
  }

  write(addr: number, src: Uint8Array): boolean {
    return this.note(this.port.write(addr, src));
  }

  u32(addr: number): number | null {
    const b = this.b8.subarray(0, 4);
    if (!this.read(addr, b)) return null;
    return this.view.getUint32(0, true);
  }

  u64(addr: number): number | null {
    if (!this.read(addr, this.b8)) return null;
    return this.view.getUint32(0, true) + this.view.getUint32(4, true) * 2 ** 32;
  }

  setU32(addr: number, value: number): boolean {
    this.view.setUint32(0, value >>> 0, true);
    return this.write(addr, this.b8.subarray(0, 4));
  }

  private note(r: DmaPortResult): boolean {
    if (r.ok) return true;
    this.lastFault = r;
    return false;
  }
}

/** Little-endian fields inside a byte buffer (descriptors the CPU builds before writing them out). */
export function putU32(buf: Uint8Array, off: number, value: number): void {
  new DataView(buf.buffer, buf.byteOffset, buf.byteLength).setUint32(off, value >>> 0, true);
}

export function getU32(buf: Uint8Array, off: number): number {
  return new DataView(buf.buffer, buf.byteOffset, buf.byteLength).getUint32(off, true);
}

/** A 64-bit address as two 32-bit words (low word first), without bitwise arithmetic on the address. */
export function putU64(buf: Uint8Array, off: number, value: number): void {
  const hi = Math.floor(value / 2 ** 32);
  putU32(buf, off, value - hi * 2 ** 32);
  putU32(buf, off + 4, hi);
}

export function getU64(buf: Uint8Array, off: number): number {
  return getU32(buf, off) + getU32(buf, off + 4) * 2 ** 32;
}

/** Low and high 32-bit register halves of an address. */
export function lo32(addr: number): number {
  return addr % 2 ** 32;
}
export function hi32(addr: number): number {
  return Math.floor(addr / 2 ** 32);
}
