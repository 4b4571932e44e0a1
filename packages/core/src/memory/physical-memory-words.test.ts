import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { MEMORY_CHUNK_SIZE, PhysicalMemory } from './physical-memory';

const CHUNK = MEMORY_CHUNK_SIZE;
// one region ending inside a chunk, one starting inside another: the 32-bit accessors remember the
// last chunk they used, and must still refuse what lies outside RAM in that chunk
const LOW = { base: 0, size: 2 * CHUNK + 0x800 };
const HIGH = { base: 4 * CHUNK + 0x400, size: 2 * CHUNK };
const isRam = (a: number, n: number) => [LOW, HIGH].some((r) => a >= r.base && a + n <= r.base + r.size);

/** Addresses near the interesting places: chunk and region edges, aligned or not. */
const nearEdge = fc
  .tuple(fc.constantFrom(0, CHUNK, 2 * CHUNK, LOW.size, HIGH.base, 5 * CHUNK, HIGH.base + HIGH.size), fc.integer({ min: -12, max: 12 }))
  .map(([edge, d]) => Math.max(0, edge + d));
const anyAddr = fc.oneof(nearEdge, fc.integer({ min: 0, max: 7 * CHUNK }));

type Op = { op: 'w32'; addr: number; value: number } | { op: 'r32'; addr: number } | { op: 'bytes'; addr: number; data: number[] } | { op: 'fill'; addr: number; len: number; value: number };
const anyOp: fc.Arbitrary<Op> = fc.oneof(
  fc.record({ op: fc.constant('w32' as const), addr: anyAddr, value: fc.oneof(fc.integer({ min: 0, max: 0xffffffff }), fc.integer({ min: -(2 ** 31), max: -1 })) }),
  fc.record({ op: fc.constant('r32' as const), addr: anyAddr }),
  fc.record({ op: fc.constant('bytes' as const), addr: anyAddr, data: fc.array(fc.integer({ min: 0, max: 255 }), { minLength: 1, maxLength: 9 }) }),
  fc.record({ op: fc.constant('fill' as const), addr: anyAddr, len: fc.integer({ min: 1, max: 40 }), value: fc.integer({ min: 0, max: 255 }) }),
);

describe('PhysicalMemory: 32-bit accessors', () => {
  it('read and write like a byte map at every alignment, chunk edge and region edge (property)', () => {
    fc.assert(
      fc.property(fc.array(anyOp, { minLength: 1, maxLength: 60 }), (ops) => {
        const mem = new PhysicalMemory([LOW, HIGH]);
        const ref = new Map<number, number>();
        const refU32 = (a: number) => [0, 1, 2, 3].reduce((v, i) => v + (ref.get(a + i) ?? 0) * 256 ** i, 0);
        for (const o of ops) {
          switch (o.op) {
            case 'w32': {
              const ok = isRam(o.addr, 4);
              expect(mem.writeU32(o.addr, o.value)).toBe(ok);
              const v = o.value >>> 0; // a 32-bit value, split into its bytes for the model
              if (ok) for (let i = 0; i < 4; i++) ref.set(o.addr + i, Math.floor(v / 256 ** i) % 256);
              break;
            }
            case 'r32':
              expect(mem.readU32(o.addr)).toBe(isRam(o.addr, 4) ? refU32(o.addr) : -1);
              break;
            case 'bytes': {
              const ok = isRam(o.addr, o.data.length);
              expect(mem.write(o.addr, Uint8Array.from(o.data)).ok).toBe(ok);
              if (ok) o.data.forEach((b, i) => ref.set(o.addr + i, b));
              break;
            }
            case 'fill': {
              const ok = isRam(o.addr, o.len);
              expect(mem.fill(o.addr, o.len, o.value).ok).toBe(ok);
              if (ok) for (let i = 0; i < o.len; i++) ref.set(o.addr + i, o.value);
              break;
            }
          }
        }
        for (const [a, b] of ref) expect(mem.readBytes(a, 1)?.[0]).toBe(b);
      }),
      { numRuns: 300 },
    );
  });

  it('64-bit accessors keep values up to 2^53 across a chunk boundary of a cached chunk', () => {
    const mem = new PhysicalMemory([LOW]);
    expect(mem.writeU32(CHUNK - 8, 1)).toBe(true); // caches the first chunk
    expect(mem.writeU64(CHUNK - 4, 2 ** 52 + 0x1234_5678)).toBe(true);
    expect(mem.readU64(CHUNK - 4)).toBe(2 ** 52 + 0x1234_5678);
    expect(mem.readU32(CHUNK - 8)).toBe(1);
  });
});
