import type { Device } from '@dmasim/bus';
import { PAGE_SIZE, alignDown, alignUp, type CpuCache, type DmaPortFault, type DmaTranslation, type PageAllocator } from '@dmasim/core';
import {
  DMA_ATTR_SKIP_CPU_SYNC,
  DMA_MAPPING_ERROR,
  archSyncDmaForCpu,
  archSyncDmaForDevice,
  hasAttr,
  type DmaAttrs,
  type DmaCoherentBuffer,
  type DmaDataDirection,
  type DmaMapOps,
  type Scatterlist,
} from '@dmasim/dma-mapping';
import type { DmaIovaState, IovaLinkApi } from '../common/iova-link';

/**
 * A minimal IOMMU for this package's tests and benchmarks, built only from core and dma-mapping
 * (dma-iommu and the SMMU driver are other packages): a page table in a Map, a translation hop that
 * faults on a miss (the DmaPort side), a top-down IOVA allocator with per-size free lists, DMA ops
 * with strict unmap, and the two-step IOVA API. The machine wires the real SMMU and iommu-dma.
 */
export class TestIommu implements DmaTranslation {
  readonly ptes = new Map<number, number>();
  readonly faults: { addr: number; access: 'read' | 'write' }[] = [];
  private next: number;
  private readonly freeBySize = new Map<number, number[]>();
  /** IOVA pages handed out (live). */
  livePages = 0;

  constructor(
    private readonly cache: CpuCache,
    private readonly pages: PageAllocator,
    /** Top of the IOVA space (exclusive), e.g. 4 GiB for a 32-bit mask. */
    top = 2 ** 32,
  ) {
    this.next = top;
  }

  translate(addr: number, len: number, access: 'read' | 'write'): { ok: true; addr: number; length: number } | { ok: false; fault: DmaPortFault; addr: number } {
    const off = addr % PAGE_SIZE;
    const phys = this.ptes.get(addr - off);
    if (phys === undefined) {
      this.faults.push({ addr, access });
      return { ok: false, fault: 'iommu-fault', addr };
    }
    return { ok: true, addr: phys + off, length: Math.min(len, PAGE_SIZE - off) };
  }

  allocIova(size: number): number {
    const n = alignUp(size, PAGE_SIZE);
    const list = this.freeBySize.get(n);
    const reused = list?.pop();
    this.livePages += n / PAGE_SIZE;
    if (reused !== undefined) return reused;
    if (this.next - n < PAGE_SIZE * 16) return DMA_MAPPING_ERROR;
    this.next -= n;
    return this.next;
  }

  freeIova(iova: number, size: number): void {
    const n = alignUp(size, PAGE_SIZE);
    this.livePages -= n / PAGE_SIZE;
    const list = this.freeBySize.get(n);
    if (list) list.push(iova);
    else this.freeBySize.set(n, [iova]);
  }

  map(iova: number, phys: number, size: number): void {
    for (let o = 0; o < size; o += PAGE_SIZE) this.ptes.set(iova + o, phys + o);
  }

  unmap(iova: number, size: number): void {
    for (let o = 0; o < size; o += PAGE_SIZE) this.ptes.delete(iova + o);
  }

  /** DMA ops of a device behind this IOMMU (strict: unmap removes the entries at once). */
  ops(): DmaMapOps {
    const sync = (dev: Device, phys: number, size: number, dir: DmaDataDirection, forDevice: boolean, attrs: DmaAttrs): void => {
      if (dev.dma.coherent || hasAttr(attrs, DMA_ATTR_SKIP_CPU_SYNC)) return;
      if (forDevice) archSyncDmaForDevice(this.cache, phys, size, dir);
      else archSyncDmaForCpu(this.cache, phys, size, dir);
    };
    const mapPage = (dev: Device, pagePhys: number, offset: number, size: number, dir: DmaDataDirection, attrs: DmaAttrs): number => {
      const phys = pagePhys + offset;
      const start = alignDown(phys, PAGE_SIZE);
      const len = alignUp(phys + size, PAGE_SIZE) - start;
      const iova = this.allocIova(len);
      if (iova === DMA_MAPPING_ERROR) return DMA_MAPPING_ERROR;
      this.map(iova, start, len);
      sync(dev, phys, size, dir, true, attrs);
      return iova + (phys - start);
    };
    const unmapPage = (dev: Device, handle: number, size: number, dir: DmaDataDirection, attrs: DmaAttrs): void => {
      const start = alignDown(handle, PAGE_SIZE);
      const len = alignUp(handle + size, PAGE_SIZE) - start;
      const phys = this.ptes.get(start);
      if (phys !== undefined) sync(dev, phys + (handle - start), size, dir, false, attrs);
      this.unmap(start, len);
      this.freeIova(start, len);
    };
    return {
      name: 'iommu-dma',
      alloc: (dev, size) => {
        const len = alignUp(size, PAGE_SIZE);
        const cpu = this.pages.allocPagesExact(len);
        if (cpu === null) return null;
        this.cache.cleanInvalidate(cpu, len);
        this.cache.cpuFill(cpu, len, 0, 'uncached');
        const iova = this.allocIova(len);
        if (iova === DMA_MAPPING_ERROR) {
          this.pages.freePagesExact(cpu, len);
          return null;
        }
        this.map(iova, cpu, len);
        const buf: DmaCoherentBuffer = { cpuAddr: cpu, dmaHandle: iova, size, mapping: dev.dma.coherent ? 'cacheable' : 'uncached' };
        return buf;
      },
      free: (_dev, size, cpuAddr, handle) => {
        const len = alignUp(size, PAGE_SIZE);
        this.unmap(handle, len);
        this.freeIova(handle, len);
        this.pages.freePagesExact(cpuAddr, len);
      },
      getSgtable: () => -22,
      mapPage,
      unmapPage,
      mapSg: (dev, sgl: Scatterlist[], nents, dir, attrs) => {
        for (let i = 0; i < nents; i++) {
          const sg = sgl[i]!;
          const a = mapPage(dev, sg.pagePhys, sg.offset, sg.length, dir, attrs);
          if (a === DMA_MAPPING_ERROR) {
            for (let j = 0; j < i; j++) unmapPage(dev, sgl[j]!.dmaAddress, sgl[j]!.dmaLength, dir, attrs);
            return 0;
          }
          sg.dmaAddress = a;
          sg.dmaLength = sg.length;
        }
        return nents;
      },
      unmapSg: (dev, sgl, nents, dir, attrs) => {
        for (let i = 0; i < nents; i++) unmapPage(dev, sgl[i]!.dmaAddress, sgl[i]!.dmaLength, dir, attrs);
      },
      mapResource: () => DMA_MAPPING_ERROR,
      unmapResource: () => undefined,
      syncSingleForCpu: (dev, h, size, dir) => {
        const p = this.ptes.get(alignDown(h, PAGE_SIZE));
        if (p !== undefined) sync(dev, p + (h % PAGE_SIZE), size, dir, false, 0);
      },
      syncSingleForDevice: (dev, h, size, dir) => {
        const p = this.ptes.get(alignDown(h, PAGE_SIZE));
        if (p !== undefined) sync(dev, p + (h % PAGE_SIZE), size, dir, true, 0);
      },
      syncSgForCpu: (dev, sgl, nents, dir) => {
        for (let i = 0; i < nents; i++) sync(dev, sgl[i]!.pagePhys + sgl[i]!.offset, sgl[i]!.length, dir, false, 0);
      },
      syncSgForDevice: (dev, sgl, nents, dir) => {
        for (let i = 0; i < nents; i++) sync(dev, sgl[i]!.pagePhys + sgl[i]!.offset, sgl[i]!.length, dir, true, 0);
      },
      dmaSupported: () => true,
      getRequiredMask: () => 2 ** 32 - 1,
      maxMappingSize: () => Number.MAX_SAFE_INTEGER,
      getMergeBoundary: () => 0,
    };
  }

  /** The two-step IOVA API over this IOMMU. */
  iovaLink(): IovaLinkApi & { links: number; allocs: number } {
    const api = {
      links: 0,
      allocs: 0,
      tryAlloc: (_dev: Device, state: DmaIovaState, phys: number, size: number): boolean => {
        const off = phys % PAGE_SIZE;
        const iova = this.allocIova(off + size);
        if (iova === DMA_MAPPING_ERROR) return false;
        api.allocs++;
        state.addr = iova + off;
        state.size = size;
        return true;
      },
      link: (dev: Device, state: DmaIovaState, phys: number, offset: number, size: number, dir: DmaDataDirection, attrs: DmaAttrs): number => {
        const at = state.addr + offset;
        if (at % PAGE_SIZE !== phys % PAGE_SIZE) return -22;
        this.map(alignDown(at, PAGE_SIZE), alignDown(phys, PAGE_SIZE), alignUp(at + size, PAGE_SIZE) - alignDown(at, PAGE_SIZE));
        if (!dev.dma.coherent && !hasAttr(attrs, DMA_ATTR_SKIP_CPU_SYNC)) archSyncDmaForDevice(this.cache, phys, size, dir);
        api.links++;
        return 0;
      },
      sync: () => 0,
      unlink: (dev: Device, state: DmaIovaState, offset: number, size: number, dir: DmaDataDirection, attrs: DmaAttrs): void => {
        const at = state.addr + offset;
        for (let a = alignDown(at, PAGE_SIZE); a < at + size; a += PAGE_SIZE) {
          const p = this.ptes.get(a);
          if (p === undefined) continue;
          if (!dev.dma.coherent && !hasAttr(attrs, DMA_ATTR_SKIP_CPU_SYNC)) {
            const s = Math.max(a, at);
            const e = Math.min(a + PAGE_SIZE, at + size);
            archSyncDmaForCpu(this.cache, p + (s - a), e - s, dir);
          }
          this.ptes.delete(a);
        }
      },
      free: (_dev: Device, state: DmaIovaState): void => {
        const start = alignDown(state.addr, PAGE_SIZE);
        this.freeIova(start, alignUp(state.addr + state.size, PAGE_SIZE) - start);
        state.addr = 0;
      },
      destroy: (dev: Device, state: DmaIovaState, mappedLen: number, dir: DmaDataDirection, attrs: DmaAttrs): void => {
        if (mappedLen > 0) api.unlink(dev, state, 0, mappedLen, dir, attrs);
        api.free(dev, state);
      },
    };
    return api;
  }
}

