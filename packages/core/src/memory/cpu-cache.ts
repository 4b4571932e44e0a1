import type { MemAccess, PhysicalMemory } from './physical-memory';
import { MEM_OK } from './physical-memory';

/** The data cache line size (arm64 and arm v7 both use 64 bytes on the modelled parts). */
export const CACHE_LINE_SIZE = 64;
const PAGE = 4096;

/** How the CPU maps the memory it accesses. */
export type CpuMapping = 'cacheable' | 'uncached';

interface Line {
  readonly data: Uint8Array;
  dirty: boolean;
}

export interface CpuCacheStats {
  readonly lines: number;
  readonly dirtyLines: number;
  readonly hits: number;
  readonly misses: number;
  readonly writebacks: number;
  readonly evictions: number;
}

/**
 * A write-back, write-allocate data cache of 64-byte lines between the CPU and physical memory.
 *
 * This is what makes non-coherent DMA observable: a CPU write to a cacheable mapping stays in the
 * cache until it is cleaned, so a non-coherent device reading memory sees the old bytes; a device
 * write goes to memory under any lines the CPU still holds, so the CPU keeps reading stale bytes until
 * it invalidates. A coherent device snoops: its reads see dirty lines and its writes update them.
 *
 * Capacity is bounded; the least recently filled line is evicted (written back if dirty), which is
 * deterministic like everything else in the model.
 */
export class CpuCache {
  /** line address → line; Map order is fill order, used for eviction. */
  private readonly lines = new Map<number, Line>();
  /** page index → number of cached lines in it, so range checks skip empty pages quickly. */
  private readonly perPage = new Map<number, number>();
  private hits = 0;
  private misses = 0;
  private writebacks = 0;
  private evictions = 0;

  constructor(
    readonly memory: PhysicalMemory,
    /** Maximum number of lines held (default 32768 = 2 MiB). */
    readonly capacityLines = 32768,
  ) {}

  // ---- CPU side -----------------------------------------------------------------------------

  /** A CPU load of dst.length bytes at addr through the given mapping. */
  cpuRead(addr: number, dst: Uint8Array, mapping: CpuMapping = 'cacheable'): MemAccess {
    if (!this.memory.isRam(addr, dst.length)) return { ok: false, fault: 'bus-error', addr };
    if (mapping === 'uncached') return this.memory.read(addr, dst);
    let done = 0;
    while (done < dst.length) {
      const a = addr + done;
      const lineAddr = a - (a % CACHE_LINE_SIZE);
      const off = a - lineAddr;
      const n = Math.min(CACHE_LINE_SIZE - off, dst.length - done);
      const line = this.fill(lineAddr);
      dst.set(line.data.subarray(off, off + n), done);
      done += n;
    }
    return MEM_OK;
  }

  /** A CPU store of src at addr through the given mapping. */
  cpuWrite(addr: number, src: Uint8Array, mapping: CpuMapping = 'cacheable'): MemAccess {
    if (!this.memory.isRam(addr, src.length)) return { ok: false, fault: 'bus-error', addr };
    if (mapping === 'uncached') {
      // An uncached store bypasses the cache; a line the CPU also holds keeps its old view.
      return this.memory.write(addr, src);
    }
    let done = 0;
    while (done < src.length) {
      const a = addr + done;
      const lineAddr = a - (a % CACHE_LINE_SIZE);
      const off = a - lineAddr;
      const n = Math.min(CACHE_LINE_SIZE - off, src.length - done);
      const line = this.fill(lineAddr);
      line.data.set(src.subarray(done, done + n), off);
      line.dirty = true;
      done += n;
    }
    return MEM_OK;
  }

  /** A CPU memset through the given mapping. */
  cpuFill(addr: number, len: number, value: number, mapping: CpuMapping = 'cacheable'): MemAccess {
    if (mapping === 'uncached') return this.memory.fill(addr, len, value);
    const chunk = new Uint8Array(Math.min(len, 64 * 1024)).fill(value);
    let done = 0;
    while (done < len) {
      const n = Math.min(chunk.length, len - done);
      const r = this.cpuWrite(addr + done, n === chunk.length ? chunk : chunk.subarray(0, n));
      if (!r.ok) return r;
      done += n;
    }
    return MEM_OK;
  }

  /**
   * A CPU load that does not allocate lines on a miss (a streaming memcpy source): bytes of lines the
   * CPU holds, clean or dirty, come from those lines (so a stale clean line is seen stale, as the CPU
   * would); every other byte comes from memory. The cache's contents are left unchanged.
   */
  cpuReadNoAllocate(addr: number, dst: Uint8Array): MemAccess {
    const r = this.memory.read(addr, dst);
    if (!r.ok || this.lines.size === 0) return r;
    this.forEachCachedLine(addr, dst.length, (lineAddr, line) => copyOverlap(line.data, lineAddr, dst, addr));
    return r;
  }

  /**
   * A CPU store that does not allocate lines on a miss (a streaming memcpy destination): held lines
   * take the new bytes (keeping their dirty state) and memory is written too, so the bytes are where
   * both the CPU and any device will look. Equivalent to a cacheable store followed by a clean.
   */
  cpuWriteNoAllocate(addr: number, src: Uint8Array): MemAccess {
    return this.deviceWrite(addr, src, true);
  }

  /** Whether the cache holds any line (clean or dirty) covering [addr, addr+len). */
  holdsLines(addr: number, len: number): boolean {
    if (this.lines.size === 0 || len <= 0) return false;
    let held = false;
    this.forEachCachedLine(addr, len, () => {
      held = true;
    });
    return held;
  }

  // ---- Device side --------------------------------------------------------------------------

  /**
   * A device reads memory. Non-coherent: straight from memory, whatever the cache holds. Coherent:
   * the interconnect snoops, so dirty lines are seen.
   */
  deviceRead(addr: number, dst: Uint8Array, coherent: boolean): MemAccess {
    const r = this.memory.read(addr, dst);
    if (!r.ok || !coherent || this.lines.size === 0) return r;
    this.forEachCachedLine(addr, dst.length, (lineAddr, line) => {
      if (!line.dirty) return;
      copyOverlap(line.data, lineAddr, dst, addr);
    });
    return r;
  }

  /**
   * A device writes memory. Non-coherent: to memory only; lines the CPU holds go stale. Coherent: the
   * snoop updates cached copies too.
   */
  deviceWrite(addr: number, src: Uint8Array, coherent: boolean): MemAccess {
    const r = this.memory.write(addr, src);
    if (!r.ok || !coherent || this.lines.size === 0) return r;
    this.forEachCachedLine(addr, src.length, (lineAddr, line) => {
      copyOverlap(src, addr, line.data, lineAddr);
    });
    return r;
  }

  // ---- Maintenance by physical range (what dma-direct and friends call) -----------------------

  /** Clean (write back) dirty lines covering [addr, addr+len); the lines stay valid. */
  clean(addr: number, len: number): void {
    this.forEachCachedLine(addr, len, (lineAddr, line) => {
      if (line.dirty) this.writeBack(lineAddr, line);
    });
  }

  /** Invalidate lines covering [addr, addr+len): dirty data in them is discarded. */
  invalidate(addr: number, len: number): void {
    const victims: number[] = [];
    this.forEachCachedLine(addr, len, (lineAddr) => victims.push(lineAddr));
    for (const a of victims) this.drop(a);
  }

  /** Clean then invalidate lines covering [addr, addr+len). */
  cleanInvalidate(addr: number, len: number): void {
    const victims: number[] = [];
    this.forEachCachedLine(addr, len, (lineAddr, line) => {
      if (line.dirty) this.writeBack(lineAddr, line);
      victims.push(lineAddr);
    });
    for (const a of victims) this.drop(a);
  }

  /** Writes back and drops every line (e.g. before a machine is inspected). */
  flushAll(): void {
    for (const [a, line] of this.lines) if (line.dirty) this.writeBack(a, line);
    this.lines.clear();
    this.perPage.clear();
  }

  /** Whether any line covering [addr, addr+len) is dirty. */
  hasDirty(addr: number, len: number): boolean {
    let dirty = false;
    this.forEachCachedLine(addr, len, (_a, line) => {
      if (line.dirty) dirty = true;
    });
    return dirty;
  }

  stats(): CpuCacheStats {
    let dirtyLines = 0;
    for (const l of this.lines.values()) if (l.dirty) dirtyLines++;
    return { lines: this.lines.size, dirtyLines, hits: this.hits, misses: this.misses, writebacks: this.writebacks, evictions: this.evictions };
  }

  // ---- internals ----------------------------------------------------------------------------

  private fill(lineAddr: number): Line {
    const hit = this.lines.get(lineAddr);
    if (hit !== undefined) {
      this.hits++;
      return hit;
    }
    this.misses++;
    if (this.lines.size >= this.capacityLines) this.evictOldest();
    const line: Line = { data: new Uint8Array(CACHE_LINE_SIZE), dirty: false };
    this.memory.read(lineAddr, line.data);
    this.lines.set(lineAddr, line);
    const page = Math.floor(lineAddr / PAGE);
    this.perPage.set(page, (this.perPage.get(page) ?? 0) + 1);
    return line;
  }

  private evictOldest(): void {
    const first = this.lines.entries().next();
    if (first.done === true) return;
    const [a, line] = first.value;
    if (line.dirty) this.writeBack(a, line);
    this.evictions++;
    this.drop(a);
  }

  private writeBack(lineAddr: number, line: Line): void {
    this.memory.write(lineAddr, line.data);
    line.dirty = false;
    this.writebacks++;
  }

  private drop(lineAddr: number): void {
    if (!this.lines.delete(lineAddr)) return;
    const page = Math.floor(lineAddr / PAGE);
    const n = (this.perPage.get(page) ?? 1) - 1;
    if (n <= 0) this.perPage.delete(page);
    else this.perPage.set(page, n);
  }

  private forEachCachedLine(addr: number, len: number, fn: (lineAddr: number, line: Line) => void): void {
    if (this.lines.size === 0 || len <= 0) return;
    const end = addr + len;
    const firstPage = Math.floor(addr / PAGE);
    const lastPage = Math.floor((end - 1) / PAGE);
    for (let page = firstPage; page <= lastPage; page++) {
      if (!this.perPage.has(page)) continue;
      const from = Math.max(page * PAGE, addr - (addr % CACHE_LINE_SIZE));
      const to = Math.min((page + 1) * PAGE, end);
      for (let a = from; a < to; a += CACHE_LINE_SIZE) {
        const line = this.lines.get(a);
        if (line !== undefined) fn(a, line);
      }
    }
  }
}

/** Copies the overlap of src (at srcAddr) and dst (at dstAddr) from src into dst. */
function copyOverlap(src: Uint8Array, srcAddr: number, dst: Uint8Array, dstAddr: number): void {
  const start = Math.max(srcAddr, dstAddr);
  const end = Math.min(srcAddr + src.length, dstAddr + dst.length);
  if (start >= end) return;
  dst.set(src.subarray(start - srcAddr, end - srcAddr), start - dstAddr);
}
