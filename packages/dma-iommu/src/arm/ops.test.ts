import { KiB, MiB, PAGE_SIZE } from '@dmasim/core';
import {
  DMA_ATTR_SKIP_CPU_SYNC,
  DMA_MAPPING_ERROR,
  SgTable,
  dmaAllocCoherent,
  dmaFreeCoherent,
  dmaGetSgtable,
  dmaMapSg,
  dmaMapSingle,
  dmaMappingError,
  dmaSyncSingleForCpu,
  dmaUnmapSg,
  dmaUnmapSingle,
  getDmaOps,
  type Scatterlist,
} from '@dmasim/dma-mapping';
import { iommuIovaToPhys } from '@dmasim/iommu-core';
import { describe, expect, it } from 'vitest';
import { armIommuAttachDevice, armIommuDetachDevice, toDmaIommuMapping } from './attach';
import { armIommuCreateMapping, armIommuReleaseMapping, type ArmMappingOptions } from './create';
import type { DmaIommuMapping } from './mapping';
import type { ArmIommuCoherentBuffer } from './ops';
import { armIommuOps } from './ops-registry';
import { armDevice, armRig, devicePort, pattern, type ArmRig } from './test-rig';

const BASE = 0x80000000;

function setup(options: ArmMappingOptions = {}, size = 512 * KiB, coherent = false) {
  const r = armRig(256 * MiB);
  const dev = armDevice(r, 'xgmac', coherent);
  const m = armIommuCreateMapping(r.env, r.bus, BASE, size, options);
  if (typeof m === 'number') throw new Error(`create failed: ${m}`);
  expect(armIommuAttachDevice(dev, m)).toBe(0);
  return { r, dev, m, port: devicePort(r, dev, m.domain) };
}

function cpuBuffer(r: ArmRig, bytes: Uint8Array): number {
  const phys = r.core.pages.allocPagesExact(bytes.length, {})!;
  r.core.cache.cpuWrite(phys, bytes);
  return phys;
}

describe('arm IOMMU ops: the Calxeda xgmac packet churn through the DMA API', () => {
  function run(options: ArmMappingOptions) {
    const { r, dev, port } = setup(options);
    const live: { handle: number; data: Uint8Array; buf: number }[] = [];
    for (let p = 1; p <= 600; p++) {
      if (live.length === 256) {
        const old = live.shift()!;
        dmaUnmapSingle(dev, old.handle, old.data.length, 'to-device');
        r.core.pages.freePagesExact(old.buf, old.data.length);
      }
      const data = pattern(1514, p);
      const buf = cpuBuffer(r, data);
      const handle = dmaMapSingle(dev, buf, data.length, 'to-device');
      if (dmaMappingError(dev, handle) !== 0) return { failedAt: p, handle, live };
      // the NIC fetches the packet through the IOMMU: every byte as the CPU wrote it
      const seen = new Uint8Array(data.length);
      expect(port.read(handle, seen).ok).toBe(true);
      expect(Buffer.compare(seen, data)).toBe(0);
      live.push({ handle, data, buf });
    }
    return { failedAt: null, handle: 0, live };
  }

  it('without growth the 129th packet fails with DMA_MAPPING_ERROR', () => {
    const res = run({ growSize: 512 * KiB, maxSize: 512 * KiB });
    expect(res.failedAt).toBe((512 * KiB) / PAGE_SIZE + 1);
    expect(res.handle).toBe(DMA_MAPPING_ERROR);
  });

  it('with growth (512 KiB steps up to 128 MiB) every packet is mapped and read back intact', () => {
    const res = run({ growSize: 512 * KiB, maxSize: 128 * MiB });
    expect(res.failedAt).toBeNull();
    expect(res.live).toHaveLength(256);
  });
});

describe('arm IOMMU ops: map_page / unmap_page', () => {
  it('keeps the offset inside the page and unmaps the IOVA and its bits', () => {
    const { r, dev, m, port } = setup({}, 1 * MiB);
    const data = pattern(6000, 7);
    const page = r.core.pages.allocPagesExact(3 * PAGE_SIZE, {})!;
    r.core.cache.cpuWrite(page + 100, data);
    const handle = dmaMapSingle(dev, page + 100, data.length, 'to-device');
    expect(handle % PAGE_SIZE).toBe(100);
    // 100 + 6000 bytes cover two pages, which is order 1: the IOVA is two-page aligned
    expect((handle - 100 - BASE) % (2 * PAGE_SIZE)).toBe(0);
    const seen = new Uint8Array(data.length);
    expect(port.read(handle, seen).ok).toBe(true);
    expect(seen).toEqual(data);
    expect(m.bitsInUse).toBe(2);
    dmaUnmapSingle(dev, handle, data.length, 'to-device');
    expect(m.bitsInUse).toBe(0);
    expect(iommuIovaToPhys(m.domain, handle - 100)).toBe(0);
    expect(port.read(handle, seen).ok).toBe(false);
  });

  it('a non-coherent device reads stale memory when the CPU sync is skipped, current data otherwise', () => {
    const { r, dev, port } = setup();
    const buf = cpuBuffer(r, pattern(PAGE_SIZE, 1));
    r.core.cache.cpuWrite(buf, pattern(PAGE_SIZE, 2)); // dirty in the CPU cache
    const skipped = dmaMapSingle(dev, buf, PAGE_SIZE, 'to-device', DMA_ATTR_SKIP_CPU_SYNC);
    const seen = new Uint8Array(PAGE_SIZE);
    port.read(skipped, seen);
    expect(seen).not.toEqual(pattern(PAGE_SIZE, 2));
    dmaUnmapSingle(dev, skipped, PAGE_SIZE, 'to-device', DMA_ATTR_SKIP_CPU_SYNC);
    const synced = dmaMapSingle(dev, buf, PAGE_SIZE, 'to-device');
    port.read(synced, seen);
    expect(seen).toEqual(pattern(PAGE_SIZE, 2));
  });

  it('the CPU sees what the device wrote only after unmap / sync_for_cpu (non-coherent)', () => {
    const { r, dev, port } = setup();
    const buf = cpuBuffer(r, new Uint8Array(PAGE_SIZE));
    const cpu = new Uint8Array(PAGE_SIZE);
    r.core.cache.cpuRead(buf, cpu); // lines now cached
    const handle = dmaMapSingle(dev, buf, PAGE_SIZE, 'from-device');
    expect(port.write(handle, pattern(PAGE_SIZE, 9)).ok).toBe(true);
    r.core.cache.cpuRead(buf, cpu);
    expect(cpu).not.toEqual(pattern(PAGE_SIZE, 9));
    dmaSyncSingleForCpu(dev, handle, PAGE_SIZE, 'from-device');
    r.core.cache.cpuRead(buf, cpu);
    expect(cpu).toEqual(pattern(PAGE_SIZE, 9));
    dmaUnmapSingle(dev, handle, PAGE_SIZE, 'from-device');
  });

  it('a coherent device gets the coherent ops and snoops the CPU cache without maintenance', () => {
    const { r, dev, port } = setup({}, 512 * KiB, true);
    expect(getDmaOps(dev)).toBe(armIommuOps(r.env).coherentOps);
    const buf = cpuBuffer(r, pattern(PAGE_SIZE, 3));
    r.core.cache.cpuWrite(buf, pattern(PAGE_SIZE, 4));
    const handle = dmaMapSingle(dev, buf, PAGE_SIZE, 'to-device');
    expect(r.core.cache.hasDirty(buf, PAGE_SIZE)).toBe(true); // nothing was cleaned
    const seen = new Uint8Array(PAGE_SIZE);
    port.read(handle, seen);
    expect(seen).toEqual(pattern(PAGE_SIZE, 4));
  });
});

describe('arm IOMMU ops: map_sg in contiguous chunks (__map_sg_chunk)', () => {
  it('merges page-aligned entries into one IOVA chunk and starts a new one at an offset', () => {
    const { r, dev, m, port } = setup({}, 4 * MiB);
    const pages = [0, 1, 2, 3].map(() => r.core.pages.allocPages(0, {})!);
    const sgl: Scatterlist[] = [
      { pagePhys: pages[0]!, offset: 0, length: PAGE_SIZE, dmaAddress: 0, dmaLength: 0 },
      { pagePhys: pages[1]!, offset: 0, length: PAGE_SIZE, dmaAddress: 0, dmaLength: 0 },
      { pagePhys: pages[2]!, offset: 0, length: 1000, dmaAddress: 0, dmaLength: 0 },
      { pagePhys: pages[3]!, offset: 512, length: 2048, dmaAddress: 0, dmaLength: 0 },
    ];
    const datas = sgl.map((s, i) => pattern(s.length, 20 + i));
    sgl.forEach((s, i) => r.core.cache.cpuWrite(s.pagePhys + s.offset, datas[i]!));
    const n = dmaMapSg(dev, sgl, sgl.length, 'to-device');
    // entries 0-2 form one chunk (the third ends mid-page, which closes it); entry 3 has an offset
    expect(n).toBe(2);
    expect(sgl[0]!.dmaLength).toBe(2 * PAGE_SIZE + 1000);
    expect(sgl[1]!.dmaAddress).toBe(sgl[0]!.dmaAddress + 3 * PAGE_SIZE + 512);
    expect(sgl[1]!.dmaLength).toBe(2048);
    expect([sgl[2]!.dmaLength, sgl[3]!.dmaLength]).toEqual([0, 0]);
    const chunk = new Uint8Array(2 * PAGE_SIZE + 1000);
    expect(port.read(sgl[0]!.dmaAddress, chunk).ok).toBe(true);
    expect(chunk.subarray(0, PAGE_SIZE)).toEqual(datas[0]);
    expect(chunk.subarray(PAGE_SIZE, 2 * PAGE_SIZE)).toEqual(datas[1]);
    expect(chunk.subarray(2 * PAGE_SIZE)).toEqual(datas[2]);
    const tail = new Uint8Array(2048);
    port.read(sgl[1]!.dmaAddress, tail);
    expect(tail).toEqual(datas[3]);
    dmaUnmapSg(dev, sgl, sgl.length, 'to-device');
    expect(m.bitsInUse).toBe(0);
  });

  it('splits chunks at the max segment size and undoes everything when IOVA space runs out', () => {
    const { r, dev, m } = setup({ growSize: 0 }, 128 * KiB);
    dev.dma.maxSegmentSize = 2 * PAGE_SIZE;
    const sgl: Scatterlist[] = Array.from({ length: 40 }, () => ({ pagePhys: r.core.pages.allocPages(0, {})!, offset: 0, length: PAGE_SIZE, dmaAddress: 0, dmaLength: 0 }));
    // 40 pages in chunks of 2 need 160 KiB of a 128 KiB mapping
    expect(dmaMapSg(dev, sgl, sgl.length, 'to-device')).toBe(0);
    expect(m.bitsInUse).toBe(0);
    expect(r.smmu.domains.find((d) => d === m.domain)!.ptes.size).toBe(0);
    const n = dmaMapSg(dev, sgl, 32, 'to-device');
    expect(n).toBe(16);
    expect(sgl.slice(0, 16).every((s) => s.dmaLength === 2 * PAGE_SIZE)).toBe(true);
    expect(m.bitsInUse).toBe(32);
  });
});

describe('arm IOMMU ops: coherent buffers', () => {
  it('gathers pages, maps them contiguously, and gives everything back on free', () => {
    const { r, dev, m, port } = setup({}, 4 * MiB);
    const before = r.core.pages.freePagesTotal;
    const buf = dmaAllocCoherent(dev, 5 * PAGE_SIZE) as ArmIommuCoherentBuffer;
    expect(buf).not.toBeNull();
    expect(buf.pages).toHaveLength(5);
    expect(buf.mapping).toBe('uncached');
    expect(port.write(buf.dmaHandle, pattern(5 * PAGE_SIZE, 5)).ok).toBe(true);
    const cpu = new Uint8Array(PAGE_SIZE);
    buf.pages.forEach((p, i) => {
      r.core.cache.cpuRead(p, cpu, 'uncached');
      expect(cpu).toEqual(pattern(5 * PAGE_SIZE, 5).subarray(i * PAGE_SIZE, (i + 1) * PAGE_SIZE));
    });
    const sgt = new SgTable();
    expect(dmaGetSgtable(dev, sgt, buf.cpuAddr, buf.dmaHandle, buf.size)).toBe(0);
    expect(sgt.totalLength).toBe(5 * PAGE_SIZE);
    dmaFreeCoherent(dev, buf.size, buf.cpuAddr, buf.dmaHandle);
    expect(r.core.pages.freePagesTotal).toBe(before);
    expect(m.bitsInUse).toBe(0);
  });

  it('maps scattered pages back to back in IOVA space when memory is fragmented', () => {
    const { r, dev, port } = setup({}, 4 * MiB);
    // leave no free run of two pages: take everything, give back every other page
    const held: number[] = [];
    for (let p = r.core.pages.allocPages(0, {}); p !== null; p = r.core.pages.allocPages(0, {})) held.push(p);
    held.sort((a, b) => a - b);
    for (let i = 0; i < 8; i += 2) r.core.pages.freePages(held[i]!, 0);
    const buf = dmaAllocCoherent(dev, 3 * PAGE_SIZE) as ArmIommuCoherentBuffer;
    expect(buf.cpuContiguous).toBe(false);
    expect(new Set(buf.pages).size).toBe(3);
    const data = pattern(3 * PAGE_SIZE, 11);
    expect(port.write(buf.dmaHandle, data).ok).toBe(true);
    buf.pages.forEach((p, i) => expect(r.core.memory.readBytes(p, PAGE_SIZE)).toEqual(data.subarray(i * PAGE_SIZE, (i + 1) * PAGE_SIZE)));
    const sgt = new SgTable();
    dmaGetSgtable(dev, sgt, buf.cpuAddr, buf.dmaHandle, buf.size);
    expect(sgt.origNents).toBe(3);
  });

  it('warns when freeing an address it never allocated', () => {
    const { r, dev } = setup();
    dmaFreeCoherent(dev, PAGE_SIZE, 0x12345000, BASE);
    expect(r.core.log.format().join('\n')).toContain('trying to free invalid coherent area: 0x12345000');
  });
});

describe('arm_iommu_attach_device / detach_device / release_mapping', () => {
  function mappingOf(r: ArmRig): DmaIommuMapping {
    const m = armIommuCreateMapping(r.env, r.bus, BASE, 1 * MiB);
    if (typeof m === 'number') throw new Error('create');
    return m;
  }

  it('shares one mapping between devices and frees it with the last reference', () => {
    const r = armRig(64 * MiB);
    const sata = armDevice(r, 'sata');
    const xgmac = armDevice(r, 'xgmac');
    const m = mappingOf(r);
    expect(armIommuAttachDevice(sata, m)).toBe(0);
    expect(armIommuAttachDevice(xgmac, m)).toBe(0);
    expect(toDmaIommuMapping(sata)).toBe(m);
    expect(m.refs).toBe(3);
    expect(r.core.log.format().join('\n')).toContain('Attached IOMMU controller to sata device.');
    armIommuReleaseMapping(m);
    armIommuDetachDevice(sata);
    expect(m.released).toBe(false);
    expect(getDmaOps(sata)).toBe(r.ctx.direct);
    armIommuDetachDevice(xgmac);
    expect(m.released).toBe(true);
    expect(r.smmu.liveDomains).not.toContain(m.domain);
    expect(r.core.log.format().join('\n')).toContain('Detached IOMMU controller from xgmac device.');
  });

  it('warns "Not attached" for a device without a mapping', () => {
    const r = armRig(64 * MiB);
    const sata = armDevice(r, 'sata');
    armIommuDetachDevice(sata);
    expect(r.core.log.format().some((l) => l.endsWith('sata-drv sata: Not attached'))).toBe(true);
  });

  it('returns the IOMMU API error and leaves the device alone when attach fails', () => {
    const r = armRig(64 * MiB);
    const other = armDevice(r, 'eth1'); // not a master of the IOMMU: no group
    const m = mappingOf(r);
    const r2 = armIommuAttachDevice(other, m);
    expect(r2).toBeLessThanOrEqual(0);
    if (r2 < 0) {
      expect(toDmaIommuMapping(other)).toBeNull();
      expect(m.refs).toBe(1);
    }
  });
});
