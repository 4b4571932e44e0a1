/**
 * iommu-dma over real SMMU hardware: an MMU-500 (stage 1) or MMU-401 (stage 2) probed and driven
 * by the arm-smmu driver, the device's default domain, and every byte the device sees taken
 * through `SmmuHardware.translate` (stream match, IOTLB, table walk) and the cache model.
 */
import { PAGE_SIZE } from '@dmasim/core';
import {
  DMA_FROM_DEVICE,
  DMA_TO_DEVICE,
  dmaMapPage,
  dmaMapSg,
  dmaUnmapPage,
  dmaUnmapSg,
  type Scatterlist,
} from '@dmasim/dma-mapping';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { smmuMachine, type SmmuMachine } from '../testing/smmu-machine';
import { dmaIovaDestroy, dmaIovaLink, dmaIovaState, dmaIovaSync, dmaIovaTryAlloc, dmaIovaUnlink } from '../iova-state/dma-iova';
import { iommuDmaCookieOf } from './cookie';

const SID = 0x21;

function pattern(len: number, seed: number): Uint8Array {
  const data = new Uint8Array(len);
  for (let i = 0; i < len; i++) data[i] = (i * 13 + seed * 7 + 1) % 251;
  return data;
}

/** A device read of `len` bytes at `iova`, page by page through the SMMU; null at the first fault. */
function deviceRead(m: SmmuMachine, iova: number, len: number, coherent: boolean): Uint8Array | null {
  const out = new Uint8Array(len);
  for (let done = 0; done < len; ) {
    const t = m.hw.translate(SID, iova + done, 'read', 1);
    if (!t.ok) return null;
    const n = Math.min(len - done, PAGE_SIZE - ((iova + done) % PAGE_SIZE));
    m.core.cache.deviceRead(t.phys, out.subarray(done, done + n), coherent);
    done += n;
  }
  return out;
}

/** A device write through the SMMU; false at the first fault. */
function deviceWrite(m: SmmuMachine, iova: number, data: Uint8Array, coherent: boolean): boolean {
  for (let done = 0; done < data.length; ) {
    const t = m.hw.translate(SID, iova + done, 'write', 1);
    if (!t.ok) return false;
    const n = Math.min(data.length - done, PAGE_SIZE - ((iova + done) % PAGE_SIZE));
    m.core.cache.deviceWrite(t.phys, data.subarray(done, done + n), coherent);
    done += n;
  }
  return true;
}

describe.each(['mmu-500', 'mmu-401'] as const)('iommu-dma on an %s with the arm-smmu driver', (model) => {
  it('map_page round trip: a non-coherent device reads what the CPU wrote and the CPU reads what it wrote', () => {
    const m = smmuMachine({ model });
    const dev = m.addMaster('nic', SID, false);
    expect(m.iommu.iommuGetDmaDomain(dev)?.type).toBe('DMA');
    const buf = m.core.pages.allocPages(1)!; // two pages: the buffer crosses a page boundary
    const off = 0x123;
    const len = PAGE_SIZE + 0x456;
    const out = pattern(len, 1);
    m.core.cache.cpuWrite(buf + off, out); // still dirty in the CPU cache: map must clean it
    const handle = dmaMapPage(dev, buf, off, len, DMA_TO_DEVICE);
    expect(handle % PAGE_SIZE).toBe(off);
    expect(deviceRead(m, handle, len, false)).toEqual(out);
    expect(m.hw.translate(SID, handle, 'write').ok).toBe(false); // TO_DEVICE maps read-only
    dmaUnmapPage(dev, handle, len, DMA_TO_DEVICE);
    expect(deviceRead(m, handle, 1, false)).toBeNull(); // strict: gone from the IOTLB too

    const back = pattern(len, 2);
    const rx = dmaMapPage(dev, buf, off, len, DMA_FROM_DEVICE);
    const stale = new Uint8Array(len);
    m.core.cache.cpuRead(buf + off, stale); // lines the CPU holds: unmap must invalidate them
    expect(deviceWrite(m, rx, back, false)).toBe(true);
    dmaUnmapPage(dev, rx, len, DMA_FROM_DEVICE);
    const seen = new Uint8Array(len);
    m.core.cache.cpuRead(buf + off, seen);
    expect(seen).toEqual(back);
  });

  it('map_sg: each DMA segment reads the entries it covers, byte for byte', () => {
    const m = smmuMachine({ model });
    const dev = m.addMaster('disk', SID);
    const parts = [
      { off: 0x80, len: 0x300 },
      { off: 0, len: PAGE_SIZE },
      { off: 0, len: 2 * PAGE_SIZE },
      { off: 0x200, len: 0x1000 },
      { off: 0, len: 0x10 },
    ];
    const sgl: Scatterlist[] = [];
    const datas: Uint8Array[] = [];
    parts.forEach((p, i) => {
      const page = m.core.pages.allocPages(1)!;
      const d = pattern(p.len, 10 + i);
      m.core.cache.cpuWrite(page + p.off, d);
      sgl.push({ pagePhys: page, offset: p.off, length: p.len, dmaAddress: 0, dmaLength: 0 });
      datas.push(d);
    });
    const count = dmaMapSg(dev, sgl, sgl.length, DMA_TO_DEVICE);
    expect(count).toBeGreaterThan(0);
    const device: number[] = [];
    for (let i = 0; i < count; i++) {
      const got = deviceRead(m, sgl[i]!.dmaAddress, sgl[i]!.dmaLength, true);
      expect(got).not.toBeNull();
      device.push(...got!);
    }
    const cpu: number[] = [];
    for (const d of datas) cpu.push(...d);
    expect(device).toEqual(cpu);
    const first = sgl[0]!.dmaAddress;
    dmaUnmapSg(dev, sgl, sgl.length, DMA_TO_DEVICE);
    expect(deviceRead(m, first, 1, true)).toBeNull();
  });

  it('two-step API: an unaligned first address and several linked ranges, read through the SMMU', () => {
    const m = smmuMachine({ model });
    const nvme = m.addMaster('nvme', SID);
    const p0 = m.core.pages.allocPages(0)!;
    const p1 = m.core.pages.allocPages(1)!;
    const p2 = m.core.pages.allocPages(0)!;
    const first = p0 + 0x234;
    const firstLen = PAGE_SIZE - 0x234;
    const total = firstLen + 3 * PAGE_SIZE;
    const d0 = pattern(firstLen, 3);
    const d1 = pattern(2 * PAGE_SIZE, 4);
    const d2 = pattern(PAGE_SIZE, 5);
    m.core.cache.cpuWrite(first, d0);
    m.core.cache.cpuWrite(p1, d1);
    m.core.cache.cpuWrite(p2, d2);

    const state = dmaIovaState();
    expect(dmaIovaTryAlloc(nvme, state, first, total)).toBe(true);
    expect(state.addr % PAGE_SIZE).toBe(0x234);
    expect(dmaIovaLink(nvme, state, first, 0, firstLen, DMA_TO_DEVICE)).toBe(0);
    expect(dmaIovaLink(nvme, state, p1, firstLen, 2 * PAGE_SIZE, DMA_TO_DEVICE)).toBe(0);
    expect(dmaIovaLink(nvme, state, p2, firstLen + 2 * PAGE_SIZE, PAGE_SIZE, DMA_TO_DEVICE)).toBe(0);
    expect(dmaIovaSync(nvme, state, 0, total)).toBe(0);
    const seen = deviceRead(m, state.addr, total, true)!;
    expect(seen.subarray(0, firstLen)).toEqual(d0);
    expect(seen.subarray(firstLen, firstLen + 2 * PAGE_SIZE)).toEqual(d1);
    expect(seen.subarray(firstLen + 2 * PAGE_SIZE)).toEqual(d2);
    // the granule before the first byte belongs to the mapping too, but nothing past the end does
    expect(m.hw.translate(SID, state.addr - 0x234, 'read').ok).toBe(true);
    expect(m.hw.translate(SID, state.addr + total, 'read').ok).toBe(false);

    dmaIovaUnlink(nvme, state, firstLen, 2 * PAGE_SIZE, DMA_TO_DEVICE);
    expect(deviceRead(m, state.addr + firstLen, 16, true)).toBeNull();
    expect(deviceRead(m, state.addr, firstLen, true)).toEqual(d0);
    dmaIovaDestroy(nvme, state, total, DMA_TO_DEVICE);
    expect(deviceRead(m, state.addr, 1, true)).toBeNull();
  });
});

describe('strict vs lazy invalidation through the SMMU IOTLB', () => {
  function mappedAndCached(strict: boolean) {
    const m = smmuMachine({ strict });
    const dev = m.addMaster('nic', SID);
    const page = m.core.pages.allocPages(0)!;
    const data = pattern(PAGE_SIZE, 9);
    m.core.cache.cpuWrite(page, data);
    const handle = dmaMapPage(dev, page, 0, PAGE_SIZE, DMA_TO_DEVICE);
    expect(deviceRead(m, handle, PAGE_SIZE, true)).toEqual(data); // the translation is now in the IOTLB
    const misses = m.hw.counters.misses;
    expect(deviceRead(m, handle, 64, true)).toEqual(data.subarray(0, 64));
    expect(m.hw.counters.misses).toBe(misses); // ... and served from it
    dmaUnmapPage(dev, handle, PAGE_SIZE, DMA_TO_DEVICE);
    return { m, dev, page, data, handle };
  }

  it('strict: once unmap returns, the device faults and the IOVA is free for reuse', () => {
    const { m, dev, page, handle } = mappedAndCached(true);
    expect(m.iommu.iommuGetDmaDomain(dev)?.type).toBe('DMA');
    expect(deviceRead(m, handle, 1, true)).toBeNull();
    expect(dmaMapPage(dev, page, 0, PAGE_SIZE, DMA_TO_DEVICE)).toBe(handle);
  });

  it('lazy: the device still reads the old page through the stale IOTLB entry until the flush-queue timer', () => {
    const { m, dev, page, data, handle } = mappedAndCached(false);
    expect(m.iommu.iommuGetDmaDomain(dev)?.type).toBe('DMA_FQ');
    const fq = iommuDmaCookieOf(m.iommu.iommuGetDmaDomain(dev)!)!.fq!;
    expect(fq.length).toBe(1);
    expect(fq.timerPending).toBe(true);
    expect(deviceRead(m, handle, PAGE_SIZE, true)).toEqual(data); // stale, but served
    // the queued IOVA is not handed out again before the flush
    const other = dmaMapPage(dev, page, 0, PAGE_SIZE, DMA_TO_DEVICE);
    expect(other).not.toBe(handle);
    dmaUnmapPage(dev, other, PAGE_SIZE, DMA_TO_DEVICE);
    m.core.sched.runUntilIdle(); // 10 ms later: fq_flush_timeout flushes the whole IOTLB
    expect(fq.flushes).toBe(1);
    expect(fq.length).toBe(0);
    expect(deviceRead(m, handle, 1, true)).toBeNull();
    expect(deviceRead(m, other, 1, true)).toBeNull();
  });

  it('lazy: a full queue flushes by itself, so IOVA space never runs out under a map/unmap loop', () => {
    const m = smmuMachine({ strict: false });
    const dev = m.addMaster('nic', SID);
    const fq = iommuDmaCookieOf(m.iommu.iommuGetDmaDomain(dev)!)!.fq!;
    const page = m.core.pages.allocPages(0)!;
    const seen = new Set<number>();
    for (let i = 0; i < 3 * fq.size; i++) {
      const h = dmaMapPage(dev, page, 0, PAGE_SIZE, DMA_TO_DEVICE);
      seen.add(h);
      dmaUnmapPage(dev, h, PAGE_SIZE, DMA_TO_DEVICE);
    }
    expect(fq.flushes).toBeGreaterThanOrEqual(2);
    expect(fq.length).toBeLessThan(fq.size);
    // IOVAs come back through the range caches: the loop cycles over about one queue's worth
    expect(seen.size).toBeLessThanOrEqual(fq.size + 1);
  });
});

describe('map_page property: any offset and length round-trips through the SMMU', () => {
  it.each([true, false])('strict=%s', (strict) => {
    const m = smmuMachine({ strict });
    const dev = m.addMaster('nic', SID);
    const buf = m.core.pages.allocPages(2)!; // 16 KiB
    fc.assert(
      fc.property(fc.integer({ min: 0, max: PAGE_SIZE - 1 }), fc.integer({ min: 1, max: 3 * PAGE_SIZE }), fc.nat(250), (off, len, seed) => {
        const data = pattern(len, seed);
        m.core.cache.cpuWrite(buf + off, data);
        const h = dmaMapPage(dev, buf, off, len, DMA_TO_DEVICE);
        const ok = h % PAGE_SIZE === off && deviceRead(m, h, len, true)?.every((b, i) => b === data[i]) === true;
        dmaUnmapPage(dev, h, len, DMA_TO_DEVICE);
        return ok && (!strict || deviceRead(m, h, 1, true) === null);
      }),
      { numRuns: 40, seed: 7 },
    );
  });
});
