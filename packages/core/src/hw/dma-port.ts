import type { CpuCache } from '../memory/cpu-cache';

/** Why a device's DMA transaction did not complete. */
export type DmaPortFault =
  /** The IOMMU refused the transaction (translation or permission fault, blocked stream). */
  | 'iommu-fault'
  /** The bus window (dma-ranges) has no mapping for the address: it never reaches memory. */
  | 'unreachable'
  /** The address decodes to no memory. */
  | 'bus-error';

export type DmaPortResult = { readonly ok: true } | { readonly ok: false; readonly fault: DmaPortFault; readonly addr: number };

const OK: DmaPortResult = Object.freeze({ ok: true });

/**
 * A device's DMA port: the one way device models touch memory. Addresses are what the device puts on
 * its bus (an IOVA behind an IOMMU, a bus address otherwise). The board decides what lies behind it
 * (IOMMU translation, the bus window, snooping or not); the device model never knows.
 */
export interface DmaPort {
  /** Reads dst.length bytes at the device address. */
  read(addr: number, dst: Uint8Array): DmaPortResult;
  /** Writes src at the device address. */
  write(addr: number, src: Uint8Array): DmaPortResult;
}

/** One hop of address translation between the device and memory. */
export interface DmaTranslation {
  /**
   * Translates [addr, addr+len) for an access; returns the next address and how many bytes from
   * addr are contiguous there, or a fault.
   */
  translate(addr: number, len: number, access: 'read' | 'write'): { ok: true; addr: number; length: number } | { ok: false; fault: DmaPortFault; addr: number };
}

/**
 * A port built from translation hops (applied in order: e.g. IOMMU, then the bus window) in front of
 * memory seen through the CPU cache model (`coherent` decides whether the device snoops).
 */
export class TranslatingDmaPort implements DmaPort {
  constructor(
    private readonly cache: CpuCache,
    private readonly coherent: boolean,
    private readonly hops: readonly DmaTranslation[] = [],
  ) {}

  read(addr: number, dst: Uint8Array): DmaPortResult {
    return this.access(addr, dst.length, 'read', (phys, off, n) => this.cache.deviceRead(phys, dst.subarray(off, off + n), this.coherent));
  }

  write(addr: number, src: Uint8Array): DmaPortResult {
    return this.access(addr, src.length, 'write', (phys, off, n) => this.cache.deviceWrite(phys, src.subarray(off, off + n), this.coherent));
  }

  private access(addr: number, len: number, access: 'read' | 'write', move: (phys: number, off: number, n: number) => { ok: boolean }): DmaPortResult {
    let done = 0;
    while (done < len) {
      let a = addr + done;
      let n = len - done;
      for (const hop of this.hops) {
        const t = hop.translate(a, n, access);
        if (!t.ok) return { ok: false, fault: t.fault, addr: t.addr };
        a = t.addr;
        n = Math.min(n, t.length);
      }
      if (!move(a, done, n).ok) return { ok: false, fault: 'bus-error', addr: a };
      done += n;
    }
    return OK;
  }
}

/** The bus window of `dma-ranges`: bus address → CPU physical address; outside every window is unreachable. */
export class BusWindowTranslation implements DmaTranslation {
  constructor(private readonly ranges: readonly { readonly bus: number; readonly cpu: number; readonly size: number }[]) {}

  translate(addr: number, len: number): { ok: true; addr: number; length: number } | { ok: false; fault: DmaPortFault; addr: number } {
    for (const r of this.ranges) {
      if (addr >= r.bus && addr < r.bus + r.size) return { ok: true, addr: r.cpu + (addr - r.bus), length: Math.min(len, r.bus + r.size - addr) };
    }
    return { ok: false, fault: 'unreachable', addr };
  }
}
