import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { GiB, KiB, MiB } from '../address';
import { MEMORY_CHUNK_SIZE, PhysicalMemory } from './physical-memory';

const CHUNK = MEMORY_CHUNK_SIZE;

/** Index of the first differing byte, -1 when equal (vitest's deep equality is slow on big arrays). */
function firstDiff(a: Uint8Array | undefined, b: Uint8Array): number {
  if (a === undefined) return -2;
  if (a.length !== b.length) return Math.min(a.length, b.length);
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return i;
  return -1;
}

/** A byte-per-entry reference model: absent means never written (reads as zero). */
class ReferenceMemory {
  readonly bytes = new Map<number, number>();
  write(addr: number, src: Uint8Array): void {
    src.forEach((b, i) => this.bytes.set(addr + i, b));
  }
  read(addr: number, len: number): Uint8Array {
    const out = new Uint8Array(len);
    for (let i = 0; i < len; i++) out[i] = this.bytes.get(addr + i) ?? 0;
    return out;
  }
}

/** Two RAM regions with a hole between them; both straddle several storage chunks. */
const LOW = { base: 0, size: 4 * CHUNK };
const HIGH = { base: 8 * CHUNK, size: 3 * CHUNK };

/** An access [addr, addr+len) inside one region, biased towards chunk boundaries. */
function accessIn(region: { base: number; size: number }, maxLen: number) {
  const nearBoundary = fc
    .tuple(fc.integer({ min: 1, max: region.size / CHUNK - 1 }), fc.integer({ min: -40, max: 40 }))
    .map(([k, d]) => region.base + k * CHUNK + d);
  const anywhere = fc.integer({ min: region.base, max: region.base + region.size - 1 });
  return fc
    .tuple(fc.oneof(nearBoundary, anywhere), fc.integer({ min: 1, max: maxLen }))
    .map(([addr, len]) => ({ addr, len: Math.min(len, region.base + region.size - addr) }));
}

// mostly short accesses; now and then one longer than a chunk (the reference map is slow on those)
const anyAccess = fc.oneof(
  { arbitrary: accessIn(LOW, 300), weight: 4 },
  { arbitrary: accessIn(HIGH, 300), weight: 4 },
  { arbitrary: accessIn(LOW, CHUNK + 300), weight: 1 },
);

describe('PhysicalMemory: bytes read back', () => {
  it('random writes read back like a byte map, across chunk boundaries (property)', () => {
    fc.assert(
      fc.property(
        fc.array(fc.tuple(anyAccess, fc.integer({ min: 0, max: 255 })), { minLength: 1, maxLength: 16 }),
        fc.array(anyAccess, { minLength: 1, maxLength: 10 }),
        (writes, reads) => {
          const mem = new PhysicalMemory([HIGH, LOW]);
          const ref = new ReferenceMemory();
          for (const [{ addr, len }, seed] of writes) {
            const data = Uint8Array.from({ length: len }, (_, i) => (seed + i * 7) % 256);
            expect(mem.write(addr, data).ok).toBe(true);
            ref.write(addr, data);
          }
          for (const { addr, len } of [...reads, ...writes.map(([a]) => a)]) {
            const got = new Uint8Array(len);
            expect(mem.read(addr, got).ok).toBe(true);
            expect(firstDiff(got, ref.read(addr, len))).toBe(-1);
            expect(mem.compare(addr, ref.read(addr, len))).toBe(-1);
          }
        },
      ),
      { numRuns: 100 },
    );
  });

  it('never-written RAM reads as zeros and fill(0) on it allocates nothing', () => {
    const mem = new PhysicalMemory([{ base: 0, size: 1 * MiB }]);
    expect(mem.readBytes(12345, 64)).toEqual(new Uint8Array(64));
    expect(mem.fill(0, 1 * MiB, 0).ok).toBe(true);
    expect(mem.touchedBytes).toBe(0);
  });

  it('fill and compare report the first differing byte', () => {
    const mem = new PhysicalMemory([LOW]);
    mem.fill(CHUNK - 10, 20, 0xab);
    const expected = new Uint8Array(24).fill(0xab);
    expect(mem.compare(CHUNK - 12, expected)).toBe(0);
    expect(mem.compare(CHUNK - 10, expected.subarray(0, 20))).toBe(-1);
    expect(mem.compare(CHUNK - 10, expected)).toBe(20);
  });

  it('32- and 64-bit accessors are little-endian, also across a chunk boundary', () => {
    const mem = new PhysicalMemory([LOW]);
    for (const addr of [0x100, CHUNK - 2, CHUNK - 6]) {
      expect(mem.writeU32(addr, 0xdeadbeef)).toBe(true);
      expect(mem.readU32(addr)).toBe(0xdeadbeef);
      expect([...mem.readBytes(addr, 4)!]).toEqual([0xef, 0xbe, 0xad, 0xde]);
      expect(mem.writeU64(addr, 2 ** 40 + 0x1234)).toBe(true);
      expect(mem.readU64(addr)).toBe(2 ** 40 + 0x1234);
    }
  });

  it('a 32-bit read straddling an unwritten chunk and a written one sees the written bytes', () => {
    const mem = new PhysicalMemory([LOW]);
    // the chunk before the boundary was never written; the one after holds 0xff at its start
    mem.write(2 * CHUNK, Uint8Array.of(0xff, 0xff));
    expect(mem.readU32(2 * CHUNK - 2)).toBe(0xffff0000);
    expect(mem.readU64(2 * CHUNK - 4)).toBe(0xffff * 2 ** 32);
  });
});

describe('PhysicalMemory: sparse cost', () => {
  it('a 16 GiB memory touched at 3 places allocates at most 3 chunks', () => {
    const mem = new PhysicalMemory([{ base: 0, size: 16 * GiB }]);
    expect(mem.totalBytes).toBe(16 * GiB);
    const data = new Uint8Array(256).fill(0x5a);
    for (const addr of [0x1000, 7 * GiB + 0x40, 16 * GiB - 256]) expect(mem.write(addr, data).ok).toBe(true);
    // reads of other places, and comparisons, must not allocate
    expect(mem.readBytes(9 * GiB, 4096)).toEqual(new Uint8Array(4096));
    expect(mem.compare(12 * GiB, new Uint8Array(64))).toBe(-1);
    expect(mem.readU64(15 * GiB)).toBe(0);
    expect(mem.touchedBytes).toBeLessThanOrEqual(3 * CHUNK);
    expect(mem.readBytes(16 * GiB - 256, 256)).toEqual(data);
  });

  it('copying from never-written memory does not allocate the destination', () => {
    const mem = new PhysicalMemory([{ base: 0, size: 16 * GiB }]);
    expect(mem.copy(8 * GiB, 2 * GiB, 1 * MiB).ok).toBe(true);
    expect(mem.touchedBytes).toBe(0);
  });
});

describe('PhysicalMemory: bus errors', () => {
  const mem = new PhysicalMemory([
    { base: 0, size: 1 * MiB },
    { base: 2 * MiB, size: 1 * MiB },
  ]);

  it('outside RAM: a bus-error result naming the address, nothing thrown', () => {
    const buf = new Uint8Array(8);
    expect(mem.read(3 * MiB, buf)).toEqual({ ok: false, fault: 'bus-error', addr: 3 * MiB });
    expect(mem.write(5 * GiB, buf)).toEqual({ ok: false, fault: 'bus-error', addr: 5 * GiB });
    expect(mem.read(3 * MiB - 4, buf).ok).toBe(false);
    expect(mem.fill(3 * MiB, 1, 0).ok).toBe(false);
    expect(mem.readU32(3 * MiB)).toBe(-1);
    expect(mem.writeU32(3 * MiB, 1)).toBe(false);
    expect(mem.readU64(3 * MiB - 4)).toBe(-1);
    expect(mem.compare(3 * MiB, buf)).toEqual({ ok: false, fault: 'bus-error', addr: 3 * MiB });
  });

  it('an access crossing the hole between two regions is a bus error and changes nothing', () => {
    const buf = new Uint8Array(16).fill(1);
    expect(mem.write(1 * MiB - 8, buf)).toEqual({ ok: false, fault: 'bus-error', addr: 1 * MiB - 8 });
    expect(mem.readBytes(1 * MiB - 8, 8)).toEqual(new Uint8Array(8));
    expect(mem.read(2 * MiB - 8, buf).ok).toBe(false);
    expect(mem.copy(2 * MiB, 1 * MiB - 8, 16).ok).toBe(false);
    expect(mem.copy(1 * MiB - 8, 2 * MiB, 16).ok).toBe(false);
    expect(mem.isRam(1 * MiB - 1, 1)).toBe(true);
    expect(mem.isRam(1 * MiB - 1, 2)).toBe(false);
  });

  it('adjacent regions behave as one span', () => {
    const m = new PhysicalMemory([
      { base: 0, size: 1 * MiB },
      { base: 1 * MiB, size: 1 * MiB },
    ]);
    const data = Uint8Array.from({ length: 32 }, (_, i) => i);
    expect(m.write(1 * MiB - 16, data).ok).toBe(true);
    expect(m.readBytes(1 * MiB - 16, 32)).toEqual(data);
  });

  it('refuses overlapping or malformed regions (host misuse)', () => {
    expect(() => new PhysicalMemory([{ base: 0, size: 2 * MiB }, { base: 1 * MiB, size: 1 * MiB }])).toThrow(RangeError);
    expect(() => new PhysicalMemory([{ base: 0, size: 0 }])).toThrow(RangeError);
  });
});

describe('PhysicalMemory: copy', () => {
  it('behaves as memmove for overlapping and disjoint ranges (property)', () => {
    const size = 3 * CHUNK;
    const patterns = [0, 1, 2].map((c) => Uint8Array.from({ length: CHUNK }, (_, i) => (i * 13 + c * 101 + 1) % 256));
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: size - 1 }),
        fc.integer({ min: 0, max: size - 1 }),
        fc.integer({ min: 0, max: CHUNK + 100 }),
        fc.boolean(),
        (src, dst, len0, sparse) => {
          const len = Math.min(len0, size - src, size - dst);
          const mem = new PhysicalMemory([{ base: 0, size }]);
          const ref = new Uint8Array(size);
          // fill some or all chunks, leaving others never written when `sparse`
          for (let c = 0; c < 3; c++) {
            if (sparse && c === 1) continue;
            const bytes = patterns[c]!;
            mem.write(c * CHUNK, bytes);
            ref.set(bytes, c * CHUNK);
          }
          expect(mem.copy(dst, src, len).ok).toBe(true);
          ref.copyWithin(dst, src, src + len);
          expect(firstDiff(mem.readBytes(0, size), ref)).toBe(-1);
        },
      ),
      { numRuns: 200 },
    );
  });

  it('copies overlapping ranges in both directions', () => {
    const mem = new PhysicalMemory([{ base: 0, size: 1 * MiB }]);
    const data = Uint8Array.from({ length: 100 }, (_, i) => i + 1);
    mem.write(CHUNK - 50, data);
    mem.copy(CHUNK - 40, CHUNK - 50, 100); // forward overlap
    expect(mem.readBytes(CHUNK - 40, 100)).toEqual(data);
    mem.copy(CHUNK - 60, CHUNK - 40, 100); // backward overlap
    expect(mem.readBytes(CHUNK - 60, 100)).toEqual(data);
    expect(mem.touchedBytes).toBe(2 * CHUNK);
    expect(mem.readBytes(2 * KiB, 4)).toEqual(new Uint8Array(4));
  });
});
