import { GiB, MiB, PAGE_SIZE } from '@dmasim/core';
import { describe, expect, it } from 'vitest';
import { dmaAllocAttrs, dmaAllocCoherent, dmaFreeCoherent, dmaGetSgtable } from '../api/coherent';
import { dmaMapPage, dmaMapSingle, dmaMappingError, dmaUnmapPage, dmaUnmapSingle } from '../api/mapping';
import { dmaSyncSingleForCpu, dmaSyncSingleForDevice } from '../api/sync';
import {
  DMA_ATTR_NO_KERNEL_MAPPING,
  DMA_ATTR_SKIP_CPU_SYNC,
  DMA_BIDIRECTIONAL,
  DMA_FROM_DEVICE,
  DMA_MAPPING_ERROR,
  DMA_TO_DEVICE,
} from '../constants';
import { SgTable } from '../scatterlist/sg-table';
import { RPI4_SOC_RANGES, cpuRead, deviceRead, deviceWrite, makeDevice, makeMachine, pattern, type TestMachine } from '../testing/fixtures';

const LEN = 3000; // not a multiple of a cache line: partial lines at both ends

function buffer(m: TestMachine): number {
  const p = m.core.pages.allocPages(0);
  if (p === null) throw new Error('no page');
  return p + 100;
}

describe.each([true, false])('dma-direct data integrity (coherent=%s)', (coherent) => {
  it('TO_DEVICE: the device reads what the CPU wrote before mapping', () => {
    const m = makeMachine();
    const dev = makeDevice(m, 'dev0', { coherent });
    const buf = buffer(m);
    const a = pattern(LEN, 1);
    m.core.cache.cpuWrite(buf, a);
    const dma = dmaMapSingle(dev, buf, LEN, DMA_TO_DEVICE);
    expect(dmaMappingError(dev, dma)).toBe(0);
    expect(dma).toBe(buf); // no dma-ranges: bus address = physical address
    expect(deviceRead(m, dev, dma, LEN)).toEqual(a);
    dmaUnmapSingle(dev, dma, LEN, DMA_TO_DEVICE);
  });

  it('TO_DEVICE reuse: new CPU data reaches the device only with sync_for_device (non-coherent)', () => {
    const m = makeMachine();
    const dev = makeDevice(m, 'dev0', { coherent });
    const buf = buffer(m);
    const a = pattern(LEN, 1);
    const b = pattern(LEN, 2);
    m.core.cache.cpuWrite(buf, a);
    const dma = dmaMapSingle(dev, buf, LEN, DMA_TO_DEVICE);
    dmaSyncSingleForCpu(dev, dma, LEN, DMA_TO_DEVICE);
    m.core.cache.cpuWrite(buf, b);
    // the driver forgot dma_sync_single_for_device
    expect(deviceRead(m, dev, dma, LEN)).toEqual(coherent ? b : a);
    dmaSyncSingleForDevice(dev, dma, LEN, DMA_TO_DEVICE);
    expect(deviceRead(m, dev, dma, LEN)).toEqual(b);
    dmaUnmapSingle(dev, dma, LEN, DMA_TO_DEVICE);
  });

  it('TO_DEVICE with SKIP_CPU_SYNC: a non-coherent device reads old memory', () => {
    const m = makeMachine();
    const dev = makeDevice(m, 'dev0', { coherent });
    const buf = buffer(m);
    const a = pattern(LEN, 3);
    m.core.cache.cpuWrite(buf, a);
    const dma = dmaMapSingle(dev, buf, LEN, DMA_TO_DEVICE, DMA_ATTR_SKIP_CPU_SYNC);
    expect(deviceRead(m, dev, dma, LEN)).toEqual(coherent ? a : new Uint8Array(LEN));
    dmaUnmapSingle(dev, dma, LEN, DMA_TO_DEVICE, DMA_ATTR_SKIP_CPU_SYNC);
  });

  it('FROM_DEVICE: the CPU sees what the device wrote after unmap; stale before sync_for_cpu (non-coherent)', () => {
    const m = makeMachine();
    const dev = makeDevice(m, 'dev0', { coherent });
    const buf = buffer(m);
    const old = pattern(LEN, 4);
    const fresh = pattern(LEN, 5);
    m.core.cache.cpuWrite(buf, old);
    cpuRead(m, buf, LEN); // the CPU holds the lines
    const dma = dmaMapSingle(dev, buf, LEN, DMA_FROM_DEVICE);
    deviceWrite(m, dev, dma, fresh);
    // the driver reads before dma_sync_single_for_cpu / unmap
    expect(cpuRead(m, buf, LEN)).toEqual(coherent ? fresh : old);
    dmaSyncSingleForCpu(dev, dma, LEN, DMA_FROM_DEVICE);
    expect(cpuRead(m, buf, LEN)).toEqual(fresh);
    const again = pattern(LEN, 6);
    dmaSyncSingleForDevice(dev, dma, LEN, DMA_FROM_DEVICE);
    deviceWrite(m, dev, dma, again);
    dmaUnmapSingle(dev, dma, LEN, DMA_FROM_DEVICE);
    expect(cpuRead(m, buf, LEN)).toEqual(again);
  });

  it('BIDIRECTIONAL: both ways through one mapping', () => {
    const m = makeMachine();
    const dev = makeDevice(m, 'dev0', { coherent });
    const buf = buffer(m);
    const a = pattern(LEN, 7);
    const d = pattern(LEN, 8);
    m.core.cache.cpuWrite(buf, a);
    const dma = dmaMapPage(dev, buf - 100, 100, LEN, DMA_BIDIRECTIONAL);
    expect(deviceRead(m, dev, dma, LEN)).toEqual(a);
    deviceWrite(m, dev, dma, d);
    dmaUnmapPage(dev, dma, LEN, DMA_BIDIRECTIONAL);
    expect(cpuRead(m, buf, LEN)).toEqual(d);
  });

  it('FROM_DEVICE: dirty CPU lines are cleaned at map so they cannot overwrite device data later', () => {
    const m = makeMachine();
    const dev = makeDevice(m, 'dev0', { coherent });
    const buf = buffer(m);
    m.core.cache.cpuWrite(buf, pattern(LEN, 9)); // dirty
    const dma = dmaMapSingle(dev, buf, LEN, DMA_FROM_DEVICE);
    expect(m.core.cache.hasDirty(buf, LEN)).toBe(coherent);
    const fresh = pattern(LEN, 10);
    deviceWrite(m, dev, dma, fresh);
    m.core.cache.flushAll(); // evictions may happen at any time
    dmaUnmapSingle(dev, dma, LEN, DMA_FROM_DEVICE);
    expect(cpuRead(m, buf, LEN)).toEqual(fresh);
  });
});

describe('dma-direct address limits', () => {
  it('RPi4 window: a buffer below 1 GiB gets phys + 0xc0000000', () => {
    const m = makeMachine();
    const dev = makeDevice(m, 'hvs', { rangeMap: RPI4_SOC_RANGES, busDmaLimit: 0xffffffff });
    const phys = 0x1234_5000;
    const dma = dmaMapSingle(dev, phys, 4096, DMA_TO_DEVICE);
    expect(dma).toBe(phys + 0xc0000000);
    dmaUnmapSingle(dev, dma, 4096, DMA_TO_DEVICE);
  });

  it('without swiotlb, an unreachable buffer fails with the kernel overflow WARN (once)', () => {
    const m = makeMachine();
    const dev = makeDevice(m, 'hvs', { rangeMap: RPI4_SOC_RANGES, busDmaLimit: 0xffffffff });
    const phys = 1 * GiB + 0x10000;
    expect(dmaMapSingle(dev, phys, 4096, DMA_TO_DEVICE)).toBe(DMA_MAPPING_ERROR);
    expect(dmaMapSingle(dev, phys, 4096, DMA_TO_DEVICE)).toBe(DMA_MAPPING_ERROR);
    const lines = m.core.log.lines.map((l) => l.text);
    expect(lines).toContain('testdrv hvs: DMA addr 0xffffffffffffffff+4096 overflow (mask ffffffff, bus limit ffffffff).');
    expect(m.core.log.warnCount).toBe(1);
  });

  it('a 32-bit device cannot reach memory above 4 GiB', () => {
    const m = makeMachine({ ram: 6 * GiB });
    const dev = makeDevice(m, 'dev32', { maskBits: 32 });
    expect(dmaMapSingle(dev, 5 * GiB, 64, DMA_TO_DEVICE)).toBe(DMA_MAPPING_ERROR);
    expect(m.core.log.lines.map((l) => l.text)).toContain('testdrv dev32: DMA addr 0x0000000140000000+64 overflow (mask ffffffff, bus limit 0).');
    const ok = dmaMapSingle(dev, 4 * GiB - 64, 64, DMA_TO_DEVICE);
    expect(ok).toBe(4 * GiB - 64);
  });

  it('a device without DMA configured cannot map', () => {
    const m = makeMachine();
    const dev = makeDevice(m, 'nodma', { noDma: true });
    expect(dmaMapSingle(dev, 0x100000, 64, DMA_TO_DEVICE)).toBe(DMA_MAPPING_ERROR);
    expect(dmaAllocCoherent(dev, 4096)).toBeNull();
  });
});

describe('dma-direct coherent allocations', () => {
  it('picks ZONE_DMA for a device whose coherent limit is inside it (RPi4 window)', () => {
    const m = makeMachine({ ram: 4 * GiB });
    const dev = makeDevice(m, 'hvs', { rangeMap: RPI4_SOC_RANGES, busDmaLimit: 0xffffffff });
    const buf = dmaAllocCoherent(dev, 64 * 1024);
    expect(buf).not.toBeNull();
    expect(buf!.cpuAddr + 64 * 1024).toBeLessThanOrEqual(1 * GiB);
    expect(buf!.dmaHandle).toBe(buf!.cpuAddr + 0xc0000000);
    expect(m.core.pages.zoneOf(buf!.cpuAddr)).toBe('DMA');
  });

  it('a 32-bit device gets memory below 4 GiB, a 64-bit one may get any', () => {
    const m = makeMachine({ ram: 8 * GiB, dmaZoneEnd: 0 });
    const d32 = makeDevice(m, 'd32', { maskBits: 32 });
    const d64 = makeDevice(m, 'd64', { maskBits: 64 });
    const a = dmaAllocCoherent(d32, 8192)!;
    const b = dmaAllocCoherent(d64, 8192)!;
    expect(a.dmaHandle + 8192 - 1).toBeLessThanOrEqual(0xffffffff);
    expect(m.core.pages.zoneOf(a.cpuAddr)).toBe('DMA32');
    expect(m.core.pages.zoneOf(b.cpuAddr)).toBe('NORMAL');
  });

  it('non-coherent: the CPU uses an uncached mapping and the device sees CPU writes without syncs', () => {
    const m = makeMachine();
    const dev = makeDevice(m, 'dev0', { coherent: false });
    const free0 = m.core.pages.freePagesTotal;
    const buf = dmaAllocCoherent(dev, 10000)!;
    expect(buf.mapping).toBe('uncached');
    const data = pattern(10000, 11);
    m.core.cache.cpuWrite(buf.cpuAddr, data, buf.mapping === 'uncached' ? 'uncached' : 'cacheable');
    expect(deviceRead(m, dev, buf.dmaHandle, 10000)).toEqual(data);
    const fromDev = pattern(10000, 12);
    deviceWrite(m, dev, buf.dmaHandle, fromDev);
    const back = new Uint8Array(10000);
    m.core.cache.cpuRead(buf.cpuAddr, back, 'uncached');
    expect(back).toEqual(fromDev);
    dmaFreeCoherent(dev, 10000, buf.cpuAddr, buf.dmaHandle);
    m.core.pages.drainPcp();
    expect(m.core.pages.freePagesTotal).toBe(free0);
  });

  it('memory comes back zeroed even if the pages held dirty CPU lines', () => {
    const m = makeMachine();
    const dev = makeDevice(m, 'dev0', { coherent: false });
    const p = m.core.pages.allocPages(0)!;
    m.core.cache.cpuWrite(p, pattern(PAGE_SIZE, 13));
    m.core.pages.freePages(p, 0);
    const buf = dmaAllocCoherent(dev, PAGE_SIZE)!;
    expect(buf.cpuAddr).toBe(p); // the page allocator hands the same page back
    m.core.cache.flushAll();
    expect(m.core.memory.readBytes(buf.cpuAddr, PAGE_SIZE)).toEqual(new Uint8Array(PAGE_SIZE));
  });

  it('coherent device: cacheable mapping; NO_KERNEL_MAPPING gives no CPU mapping', () => {
    const m = makeMachine();
    const dev = makeDevice(m, 'dev0', { coherent: true });
    expect(dmaAllocCoherent(dev, 4096)!.mapping).toBe('cacheable');
    expect(dmaAllocAttrs(dev, 4096, undefined, DMA_ATTR_NO_KERNEL_MAPPING)!.mapping).toBe('none');
  });

  it('get_sgtable describes the allocation as one page-aligned entry', () => {
    const m = makeMachine();
    const dev = makeDevice(m, 'hvs', { rangeMap: RPI4_SOC_RANGES, busDmaLimit: 0xffffffff });
    const buf = dmaAllocCoherent(dev, 5000)!;
    const sgt = new SgTable();
    expect(dmaGetSgtable(dev, sgt, buf.cpuAddr, buf.dmaHandle, 5000)).toBe(0);
    expect(sgt.origNents).toBe(1);
    expect(sgt.sgl[0]).toMatchObject({ pagePhys: buf.cpuAddr, offset: 0, length: 8192 });
  });

  it('allocations larger than one buddy block are contiguous runs (CMA) and are given back', () => {
    const m = makeMachine();
    const dev = makeDevice(m, 'hvs', { rangeMap: RPI4_SOC_RANGES, busDmaLimit: 0xffffffff });
    const free0 = m.core.pages.freePagesTotal;
    const buf = dmaAllocCoherent(dev, 8 * MiB)!;
    expect(buf).not.toBeNull();
    expect(buf.cpuAddr + 8 * MiB).toBeLessThanOrEqual(1 * GiB);
    expect(m.core.pages.freePagesTotal).toBe(free0 - (8 * MiB) / PAGE_SIZE);
    dmaFreeCoherent(dev, 8 * MiB, buf.cpuAddr, buf.dmaHandle);
    expect(m.core.pages.freePagesTotal).toBe(free0);
    expect(dmaAllocCoherent(dev, 2 * GiB)).toBeNull();
    expect(m.core.pages.freePagesTotal).toBe(free0);
  });
});
