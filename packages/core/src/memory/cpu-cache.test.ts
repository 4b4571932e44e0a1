import { describe, expect, it } from 'vitest';
import { MiB } from '../address';
import { CACHE_LINE_SIZE, CpuCache } from './cpu-cache';
import { PhysicalMemory } from './physical-memory';

const BUF = 0x10000;
const OLD = 0x11;
const NEW = 0x22;

function setup(capacityLines?: number) {
  const memory = new PhysicalMemory([{ base: 0, size: 1 * MiB }]);
  const cache = new CpuCache(memory, capacityLines);
  memory.fill(BUF, 4096, OLD);
  return { memory, cache };
}

const bytes = (len: number, v: number) => new Uint8Array(len).fill(v);

function deviceSees(cache: CpuCache, addr: number, len: number, coherent: boolean): Uint8Array {
  const out = new Uint8Array(len);
  expect(cache.deviceRead(addr, out, coherent).ok).toBe(true);
  return out;
}

function cpuSees(cache: CpuCache, addr: number, len: number, mapping: 'cacheable' | 'uncached' = 'cacheable'): Uint8Array {
  const out = new Uint8Array(len);
  expect(cache.cpuRead(addr, out, mapping).ok).toBe(true);
  return out;
}

describe('CpuCache: CPU writes and a device reading (DMA_TO_DEVICE)', () => {
  it('a CPU write not cleaned: a non-coherent device reads the old bytes', () => {
    const { cache } = setup();
    cache.cpuWrite(BUF, bytes(256, NEW));
    expect(deviceSees(cache, BUF, 256, false)).toEqual(bytes(256, OLD));
    expect(cache.hasDirty(BUF, 256)).toBe(true);
    // the CPU itself sees its own write
    expect(cpuSees(cache, BUF, 256)).toEqual(bytes(256, NEW));
  });

  it('after clean the non-coherent device reads the new bytes and the lines stay valid', () => {
    const { cache, memory } = setup();
    cache.cpuWrite(BUF, bytes(256, NEW));
    cache.clean(BUF, 256);
    expect(deviceSees(cache, BUF, 256, false)).toEqual(bytes(256, NEW));
    expect(cache.hasDirty(BUF, 256)).toBe(false);
    expect(cache.stats().lines).toBe(256 / CACHE_LINE_SIZE);
    expect(memory.readBytes(BUF, 256)).toEqual(bytes(256, NEW));
  });

  it('clean of part of a buffer writes back only the lines it covers (whole lines)', () => {
    const { cache } = setup();
    cache.cpuWrite(BUF, bytes(256, NEW));
    cache.clean(BUF + 70, 10); // inside the second line only
    const seen = deviceSees(cache, BUF, 256, false);
    expect(seen.subarray(0, 64)).toEqual(bytes(64, OLD));
    expect(seen.subarray(64, 128)).toEqual(bytes(64, NEW));
    expect(seen.subarray(128)).toEqual(bytes(128, OLD));
  });

  it('a coherent device snoops the dirty lines', () => {
    const { cache } = setup();
    cache.cpuWrite(BUF + 10, bytes(100, NEW));
    const seen = deviceSees(cache, BUF, 256, true);
    expect(seen.subarray(0, 10)).toEqual(bytes(10, OLD));
    expect(seen.subarray(10, 110)).toEqual(bytes(100, NEW));
    expect(seen.subarray(110)).toEqual(bytes(146, OLD));
  });
});

describe('CpuCache: a device writing and the CPU reading (DMA_FROM_DEVICE)', () => {
  it('the CPU holding the line reads stale bytes until it invalidates', () => {
    const { cache } = setup();
    expect(cpuSees(cache, BUF, 128)).toEqual(bytes(128, OLD)); // lines now cached
    cache.deviceWrite(BUF, bytes(128, NEW), false);
    expect(cpuSees(cache, BUF, 128)).toEqual(bytes(128, OLD));
    cache.invalidate(BUF, 128);
    expect(cpuSees(cache, BUF, 128)).toEqual(bytes(128, NEW));
  });

  it('without a cached line the CPU reads what the device wrote', () => {
    const { cache } = setup();
    cache.deviceWrite(BUF, bytes(64, NEW), false);
    expect(cpuSees(cache, BUF, 64)).toEqual(bytes(64, NEW));
  });

  it('invalidate discards dirty CPU data, so a device write survives', () => {
    const { cache, memory } = setup();
    cache.cpuWrite(BUF, bytes(64, 0x77)); // dirty line
    cache.deviceWrite(BUF, bytes(64, NEW), false);
    cache.invalidate(BUF, 64);
    expect(cpuSees(cache, BUF, 64)).toEqual(bytes(64, NEW));
    expect(memory.readBytes(BUF, 64)).toEqual(bytes(64, NEW));
  });

  it('a dirty line cleaned after the device wrote clobbers the device data (the classic bug)', () => {
    const { cache, memory } = setup();
    cache.cpuWrite(BUF, Uint8Array.of(0x77)); // one byte dirty: the whole line is written back
    cache.deviceWrite(BUF, bytes(64, NEW), false);
    cache.clean(BUF, 64);
    const mem = memory.readBytes(BUF, 64)!;
    expect(mem[0]).toBe(0x77);
    expect(mem.subarray(1)).toEqual(bytes(63, OLD));
  });

  it('a coherent device write updates the cached line as well as memory', () => {
    const { cache, memory } = setup();
    cache.cpuWrite(BUF, bytes(128, 0x77)); // dirty lines
    cache.deviceWrite(BUF + 32, bytes(64, NEW), true);
    const cpu = cpuSees(cache, BUF, 128);
    expect(cpu.subarray(0, 32)).toEqual(bytes(32, 0x77));
    expect(cpu.subarray(32, 96)).toEqual(bytes(64, NEW));
    expect(cpu.subarray(96)).toEqual(bytes(32, 0x77));
    // a later write-back does not undo the device's bytes
    cache.cleanInvalidate(BUF, 128);
    expect(memory.readBytes(BUF + 32, 64)).toEqual(bytes(64, NEW));
  });
});

describe('CpuCache: mappings, eviction and maintenance', () => {
  it('an uncached mapping bypasses the cache in both directions', () => {
    const { cache, memory } = setup();
    cache.cpuWrite(BUF, bytes(64, NEW), 'uncached');
    expect(memory.readBytes(BUF, 64)).toEqual(bytes(64, NEW));
    expect(deviceSees(cache, BUF, 64, false)).toEqual(bytes(64, NEW));
    expect(cache.stats().lines).toBe(0);
    cache.deviceWrite(BUF, bytes(64, 0x33), false);
    expect(cpuSees(cache, BUF, 64, 'uncached')).toEqual(bytes(64, 0x33));
    expect(cache.stats().lines).toBe(0);
  });

  it('evicting a dirty line writes it back (least recently filled first)', () => {
    const { cache } = setup(2);
    cache.cpuWrite(BUF, bytes(64, NEW));
    cache.cpuWrite(BUF + 64, bytes(64, NEW));
    expect(deviceSees(cache, BUF, 64, false)).toEqual(bytes(64, OLD));
    cache.cpuWrite(BUF + 128, bytes(64, NEW)); // third line: the first is evicted
    expect(deviceSees(cache, BUF, 64, false)).toEqual(bytes(64, NEW));
    expect(deviceSees(cache, BUF + 64, 128, false)).toEqual(bytes(128, OLD));
    const s = cache.stats();
    expect(s.lines).toBe(2);
    expect(s.evictions).toBe(1);
    expect(s.writebacks).toBe(1);
  });

  it('cleanInvalidate writes back and drops: device sees new bytes, CPU then sees device bytes', () => {
    const { cache } = setup();
    cache.cpuWrite(BUF, bytes(200, NEW));
    cache.cleanInvalidate(BUF, 200);
    expect(deviceSees(cache, BUF, 200, false)).toEqual(bytes(200, NEW));
    expect(cache.stats().lines).toBe(0);
    cache.deviceWrite(BUF, bytes(200, 0x44), false);
    expect(cpuSees(cache, BUF, 200)).toEqual(bytes(200, 0x44));
  });

  it('maintenance of one range leaves lines outside it alone', () => {
    const { cache } = setup();
    cache.cpuWrite(BUF, bytes(4096, NEW));
    cache.invalidate(BUF + 1024, 1024);
    expect(cache.hasDirty(BUF, 1024)).toBe(true);
    expect(cache.hasDirty(BUF + 1024, 1024)).toBe(false);
    expect(cache.hasDirty(BUF + 2048, 2048)).toBe(true);
    expect(cache.stats().lines).toBe((4096 - 1024) / CACHE_LINE_SIZE);
    cache.flushAll();
    expect(deviceSees(cache, BUF, 1024, false)).toEqual(bytes(1024, NEW));
    expect(deviceSees(cache, BUF + 1024, 1024, false)).toEqual(bytes(1024, OLD));
    expect(cache.stats().lines).toBe(0);
  });

  it('cpuFill through the cache is only visible to a device after clean', () => {
    const { cache } = setup();
    cache.cpuFill(BUF, 300, 0x99);
    expect(deviceSees(cache, BUF, 300, false)).toEqual(bytes(300, OLD));
    cache.clean(BUF, 300);
    expect(deviceSees(cache, BUF, 300, false)).toEqual(bytes(300, 0x99));
  });

  it('CPU and device accesses outside RAM are bus errors', () => {
    const { cache } = setup();
    const buf = new Uint8Array(8);
    expect(cache.cpuRead(1 * MiB, buf).ok).toBe(false);
    expect(cache.cpuWrite(1 * MiB - 4, buf).ok).toBe(false);
    expect(cache.deviceRead(2 * MiB, buf, true).ok).toBe(false);
    expect(cache.deviceWrite(2 * MiB, buf, false).ok).toBe(false);
    expect(cache.stats().lines).toBe(0);
  });
});
