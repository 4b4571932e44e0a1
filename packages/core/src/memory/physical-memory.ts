import { hex } from '../address';

/** One RAM region of the memory map. */
export interface RamRegion {
  readonly base: number;
  readonly size: number;
}

/** Result of a physical access: RAM answered, or nothing decodes the address (a bus error). */
export type MemAccess = { readonly ok: true } | { readonly ok: false; readonly fault: 'bus-error'; readonly addr: number };

export const MEM_OK: MemAccess = Object.freeze({ ok: true });

/** Bytes are stored in chunks of this size, allocated on first write. */
export const MEMORY_CHUNK_SIZE = 64 * 1024;
const ZERO_CHUNK = new Uint8Array(MEMORY_CHUNK_SIZE);
/**
 * Chunks are carved, in the order they are first written, out of slabs of this many bytes. A slab
 * this large is always its own fresh mapping of zero pages (the C allocator maps anything of 32 MiB
 * or more separately), so untouched chunks of a slab cost no RAM, and every chunk starts at the same
 * offset modulo the host page. That matters for speed: the host's memcpy copies a 4 KiB buffer about
 * twice as fast when source and destination share their alignment, and copies between chunks (the
 * swiotlb bounce, DMA) are the hot path. Chunks allocated one by one land wherever the heap puts them.
 * Slabs are shared by every PhysicalMemory of the process, so a board that touches little memory
 * does not cost a slab of its own (a slab is freed once no chunk carved from it is alive).
 */
const SLAB_BYTES = 32 * 1024 * 1024;
const CHUNKS_PER_SLAB = SLAB_BYTES / MEMORY_CHUNK_SIZE;
let slab: Uint8Array | null = null;
let slabUsed = 0;

/** A new zeroed chunk of backing store, carved from the current shared slab. */
function newChunk(): Chunk {
  if (slab === null || slabUsed === CHUNKS_PER_SLAB) {
    slab = new Uint8Array(SLAB_BYTES);
    slabUsed = 0;
  }
  const offset = slabUsed++ * MEMORY_CHUNK_SIZE;
  const buffer = slab.buffer;
  return {
    bytes: new Uint8Array(buffer, offset, MEMORY_CHUNK_SIZE),
    words: new Uint32Array(buffer, offset, MEMORY_CHUNK_SIZE / 4),
    slab,
    slabOffset: offset,
  };
}
/** Whether a Uint32Array view reads bytes little-endian (true on every host Node runs on today). */
const HOST_LITTLE_ENDIAN = new Uint8Array(Uint32Array.of(1).buffer)[0] === 1;

/**
 * One chunk of backing store, with a 32-bit view of the same bytes for aligned word accesses, and the
 * whole slab it was carved from: a copy between two chunks of one slab is then a `copyWithin` on the
 * slab, with no view created per copy.
 */
interface Chunk {
  readonly bytes: Uint8Array;
  readonly words: Uint32Array;
  readonly slab: Uint8Array;
  readonly slabOffset: number;
}

/**
 * Physical memory with real bytes, stored sparsely: a chunk of backing store exists only once it has
 * been written, so a 16 GiB board costs what its workloads touch. Reads of never-written RAM return
 * zeros. An access that is not wholly inside RAM is a bus error returned as a value, never thrown.
 */
export class PhysicalMemory {
  readonly regions: readonly RamRegion[];
  private readonly chunks = new Map<number, Chunk>();
  /** Merged, sorted spans used for the RAM check (adjacent regions form one span). */
  private readonly spans: RamRegion[];
  /**
   * The span that last passed the RAM check, as [spanBase, spanEnd) (an empty range before the
   * first): page-table walks and descriptor updates hit the same span again and again.
   */
  private spanBase = 0;
  private spanEnd = 0;
  /**
   * The chunk last used by the 32-bit accessors, so page-table walks skip the RAM check and the
   * map look-up: [cachedLo, cachedHi) is where that chunk and the RAM span holding it overlap (empty
   * when nothing is cached), `cachedBase` the chunk's first address.
   */
  private cachedLo = 0;
  private cachedHi = 0;
  private cachedBase = 0;
  private cachedWords: Uint32Array = new Uint32Array(0);
  /**
   * The two chunks copies touched last (index -1: none), looked up before the map: a bounce or a DMA
   * copies between the same two chunks again and again. Chunks are never dropped, so these stay valid.
   */
  private copyIdxA = -1;
  private copyChunkA: Chunk | undefined = undefined;
  private copyIdxB = -1;
  private copyChunkB: Chunk | undefined = undefined;

  constructor(regions: readonly RamRegion[]) {
    const sorted = [...regions].sort((a, b) => a.base - b.base);
    for (const r of sorted) {
      if (!Number.isSafeInteger(r.base) || !Number.isSafeInteger(r.size) || r.base < 0 || r.size <= 0) {
        throw new RangeError(`PhysicalMemory: bad region base=${r.base} size=${r.size}`);
      }
    }
    for (let i = 1; i < sorted.length; i++) {
      const prev = sorted[i - 1]!;
      const cur = sorted[i]!;
      if (cur.base < prev.base + prev.size) {
        throw new RangeError(`PhysicalMemory: regions ${hex(prev.base)}+${hex(prev.size)} and ${hex(cur.base)}+${hex(cur.size)} overlap`);
      }
    }
    this.regions = sorted;
    const spans: RamRegion[] = [];
    for (const r of sorted) {
      const last = spans[spans.length - 1];
      if (last && last.base + last.size === r.base) spans[spans.length - 1] = { base: last.base, size: last.size + r.size };
      else spans.push({ base: r.base, size: r.size });
    }
    this.spans = spans;
  }

  /** Total RAM in bytes. */
  get totalBytes(): number {
    return this.regions.reduce((n, r) => n + r.size, 0);
  }

  /** Bytes of backing store actually allocated (what has been written). */
  get touchedBytes(): number {
    return this.chunks.size * MEMORY_CHUNK_SIZE;
  }

  /** The end (exclusive) of the highest RAM region. */
  get end(): number {
    const last = this.regions[this.regions.length - 1];
    return last ? last.base + last.size : 0;
  }

  /** Whether [addr, addr+len) is wholly RAM. */
  isRam(addr: number, len = 1): boolean {
    if (addr >= this.spanBase && addr + len <= this.spanEnd) return true;
    return this.findSpan(addr, len);
  }

  /** The RAM check past the last span: searches every span and remembers the one that matches. */
  private findSpan(addr: number, len: number): boolean {
    for (const span of this.spans) {
      if (addr >= span.base && addr + len <= span.base + span.size) {
        this.spanBase = span.base;
        this.spanEnd = span.base + span.size;
        return true;
      }
    }
    return false;
  }

  private fault(addr: number): MemAccess {
    return { ok: false, fault: 'bus-error', addr };
  }

  /** Copies [addr, addr+dst.length) into dst. */
  read(addr: number, dst: Uint8Array): MemAccess {
    if (!this.isRam(addr, dst.length)) return this.fault(addr);
    let done = 0;
    while (done < dst.length) {
      const a = addr + done;
      const idx = Math.floor(a / MEMORY_CHUNK_SIZE);
      const off = a - idx * MEMORY_CHUNK_SIZE;
      const n = Math.min(MEMORY_CHUNK_SIZE - off, dst.length - done);
      const chunk = this.chunks.get(idx);
      if (chunk === undefined) dst.fill(0, done, done + n);
      else dst.set(chunk.bytes.subarray(off, off + n), done);
      done += n;
    }
    return MEM_OK;
  }

  /** Reads `len` bytes into a new array (convenience for tests and checks). */
  readBytes(addr: number, len: number): Uint8Array | undefined {
    const out = new Uint8Array(len);
    return this.read(addr, out).ok ? out : undefined;
  }

  /** Writes src at addr. */
  write(addr: number, src: Uint8Array): MemAccess {
    if (!this.isRam(addr, src.length)) return this.fault(addr);
    let done = 0;
    while (done < src.length) {
      const a = addr + done;
      const idx = Math.floor(a / MEMORY_CHUNK_SIZE);
      const off = a - idx * MEMORY_CHUNK_SIZE;
      const n = Math.min(MEMORY_CHUNK_SIZE - off, src.length - done);
      this.chunkFor(idx).bytes.set(n === src.length ? src : src.subarray(done, done + n), off);
      done += n;
    }
    return MEM_OK;
  }

  /** memmove within physical memory; overlapping ranges are handled. */
  copy(dst: number, src: number, len: number): MemAccess {
    if (!this.isRam(src, len)) return this.fault(src);
    if (!this.isRam(dst, len)) return this.fault(dst);
    if (len === 0 || dst === src) return MEM_OK;
    const sIdx = Math.floor(src / MEMORY_CHUNK_SIZE);
    const dIdx = Math.floor(dst / MEMORY_CHUNK_SIZE);
    const sOff = src - sIdx * MEMORY_CHUNK_SIZE;
    const dOff = dst - dIdx * MEMORY_CHUNK_SIZE;
    if (sOff + len <= MEMORY_CHUNK_SIZE && dOff + len <= MEMORY_CHUNK_SIZE) {
      this.copyInChunks(sIdx, sOff, dIdx, dOff, len);
      return MEM_OK;
    }
    return this.copySpanning(dst, src, len);
  }

  /** A copy that stays inside one chunk on each side (the usual bounce or DMA copy): no loop, no view. */
  private copyInChunks(sIdx: number, sOff: number, dIdx: number, dOff: number, len: number): void {
    const sChunk = this.copyChunk(sIdx, false);
    if (sChunk === undefined) {
      // never-written source reads as zeros; a never-written destination already holds them
      this.copyChunk(dIdx, false)?.bytes.fill(0, dOff, dOff + len);
      return;
    }
    const dChunk = this.copyChunk(dIdx, true)!;
    if (sChunk.slab === dChunk.slab) {
      const from = sChunk.slabOffset + sOff;
      sChunk.slab.copyWithin(dChunk.slabOffset + dOff, from, from + len); // memmove: overlaps are fine
    } else {
      dChunk.bytes.set(len === MEMORY_CHUNK_SIZE ? sChunk.bytes : sChunk.bytes.subarray(sOff, sOff + len), dOff);
    }
  }

  /** The chunk `idx` for a copy, through the two-entry cache; `create` allocates a missing one. */
  private copyChunk(idx: number, create: boolean): Chunk | undefined {
    if (idx === this.copyIdxA) return this.copyChunkA;
    if (idx === this.copyIdxB) return this.copyChunkB;
    const chunk = create ? this.chunkFor(idx) : this.chunks.get(idx);
    if (chunk === undefined) return undefined; // not cached: it may be written later
    this.copyIdxB = this.copyIdxA;
    this.copyChunkB = this.copyChunkA;
    this.copyIdxA = idx;
    this.copyChunkA = chunk;
    return chunk;
  }

  /** A copy crossing a chunk boundary on either side. */
  private copySpanning(dst: number, src: number, len: number): MemAccess {
    const overlapForward = dst > src && dst < src + len;
    if (overlapForward) {
      // Copy through a temporary so a forward overlap does not read bytes it already wrote.
      const tmp = new Uint8Array(len);
      this.read(src, tmp);
      return this.write(dst, tmp);
    }
    let done = 0;
    while (done < len) {
      const s = src + done;
      const d = dst + done;
      const sIdx = Math.floor(s / MEMORY_CHUNK_SIZE);
      const dIdx = Math.floor(d / MEMORY_CHUNK_SIZE);
      const sOff = s - sIdx * MEMORY_CHUNK_SIZE;
      const dOff = d - dIdx * MEMORY_CHUNK_SIZE;
      const n = Math.min(MEMORY_CHUNK_SIZE - sOff, MEMORY_CHUNK_SIZE - dOff, len - done);
      const sChunk = this.chunks.get(sIdx);
      if (sChunk === undefined) {
        const dChunk = this.chunks.get(dIdx);
        if (dChunk !== undefined) dChunk.bytes.fill(0, dOff, dOff + n);
      } else {
        // a whole aligned chunk needs no subarray view (the common case for page-sized buffers)
        this.chunkFor(dIdx).bytes.set(n === MEMORY_CHUNK_SIZE ? sChunk.bytes : sChunk.bytes.subarray(sOff, sOff + n), dOff);
      }
      done += n;
    }
    return MEM_OK;
  }

  /** memset. */
  fill(addr: number, len: number, value: number): MemAccess {
    if (!this.isRam(addr, len)) return this.fault(addr);
    let done = 0;
    while (done < len) {
      const a = addr + done;
      const idx = Math.floor(a / MEMORY_CHUNK_SIZE);
      const off = a - idx * MEMORY_CHUNK_SIZE;
      const n = Math.min(MEMORY_CHUNK_SIZE - off, len - done);
      if (value === 0 && !this.chunks.has(idx)) {
        // never-written memory already reads as zero
      } else {
        this.chunkFor(idx).bytes.fill(value, off, off + n);
      }
      done += n;
    }
    return MEM_OK;
  }

  /**
   * Compares memory at addr with `expected`: returns the offset of the first differing byte, -1 when
   * equal, or a bus-error result when the range is not RAM.
   */
  compare(addr: number, expected: Uint8Array): number | MemAccess {
    if (!this.isRam(addr, expected.length)) return this.fault(addr);
    let done = 0;
    while (done < expected.length) {
      const a = addr + done;
      const idx = Math.floor(a / MEMORY_CHUNK_SIZE);
      const off = a - idx * MEMORY_CHUNK_SIZE;
      const n = Math.min(MEMORY_CHUNK_SIZE - off, expected.length - done);
      const chunk = this.chunks.get(idx)?.bytes ?? ZERO_CHUNK;
      for (let i = 0; i < n; i++) {
        if (chunk[off + i] !== expected[done + i]) return done + i;
      }
      done += n;
    }
    return -1;
  }

  /** Little-endian 32-bit read; -1 on a bus error (a value no 32-bit read can return). */
  readU32(addr: number): number {
    if (addr >= this.cachedLo && addr + 4 <= this.cachedHi && HOST_LITTLE_ENDIAN) {
      const word = (addr - this.cachedBase) / 4;
      if (word === Math.floor(word)) return this.cachedWords[word]!;
    }
    return this.readU32Slow(addr);
  }

  /** readU32 past the cached chunk: another chunk, an unaligned word, one across two chunks, not RAM. */
  private readU32Slow(addr: number): number {
    if (!this.isRam(addr, 4)) return -1;
    const idx = Math.floor(addr / MEMORY_CHUNK_SIZE);
    const off = addr - idx * MEMORY_CHUNK_SIZE;
    if (off <= MEMORY_CHUNK_SIZE - 4) {
      const chunk = this.chunks.get(idx);
      if (chunk === undefined) return 0;
      this.cacheChunk(idx, chunk);
      const b = chunk.bytes;
      return b[off]! + b[off + 1]! * 0x100 + b[off + 2]! * 0x10000 + b[off + 3]! * 0x1000000;
    }
    // straddles two chunks: either may be the written one
    const b = new Uint8Array(4);
    this.read(addr, b);
    return b[0]! + b[1]! * 0x100 + b[2]! * 0x10000 + b[3]! * 0x1000000;
  }

  /** Little-endian 32-bit write; false on a bus error. */
  writeU32(addr: number, value: number): boolean {
    if (addr >= this.cachedLo && addr + 4 <= this.cachedHi && HOST_LITTLE_ENDIAN) {
      const word = (addr - this.cachedBase) / 4;
      if (word === Math.floor(word)) {
        this.cachedWords[word] = value; // stored modulo 2^32, as `value >>> 0` would
        return true;
      }
    }
    return this.writeU32Slow(addr, value);
  }

  /** writeU32 past the cached chunk (see readU32Slow). */
  private writeU32Slow(addr: number, value: number): boolean {
    if (!this.isRam(addr, 4)) return false;
    const idx = Math.floor(addr / MEMORY_CHUNK_SIZE);
    const off = addr - idx * MEMORY_CHUNK_SIZE;
    let v = value >>> 0; // a 32-bit register value, not an address
    if (off <= MEMORY_CHUNK_SIZE - 4) {
      const chunk = this.chunkFor(idx);
      this.cacheChunk(idx, chunk);
      const b = chunk.bytes;
      for (let i = 0; i < 4; i++) {
        b[off + i] = v & 0xff;
        v >>>= 8;
      }
      return true;
    }
    const b = new Uint8Array(4);
    for (let i = 0; i < 4; i++) {
      b[i] = v & 0xff;
      v >>>= 8;
    }
    return this.write(addr, b).ok;
  }

  /** Makes `chunk` the one the 32-bit accessors try first; the last RAM check found its span. */
  private cacheChunk(idx: number, chunk: Chunk): void {
    const base = idx * MEMORY_CHUNK_SIZE;
    this.cachedBase = base;
    this.cachedLo = Math.max(base, this.spanBase);
    this.cachedHi = Math.min(base + MEMORY_CHUNK_SIZE, this.spanEnd);
    this.cachedWords = chunk.words;
  }

  /**
   * Little-endian 64-bit read of a value known to fit in 53 bits (an address or a count); returns -1
   * on a bus error. Descriptors with high attribute bits must be read as two 32-bit words instead.
   */
  readU64(addr: number): number {
    const lo = this.readU32(addr);
    const hi = this.readU32(addr + 4);
    if (lo < 0 || hi < 0) return -1;
    return hi * 0x100000000 + lo;
  }

  /** Little-endian 64-bit write of a safe integer; false on a bus error. */
  writeU64(addr: number, value: number): boolean {
    const hi = Math.floor(value / 0x100000000);
    const lo = value - hi * 0x100000000;
    return this.writeU32(addr, lo) && this.writeU32(addr + 4, hi);
  }

  private chunkFor(idx: number): Chunk {
    let chunk = this.chunks.get(idx);
    if (chunk === undefined) {
      chunk = newChunk();
      this.chunks.set(idx, chunk);
    }
    return chunk;
  }
}
