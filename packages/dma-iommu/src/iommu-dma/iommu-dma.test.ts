import { Device, FwNode } from '@dmasim/bus';
import { EFAULT, GiB, KiB, KernelLog, KernelOops, PAGE_SIZE } from '@dmasim/core';
import {
  DMA_BIDIRECTIONAL,
  DMA_FROM_DEVICE,
  DMA_MAPPING_ERROR,
  DMA_TO_DEVICE,
  SgTable,
  dmaAllocCoherent,
  dmaFreeCoherent,
  dmaGetSgtable,
  dmaMapPage,
  dmaMapSg,
  dmaUnmapPage,
  dmaUnmapSg,
  type Scatterlist,
} from '@dmasim/dma-mapping';
import { FakeIommu, IommuCore } from '@dmasim/iommu-core';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { arm64Machine, genericMachine } from '../testing/env';
import { iommuDmaCookieOf, iommuGetDmaCookie } from './cookie';
import { GFP_ATOMIC } from './gfp';
import { iommuDmaInitDomain } from './init-domain';
import { iommuDmaAllocIova } from './iova-alloc';

function entry(phys: number, length: number): Scatterlist {
  const off = phys % PAGE_SIZE;
  return { pagePhys: phys - off, offset: off, length, dmaAddress: 0, dmaLength: 0 };
}

/** A 2015 arm64 machine with `sata` attached in the right order. */
function arm64Sata() {
  const m = arm64Machine(['sata']);
  m.iommuCore.iommuDeviceRegister(m.smmu.iommu);
  m.iommuCore.busSetIommu(m.bus, m.smmu.ops);
  m.setup.arm64IommuDmaInit([m.bus]);
  const sata = new Device('sata', new FwNode('sata', { iommus: [{ node: 'smmu0', args: [0] }] }));
  m.setup.ofDmaConfigure(sata);
  m.bus.addDevice(sata);
  return { ...m, sata };
}

describe('domain init', () => {
  function domain() {
    const core = new IommuCore({ log: new KernelLog() });
    const fake = new FakeIommu(core, { fwnode: 'smmu0' });
    const d = fake.ops.domainAlloc('DMA')!;
    d.pgsizeBitmap = fake.ops.pgsizeBitmap;
    expect(iommuGetDmaCookie(d)).toBe(0);
    return { d, log: core.log };
  }

  it('uses the smallest page size as granule and never hands out IOVA 0', () => {
    const { d, log } = domain();
    expect(iommuDmaInitDomain(d, 0, 4 * GiB, { log })).toBe(0);
    const cookie = iommuDmaCookieOf(d)!;
    expect(cookie.granule).toBe(4 * KiB);
    expect(cookie.iovad!.startPfn).toBe(1);
    const dev = new Device('d', new FwNode('d'));
    // fill the lowest pages: the allocator stops above page 0
    const got: number[] = [];
    for (;;) {
      const a = iommuDmaAllocIova(cookie, PAGE_SIZE, 16 * PAGE_SIZE - 1, dev, 'linux-6.x', log);
      if (a === 0) break;
      got.push(a);
    }
    expect(got.length).toBe(15);
    expect(Math.min(...got)).toBe(PAGE_SIZE);
  });

  it('refuses a range outside the aperture with -EFAULT, and a re-init may only enlarge', () => {
    const { d, log } = domain();
    expect(iommuDmaInitDomain(d, 2 ** 49, GiB, { log })).toBe(-EFAULT);
    expect(log.format().some((l) => l.includes('specified DMA range outside IOMMU capability'))).toBe(true);
    expect(iommuDmaInitDomain(d, 0, GiB, { log })).toBe(0);
    expect(iommuDmaInitDomain(d, 0, 2 * GiB, { log })).toBe(0);
    expect(iommuDmaInitDomain(d, 0, GiB, { log })).toBe(-EFAULT);
    expect(log.format().some((l) => l.includes('Incompatible range for DMA domain'))).toBe(true);
  });
});

describe('map and unmap of single buffers', () => {
  it('keeps the offset inside the granule and the device reads the bytes', () => {
    const m = genericMachine();
    const dev = m.addDevice('sata');
    const p = m.core.pages.allocPages(0)!;
    const data = Uint8Array.from({ length: 300 }, (_, i) => i % 256);
    m.core.cache.cpuWrite(p + 0x123, data);
    const addr = dmaMapPage(dev, p, 0x123, 300, DMA_TO_DEVICE);
    expect(addr).not.toBe(DMA_MAPPING_ERROR);
    expect(addr % PAGE_SIZE).toBe(0x123);
    expect(m.smmu.deviceRead(dev, addr, 300)).toEqual(data);
    dmaUnmapPage(dev, addr, 300, DMA_TO_DEVICE);
    expect(m.smmu.deviceRead(dev, addr, 1)).toMatchObject({ ok: false });
  });

  it('linux-6.x: a double unmap warns once and the kernel goes on', () => {
    const m = genericMachine();
    const dev = m.addDevice('sata');
    const p = m.core.pages.allocPages(0)!;
    const addr = dmaMapPage(dev, p, 0, PAGE_SIZE, DMA_TO_DEVICE);
    dmaUnmapPage(dev, addr, PAGE_SIZE, DMA_TO_DEVICE);
    const warns = m.core.log.warnCount;
    dmaUnmapPage(dev, addr, PAGE_SIZE, DMA_TO_DEVICE);
    expect(m.core.log.warnCount).toBe(warns + 1);
    expect(m.core.log.format().some((l) => l.includes('iommu_dma_unmap_page'))).toBe(true);
    // still working afterwards
    const again = dmaMapPage(dev, p, 0, PAGE_SIZE, DMA_TO_DEVICE);
    expect(again).not.toBe(DMA_MAPPING_ERROR);
  });

  it('linux-4.2: a double unmap kills the simulated kernel', () => {
    const m = arm64Sata();
    const p = m.core.pages.allocPages(0)!;
    const addr = dmaMapPage(m.sata, p, 0, PAGE_SIZE, DMA_TO_DEVICE);
    expect(addr).not.toBe(DMA_MAPPING_ERROR);
    dmaUnmapPage(m.sata, addr, PAGE_SIZE, DMA_TO_DEVICE);
    expect(() => dmaUnmapPage(m.sata, addr, PAGE_SIZE, DMA_TO_DEVICE)).toThrow(KernelOops);
    expect(m.core.log.format().some((l) => l.includes('Unable to handle kernel NULL pointer dereference'))).toBe(true);
  });

  it('linux-6.x: a PCI device gets 32-bit IOVAs first and gives that up after one failure', () => {
    const m = genericMachine();
    const dev = m.addDevice('nic');
    dev.bus = { name: 'pci' };
    dev.dma.maskBits = 40;
    const cookie = m.dma.cookieFor(dev)!;
    const first = iommuDmaAllocIova(cookie, PAGE_SIZE, dev.dmaMaskLimit, dev, 'linux-6.x', m.core.log);
    expect(first).toBeLessThan(2 ** 32);
    // fill the space below 4 GiB with one reservation, then the next allocation goes high
    cookie.iovad!.reserveIova(1, 2 ** 20 - 1);
    const high = iommuDmaAllocIova(cookie, PAGE_SIZE, dev.dmaMaskLimit, dev, 'linux-6.x', m.core.log);
    expect(high).toBeGreaterThanOrEqual(2 ** 32);
    expect(m.core.log.format().filter((l) => l.includes('Using 40-bit DMA addresses'))).toHaveLength(1);
  });
});

describe('segment boundaries in map_sg', () => {
  // a 12 KiB segment then a 64 KiB one, boundary every 64 KiB, max segment 64 KiB
  function boundaryCase(dev: Device, alloc: (order: number) => number) {
    dev.dma.segmentBoundaryMask = 64 * KiB - 1;
    dev.dma.maxSegmentSize = 64 * KiB;
    const a = alloc(2);
    const b = alloc(4);
    const sgl = [entry(a, 12 * KiB), entry(b, 64 * KiB)];
    const n = dmaMapSg(dev, sgl, 2, DMA_TO_DEVICE);
    expect(n).toBe(2);
    const seg = sgl[1]!;
    const crosses = Math.floor(seg.dmaAddress / (64 * KiB)) !== Math.floor((seg.dmaAddress + seg.dmaLength - 1) / (64 * KiB));
    return { sgl, crosses };
  }

  it('linux-4.2: the segment after a non-power-of-two one straddles the boundary', () => {
    const m = arm64Sata();
    const { crosses } = boundaryCase(m.sata, (o) => m.core.pages.allocPages(o)!);
    expect(crosses).toBe(true);
  });

  it('linux-6.x: padding starts it on the boundary, and the data reads back through the IOMMU', () => {
    const m = genericMachine();
    const dev = m.addDevice('sata');
    const { sgl, crosses } = boundaryCase(dev, (o) => m.core.pages.allocPages(o)!);
    expect(crosses).toBe(false);
    expect(sgl[1]!.dmaAddress % (64 * KiB)).toBe(0);
    const data = Uint8Array.from({ length: 64 * KiB }, (_, i) => (i * 13) % 256);
    m.core.cache.cpuWrite(sgl[1]!.pagePhys + sgl[1]!.offset, data);
    dmaUnmapSg(dev, sgl, 2, DMA_TO_DEVICE);
    expect(dmaMapSg(dev, sgl, 2, DMA_TO_DEVICE)).toBe(2);
    expect(m.smmu.deviceRead(dev, sgl[1]!.dmaAddress, 64 * KiB)).toEqual(data);
  });
});

describe('map_sg merging (linux-6.x, property)', () => {
  it('keeps the total length, never crosses a boundary, never exceeds the max segment, and restores the list', () => {
    const m = genericMachine();
    const dev = m.addDevice('sata');
    const pages = Array.from({ length: 16 }, () => m.core.pages.allocPages(4)!);
    fc.assert(
      fc.property(
        fc.constantFrom(16 * KiB - 1, 64 * KiB - 1, 2 ** 32 - 1),
        fc.integer({ min: 1, max: 16 }).map((n) => n * 4 * KiB),
        fc.array(fc.record({ off: fc.integer({ min: 0, max: 3 * KiB }), len: fc.integer({ min: 1, max: 64 * KiB }), aligned: fc.boolean() }), { minLength: 1, maxLength: 16 }),
        (mask, maxSeg, raw) => {
          dev.dma.segmentBoundaryMask = mask;
          dev.dma.maxSegmentSize = maxSeg;
          const limit = Math.min(maxSeg, mask + 1);
          const sgl = raw.map((r, i) => {
            const off = r.aligned ? 0 : r.off;
            const len = Math.max(1, Math.min(r.len, limit - off));
            return entry(pages[i]! + off, len);
          });
          const before = sgl.map((s) => ({ ...s }));
          const n = dmaMapSg(dev, sgl, sgl.length, DMA_BIDIRECTIONAL);
          expect(n).toBeGreaterThan(0);
          let total = 0;
          for (let i = 0; i < n; i++) {
            const s = sgl[i]!;
            total += s.dmaLength;
            expect(s.dmaLength).toBeLessThanOrEqual(maxSeg);
            expect(Math.floor(s.dmaAddress / (mask + 1))).toBe(Math.floor((s.dmaAddress + s.dmaLength - 1) / (mask + 1)));
          }
          expect(total).toBe(before.reduce((a, s) => a + s.length, 0));
          for (let i = 0; i < sgl.length; i++) {
            expect(sgl[i]!.pagePhys + sgl[i]!.offset).toBe(before[i]!.pagePhys + before[i]!.offset);
            expect(sgl[i]!.length).toBe(before[i]!.length);
          }
          dmaUnmapSg(dev, sgl, sgl.length, DMA_BIDIRECTIONAL);
        },
      ),
      { numRuns: 200 },
    );
    expect(m.core.log.warnCount).toBe(0);
  });

  it('restores the list when there is no IOVA space', () => {
    const m = genericMachine();
    const dev = m.addDevice('sata');
    dev.dma.maskBits = 13; // two pages of IOVA space, page 0 excluded: one page
    const p = m.core.pages.allocPages(2)!;
    const sgl = [entry(p + 0x10, 3 * PAGE_SIZE)];
    expect(dmaMapSg(dev, sgl, 1, DMA_TO_DEVICE)).toBe(0);
    expect(sgl[0]).toMatchObject({ pagePhys: p, offset: 0x10, length: 3 * PAGE_SIZE, dmaAddress: DMA_MAPPING_ERROR, dmaLength: 0 });
  });
});

describe('strict vs lazy invalidation', () => {
  function staleWindow(strict: boolean) {
    const m = genericMachine({ strict });
    const dev = m.addDevice('nic');
    const p = m.core.pages.allocPages(0)!;
    const addr = dmaMapPage(dev, p, 0, PAGE_SIZE, DMA_FROM_DEVICE);
    expect(m.smmu.deviceWrite(dev, addr, new Uint8Array(8).fill(1))).toEqual({ ok: true });
    dmaUnmapPage(dev, addr, PAGE_SIZE, DMA_FROM_DEVICE);
    const afterUnmap = m.smmu.deviceWrite(dev, addr, new Uint8Array(8).fill(2));
    m.core.sched.runUntilIdle();
    const afterTimer = m.smmu.deviceWrite(dev, addr, new Uint8Array(8).fill(3));
    return { afterUnmap, afterTimer, m, p };
  }

  it('strict: the device loses access the moment the buffer is unmapped', () => {
    const { afterUnmap } = staleWindow(true);
    expect(afterUnmap).toMatchObject({ ok: false, reason: 'translation' });
  });

  it('lazy: the stale IOTLB entry lets the device write after unmap until the flush queue times out', () => {
    const { afterUnmap, afterTimer, m, p } = staleWindow(false);
    expect(afterUnmap).toEqual({ ok: true });
    expect(m.core.memory.readBytes(p, 1)![0]).toBe(2);
    expect(afterTimer).toMatchObject({ ok: false, reason: 'translation' });
    expect(m.core.sched.now).toBeGreaterThanOrEqual(10e6);
  });
});

describe('coherent allocations', () => {
  it('builds a buffer from pages, maps it contiguously and describes it as a table', () => {
    const m = genericMachine();
    const dev = m.addDevice('gpu');
    const buf = dmaAllocCoherent(dev, 5 * PAGE_SIZE)!;
    expect(buf).not.toBeNull();
    const sgt = new SgTable();
    expect(dmaGetSgtable(dev, sgt, buf.cpuAddr, buf.dmaHandle, 5 * PAGE_SIZE)).toBe(0);
    // the device sees zeroes everywhere, then what the CPU writes through each page
    expect(m.smmu.deviceRead(dev, buf.dmaHandle, 5 * PAGE_SIZE)).toEqual(new Uint8Array(5 * PAGE_SIZE));
    let off = 0;
    for (let i = 0; i < sgt.origNents; i++) {
      const s = sgt.sgl[i]!;
      m.core.cache.cpuWrite(s.pagePhys + s.offset, new Uint8Array(s.length).fill(i + 1), 'uncached');
      const seen = m.smmu.deviceRead(dev, buf.dmaHandle + off, s.length) as Uint8Array;
      expect(seen.every((b) => b === i + 1)).toBe(true);
      off += s.length;
    }
    dmaFreeCoherent(dev, 5 * PAGE_SIZE, buf.cpuAddr, buf.dmaHandle);
    expect(m.smmu.deviceRead(dev, buf.dmaHandle, 1)).toMatchObject({ ok: false });
  });

  it('takes allocations that cannot sleep from the atomic pool for a non-coherent device', () => {
    const m = genericMachine();
    const dev = m.addDevice('dma');
    const pool = m.dma.atomicPool!;
    const buf = dmaAllocCoherent(dev, PAGE_SIZE, GFP_ATOMIC)!;
    expect(pool.contains(buf.cpuAddr, PAGE_SIZE)).toBe(true);
    expect(buf.mapping).toBe('uncached');
    expect(pool.usedPages).toBe(1);
    dmaFreeCoherent(dev, PAGE_SIZE, buf.cpuAddr, buf.dmaHandle);
    expect(pool.usedPages).toBe(0);
  });
});
