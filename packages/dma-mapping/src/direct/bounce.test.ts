import type { Device } from '@dmasim/bus';
import { GiB, MiB } from '@dmasim/core';
import { describe, expect, it } from 'vitest';
import { dmaMapSg, dmaMapSingle, dmaMappingError, dmaUnmapSg, dmaUnmapSingle } from '../api/mapping';
import { dmaMaxMappingSize } from '../api/params';
import { dmaAllocCoherent, dmaFreeCoherent } from '../api/coherent';
import { dmaSyncSingleForCpu, dmaSyncSingleForDevice } from '../api/sync';
import { DMA_BIDIRECTIONAL, DMA_FROM_DEVICE, DMA_MAPPING_ERROR, DMA_TO_DEVICE } from '../constants';
import { sgAllocTableFromPages, SgTable } from '../scatterlist/sg-table';
import { RPI4_SOC_RANGES, cpuRead, deviceRead, deviceWrite, makeDevice, makeMachine, pattern, type TestMachine } from '../testing/fixtures';
import { dmaToPhys } from './translate';

const HIGH = 1 * GiB + 0x200000 + 123; // above the Pi 4 window, unaligned
const LEN = 5000;

function rpi4(opts: { coherent?: boolean; dynamic?: false | 'per-buffer' } = {}): { m: TestMachine; dev: Device } {
  const m = makeMachine({ swiotlb: { size: 4 * MiB, dynamic: opts.dynamic ?? false } });
  const dev = makeDevice(m, 'hvs', { rangeMap: RPI4_SOC_RANGES, busDmaLimit: 0xffffffff, coherent: opts.coherent ?? false, driver: 'vc4-hvs' });
  return { m, dev };
}

describe('Raspberry Pi 4 1 GiB window through dma-direct + swiotlb', () => {
  it('maps below 1 GiB directly at phys + 0xc0000000 and bounces above', () => {
    const { m, dev } = rpi4();
    const low = 0x0800_0000 + 40;
    const dLow = dmaMapSingle(dev, low, LEN, DMA_TO_DEVICE);
    expect(dLow).toBe(low + 0xc0000000);
    expect(m.tlb!.isSwiotlbBuffer(dev, dmaToPhys(dev, dLow))).toBe(false);

    const data = pattern(LEN, 1);
    m.core.cache.cpuWrite(HIGH, data);
    const dHigh = dmaMapSingle(dev, HIGH, LEN, DMA_TO_DEVICE);
    expect(dmaMappingError(dev, dHigh)).toBe(0);
    expect(dHigh).toBeGreaterThanOrEqual(0xc0000000);
    expect(dHigh + LEN - 1).toBeLessThanOrEqual(0xffffffff);
    const tlbPhys = dmaToPhys(dev, dHigh);
    expect(tlbPhys).toBeLessThan(1 * GiB);
    expect(m.tlb!.isSwiotlbBuffer(dev, tlbPhys)).toBe(true);
    expect(deviceRead(m, dev, dHigh, LEN)).toEqual(data);
    expect(m.tlb!.stats().usedSlots).toBe(Math.ceil(LEN / 2048));
    dmaUnmapSingle(dev, dHigh, LEN, DMA_TO_DEVICE);
    dmaUnmapSingle(dev, dLow, LEN, DMA_TO_DEVICE);
    expect(m.tlb!.stats().usedSlots).toBe(0);
  });

  it("the seed's frame buffers: fixed pool fails with the kernel text, per-buffer dynamic succeeds", () => {
    for (const dynamic of [false, 'per-buffer'] as const) {
      const { m, dev } = rpi4({ dynamic });
      const sizes = [524288, 815104];
      const addrs = sizes.map((size) => dmaMapSingle(dev, 2 * GiB - 4 * MiB, size, DMA_TO_DEVICE));
      if (dynamic === false) {
        expect(addrs).toEqual([DMA_MAPPING_ERROR, DMA_MAPPING_ERROR]);
        expect(m.core.log.lines.map((l) => l.text)).toContain('vc4-hvs hvs: swiotlb buffer is full (sz: 524288 bytes), total 2048 (slots), used 0 (slots)');
      } else {
        for (const a of addrs) expect(a).not.toBe(DMA_MAPPING_ERROR);
        addrs.forEach((a, i) => dmaUnmapSingle(dev, a, sizes[i]!, DMA_TO_DEVICE));
      }
    }
  });

  it('max mapping size: one swiotlb segment for the limited device, unlimited for a full-reach one', () => {
    const { m, dev } = rpi4();
    const full = makeDevice(m, 'v3d', { maskBits: 40, coherent: true });
    expect(dmaMaxMappingSize(dev)).toBe(256 * 1024);
    expect(dmaMaxMappingSize(full)).toBe(Number.MAX_SAFE_INTEGER);
  });

  it('bounces every sg entry that lies above the window', () => {
    const { m, dev } = rpi4();
    const pages = [0x1000_0000, 1 * GiB + 0x1000, 1 * GiB + 0x2000, 0x1000_3000];
    const sgt = new SgTable();
    expect(sgAllocTableFromPages(sgt, pages, 0, 4 * 4096)).toBe(0);
    expect(sgt.origNents).toBe(3);
    for (const [i, p] of pages.entries()) m.core.cache.cpuWrite(p, pattern(4096, 20 + i));
    const n = dmaMapSg(dev, sgt.sgl, sgt.origNents, DMA_TO_DEVICE);
    expect(n).toBe(3);
    const seen = new Uint8Array(deviceRead(m, dev, sgt.sgl[1]!.dmaAddress, 8192));
    expect(seen.subarray(0, 4096)).toEqual(pattern(4096, 21));
    expect(seen.subarray(4096)).toEqual(pattern(4096, 22));
    expect(m.tlb!.isSwiotlbBuffer(dev, dmaToPhys(dev, sgt.sgl[1]!.dmaAddress))).toBe(true);
    expect(sgt.sgl[0]!.dmaAddress).toBe(0x1000_0000 + 0xc0000000);
    dmaUnmapSg(dev, sgt.sgl, sgt.origNents, DMA_TO_DEVICE);
    expect(m.tlb!.stats().usedSlots).toBe(0);
  });
});

describe.each([true, false])('bounce data integrity (coherent=%s)', (coherent) => {
  it('TO_DEVICE: the device reads the bytes; a later CPU write reaches it only with sync_for_device', () => {
    const { m, dev } = rpi4({ coherent });
    const a = pattern(LEN, 2);
    const b = pattern(LEN, 3);
    m.core.cache.cpuWrite(HIGH, a);
    const dma = dmaMapSingle(dev, HIGH, LEN, DMA_TO_DEVICE);
    expect(deviceRead(m, dev, dma, LEN)).toEqual(a);
    dmaSyncSingleForCpu(dev, dma, LEN, DMA_TO_DEVICE);
    m.core.cache.cpuWrite(HIGH, b);
    expect(deviceRead(m, dev, dma, LEN)).toEqual(a); // sync omitted: the bounce slot holds the old copy
    dmaSyncSingleForDevice(dev, dma, LEN, DMA_TO_DEVICE);
    expect(deviceRead(m, dev, dma, LEN)).toEqual(b);
    dmaUnmapSingle(dev, dma, LEN, DMA_TO_DEVICE);
  });

  it('FROM_DEVICE: the CPU sees device data only after sync_for_cpu or unmap', () => {
    const { m, dev } = rpi4({ coherent });
    const old = pattern(LEN, 4);
    m.core.cache.cpuWrite(HIGH, old);
    const dma = dmaMapSingle(dev, HIGH, LEN, DMA_FROM_DEVICE);
    const fresh = pattern(LEN, 5);
    deviceWrite(m, dev, dma, fresh);
    expect(cpuRead(m, HIGH, LEN)).toEqual(old); // sync omitted: still the original buffer
    dmaSyncSingleForCpu(dev, dma, LEN, DMA_FROM_DEVICE);
    expect(cpuRead(m, HIGH, LEN)).toEqual(fresh);
    const again = pattern(LEN, 6);
    dmaSyncSingleForDevice(dev, dma, LEN, DMA_FROM_DEVICE);
    deviceWrite(m, dev, dma, again);
    dmaUnmapSingle(dev, dma, LEN, DMA_FROM_DEVICE);
    expect(cpuRead(m, HIGH, LEN)).toEqual(again);
  });

  it('FROM_DEVICE partial write keeps the rest of the original (bounce filled at map)', () => {
    const { m, dev } = rpi4({ coherent });
    const old = pattern(LEN, 7);
    m.core.cache.cpuWrite(HIGH, old);
    const dma = dmaMapSingle(dev, HIGH, LEN, DMA_FROM_DEVICE);
    const part = pattern(100, 8);
    deviceWrite(m, dev, dma, part);
    dmaUnmapSingle(dev, dma, LEN, DMA_FROM_DEVICE);
    const want = old.slice();
    want.set(part, 0);
    expect(cpuRead(m, HIGH, LEN)).toEqual(want);
  });

  it('BIDIRECTIONAL round trip', () => {
    const { m, dev } = rpi4({ coherent });
    const a = pattern(LEN, 9);
    const d = pattern(LEN, 10);
    m.core.cache.cpuWrite(HIGH, a);
    const dma = dmaMapSingle(dev, HIGH, LEN, DMA_BIDIRECTIONAL);
    expect(deviceRead(m, dev, dma, LEN)).toEqual(a);
    deviceWrite(m, dev, dma, d);
    dmaUnmapSingle(dev, dma, LEN, DMA_BIDIRECTIONAL);
    expect(cpuRead(m, HIGH, LEN)).toEqual(d);
  });
});

describe('forced and failed bouncing', () => {
  it('swiotlb=force bounces even buffers the device could reach', () => {
    const m = makeMachine({ swiotlb: { size: 1 * MiB }, swiotlbForce: true });
    const dev = makeDevice(m, 'dev0', { coherent: true });
    const buf = 0x0100_0000;
    m.core.cache.cpuWrite(buf, pattern(64, 11));
    const dma = dmaMapSingle(dev, buf, 64, DMA_TO_DEVICE);
    expect(dma).not.toBe(buf);
    expect(m.tlb!.isSwiotlbBuffer(dev, dma)).toBe(true);
    expect(deviceRead(m, dev, dma, 64)).toEqual(pattern(64, 11));
    expect(dmaMaxMappingSize(dev)).toBe(256 * 1024);
    dmaUnmapSingle(dev, dma, 64, DMA_TO_DEVICE);
  });

  it('a bounce pool the device cannot reach fails with the swiotlb overflow WARN', () => {
    const m = makeMachine({ swiotlb: { size: 1 * MiB } });
    // this bus shows CPU memory at 4 GiB up, beyond the device's 32-bit mask: nothing is reachable
    const dev = makeDevice(m, 'odd', { maskBits: 32, rangeMap: [{ cpuStart: 0, dmaStart: 4 * GiB, size: 4 * GiB }] });
    expect(dmaMapSingle(dev, 0x0100_0000, 64, DMA_TO_DEVICE)).toBe(DMA_MAPPING_ERROR);
    const poolStart = m.tlb!.defaultMem!.defpool.start;
    const want = `testdrv odd: swiotlb addr 0x${(4 * GiB + poolStart).toString(16).padStart(16, '0')}+64 overflow (mask ffffffff, bus limit 0).`;
    expect(m.core.log.lines.map((l) => l.text)).toContain(want);
    expect(m.tlb!.stats().usedSlots).toBe(0);
  });

  it('a restricted DMA pool serves both streaming maps and coherent allocations', () => {
    const m = makeMachine({ swiotlb: { size: 1 * MiB } });
    const dev = makeDevice(m, 'wifi', { coherent: true, maskBits: 32 });
    const base = 0x3000_0000;
    expect(m.tlb!.rmemSwiotlbSetup({ name: 'wifi-pool', base, size: 2 * MiB })).toBe(0);
    expect(m.tlb!.rmemSwiotlbDeviceInit('wifi-pool', dev)).toBe(0);
    const dma = dmaMapSingle(dev, 0x0100_0000, 256, DMA_TO_DEVICE); // reachable, but bounced anyway
    expect(dma).toBeGreaterThanOrEqual(base);
    expect(dma).toBeLessThan(base + 2 * MiB);
    const buf = dmaAllocCoherent(dev, 8192)!;
    expect(buf.cpuAddr).toBeGreaterThanOrEqual(base);
    expect(buf.cpuAddr + 8192).toBeLessThanOrEqual(base + 2 * MiB);
    dmaFreeCoherent(dev, 8192, buf.cpuAddr, buf.dmaHandle);
    dmaUnmapSingle(dev, dma, 256, DMA_TO_DEVICE);
    expect(m.tlb!.stats(dev).usedSlots).toBe(0);
  });
});
