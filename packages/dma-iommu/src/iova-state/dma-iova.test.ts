import { Device, FwNode } from '@dmasim/bus';
import { EIO, EOPNOTSUPP, KiB, PAGE_SIZE } from '@dmasim/core';
import { DMA_TO_DEVICE, dmaMapSg, sgInitOne } from '@dmasim/dma-mapping';
import { describe, expect, it } from 'vitest';
import { genericMachine } from '../testing/env';
import { dmaIovaDestroy, dmaIovaLink, dmaIovaState, dmaIovaSync, dmaIovaTryAlloc, dmaIovaUnlink, dmaUseIova } from './dma-iova';

function fillPattern(m: ReturnType<typeof genericMachine>, phys: number, len: number, seed: number): Uint8Array {
  const data = new Uint8Array(len);
  for (let i = 0; i < len; i++) data[i] = (i * 7 + seed) % 251;
  m.core.cache.cpuWrite(phys, data);
  return data;
}

describe('two-step IOVA API (seed 001)', () => {
  it('keeps an unaligned first address and links several ranges the device reads byte for byte', () => {
    const m = genericMachine();
    const nvme = m.addDevice('nvme');
    // an NVMe-style list: first buffer starts 0x200 into a page, then two whole pages elsewhere
    const p0 = m.core.pages.allocPages(0)!;
    const p1 = m.core.pages.allocPages(1)!;
    const p2 = m.core.pages.allocPages(0)!;
    const first = p0 + 0x200;
    const firstLen = PAGE_SIZE - 0x200;
    const total = firstLen + 2 * PAGE_SIZE + PAGE_SIZE;
    const d0 = fillPattern(m, first, firstLen, 1);
    const d1 = fillPattern(m, p1, 2 * PAGE_SIZE, 2);
    const d2 = fillPattern(m, p2, PAGE_SIZE, 3);

    const state = dmaIovaState();
    expect(dmaIovaTryAlloc(nvme, state, first, total)).toBe(true);
    expect(dmaUseIova(state)).toBe(true);
    expect(state.addr % PAGE_SIZE).toBe(0x200);
    expect(dmaIovaLink(nvme, state, first, 0, firstLen, DMA_TO_DEVICE)).toBe(0);
    expect(dmaIovaLink(nvme, state, p1, firstLen, 2 * PAGE_SIZE, DMA_TO_DEVICE)).toBe(0);
    expect(dmaIovaLink(nvme, state, p2, firstLen + 2 * PAGE_SIZE, PAGE_SIZE, DMA_TO_DEVICE)).toBe(0);
    expect(dmaIovaSync(nvme, state, 0, total)).toBe(0);

    const seen = m.smmu.deviceRead(nvme, state.addr, total);
    expect(seen).toBeInstanceOf(Uint8Array);
    const bytes = seen as Uint8Array;
    expect(bytes.subarray(0, firstLen)).toEqual(d0);
    expect(bytes.subarray(firstLen, firstLen + 2 * PAGE_SIZE)).toEqual(d1);
    expect(bytes.subarray(firstLen + 2 * PAGE_SIZE)).toEqual(d2);

    // unlink the middle, keep the space: the device faults there, the rest still reads
    dmaIovaUnlink(nvme, state, firstLen, 2 * PAGE_SIZE, DMA_TO_DEVICE);
    expect(m.smmu.deviceRead(nvme, state.addr + firstLen, 16)).toMatchObject({ ok: false, reason: 'translation' });
    expect(m.smmu.deviceRead(nvme, state.addr, 16)).toBeInstanceOf(Uint8Array);
    dmaIovaUnlink(nvme, state, 0, firstLen, DMA_TO_DEVICE);
    dmaIovaDestroy(nvme, state, 0, DMA_TO_DEVICE);
    expect(m.core.log.warnCount).toBe(0);
  });

  it('refuses an unaligned range after the first with -EIO', () => {
    const m = genericMachine();
    const dev = m.addDevice('nvme');
    const p = m.core.pages.allocPages(1)!;
    const state = dmaIovaState();
    expect(dmaIovaTryAlloc(dev, state, p, 2 * PAGE_SIZE)).toBe(true);
    expect(dmaIovaLink(dev, state, p + 0x100, PAGE_SIZE, 256, DMA_TO_DEVICE)).toBe(-EIO);
    expect(m.core.log.format().some((l) => l.includes('WARNING'))).toBe(true);
    dmaIovaDestroy(dev, state, 0, DMA_TO_DEVICE);
  });

  it('fails cleanly for a device not behind iommu-dma, so the caller falls back to map_sg', () => {
    const m = genericMachine();
    const plain = new Device('plain', new FwNode('plain'));
    m.bus.addDevice(plain);
    m.setup.dmaConfigure(plain);
    const p = m.core.pages.allocPages(0)!;
    const state = dmaIovaState();
    expect(dmaIovaTryAlloc(plain, state, p, 4 * KiB)).toBe(false);
    expect(dmaUseIova(state)).toBe(false);
    expect(dmaIovaLink(plain, state, p, 0, 4 * KiB, DMA_TO_DEVICE)).toBe(-EOPNOTSUPP);
    const sg = [sgInitOne(p, 4 * KiB)];
    expect(dmaMapSg(plain, sg, 1, DMA_TO_DEVICE)).toBe(1);
    expect(sg[0]!.dmaAddress).toBe(p);
  });
});
