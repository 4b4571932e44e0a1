/**
 * The generic DMA-API-to-IOMMU-API layer (drivers/iommu/dma-iommu.c): map and unmap of single
 * buffers and scatterlists, coherent allocations built from scattered pages, and CPU cache
 * maintenance for non-coherent masters found through the IOMMU's own translation. The arch ops
 * layers (`arm64`, `generic`) call these; which domain a device uses is in DMA_IOMMU_DOMAIN_SLOT.
 */
import { Slot, type Device } from '@dmasim/bus';
import { ENOMEM, EINVAL, ENXIO, MAX_PAGE_ORDER, PAGE_SIZE, fls, modulo, type CpuCache, type GfpFlags, type KernelLog, type PageAllocator, type Scheduler } from '@dmasim/core';
import {
  DMA_ATTR_NO_KERNEL_MAPPING,
  DMA_ATTR_SKIP_CPU_SYNC,
  DMA_BIDIRECTIONAL,
  DMA_MAPPING_ERROR,
  archDmaPrepCoherent,
  archSyncDmaForCpu,
  archSyncDmaForDevice,
  hasAttr,
  sgAllocTableFromPages,
  sgPhys,
  type DmaAttrs,
  type DmaCoherentBuffer,
  type DmaDataDirection,
  type Scatterlist,
  type SgTable,
} from '@dmasim/dma-mapping';
import {
  IommuIotlbGather,
  iommuIotlbGatherInit,
  iommuIotlbSync,
  iommuIovaToPhys,
  iommuMap,
  iommuMapSg,
  iommuUnmap,
  iommuUnmapFast,
  iovaSize,
  type IommuDomain,
  type IommuSgEntry,
} from '@dmasim/iommu-core';
import type { DmaIommuProfile } from '../profile';
import type { AtomicPool } from './atomic-pool';
import { iommuDmaCookieOf, type IommuDmaCookie } from './cookie';
import { gfpAllowsBlocking } from './gfp';
import { iommuDmaAllocIova, iommuDmaFreeIova } from './iova-alloc';
import { dmaInfoToProt } from './prot';
import { DmaRemapArea, type PageChunk } from './remap';
import { finaliseSg, invalidateSg, layoutSg } from './sg-layout';

/** Per-device: the IOMMU domain whose DMA API state (cookie) the device's iommu-dma ops use. */
export const DMA_IOMMU_DOMAIN_SLOT = new Slot<IommuDomain>('dma-iommu.domain');

/** Per-device: the iommu-dma layer the device's DMA goes through (dev->dma_iommu when set). */
export const DMA_IOMMU_SLOT = new Slot<IommuDma>('dma-iommu.layer');

/** use_dma_iommu(): whether the device's DMA goes through iommu-dma. */
export function useDmaIommu(dev: Device): boolean {
  return dev.getSlot(DMA_IOMMU_SLOT) !== undefined;
}

/** The iommu-dma layer of a device, if it uses one. */
export function iommuDmaOf(dev: Device): IommuDma | null {
  return dev.getSlot(DMA_IOMMU_SLOT) ?? null;
}

/** Points a device's iommu-dma at `domain` (which must have an initialised cookie). */
export function iommuDmaBindDevice(dev: Device, dma: IommuDma, domain: IommuDomain): void {
  dev.setSlot(DMA_IOMMU_SLOT, dma);
  dev.setSlot(DMA_IOMMU_DOMAIN_SLOT, domain);
}

/** Undoes iommuDmaBindDevice. */
export function iommuDmaUnbindDevice(dev: Device): void {
  dev.clearSlot(DMA_IOMMU_SLOT);
  dev.clearSlot(DMA_IOMMU_DOMAIN_SLOT);
}

/** The domain iommu-dma maps into for `dev` (iommu_get_dma_domain), or null. */
export function iommuDmaDomainOf(dev: Device): IommuDomain | null {
  return dev.getSlot(DMA_IOMMU_DOMAIN_SLOT) ?? null;
}

export interface IommuDmaEnv {
  readonly cache: CpuCache;
  readonly pages: PageAllocator;
  readonly log: KernelLog;
  readonly profile: DmaIommuProfile;
  readonly sched?: Scheduler | null;
  /** The atomic pool for allocations that cannot sleep (non-coherent devices); null = none. */
  readonly atomicPool?: AtomicPool | null;
}

const SITE = 'drivers/iommu/dma-iommu.c';

/** What an iommu-dma coherent allocation is made of, so free can undo it. */
type AllocKind = 'remap' | 'pool' | 'pages';

export class IommuDma {
  readonly cache: CpuCache;
  readonly pages: PageAllocator;
  readonly log: KernelLog;
  readonly profile: DmaIommuProfile;
  readonly sched: Scheduler | null;
  readonly remapArea: DmaRemapArea;
  atomicPool: AtomicPool | null;
  /** Reused on every unmap: the hot path allocates nothing. */
  private readonly gather = new IommuIotlbGather();
  private readonly sgEntries: { phys: number; length: number }[] = [];
  /** Contiguous allocations not from the pool: base -> order (the kernel's alloc_pages). */
  private readonly pageAllocs = new Map<number, number>();

  constructor(env: IommuDmaEnv) {
    this.cache = env.cache;
    this.pages = env.pages;
    this.log = env.log;
    this.profile = env.profile;
    this.sched = env.sched ?? null;
    this.atomicPool = env.atomicPool ?? null;
    this.remapArea = new DmaRemapArea(env.cache);
  }

  /** The cookie of the device's DMA domain, initialised, or null. */
  cookieFor(dev: Device): IommuDmaCookie | null {
    const domain = dev.getSlot(DMA_IOMMU_DOMAIN_SLOT);
    if (domain === undefined) return null;
    const cookie = iommuDmaCookieOf(domain);
    return cookie !== null && cookie.iovad !== null ? cookie : null;
  }

  // ---- single mappings ---------------------------------------------------------------------------

  /**
   * __iommu_dma_map(): map [phys, phys+size) with `prot` below `dmaLimit`, keeping the offset inside
   * the granule. DMA_MAPPING_ERROR when there is no IOVA space or the IOMMU refuses.
   */
  mapPhys(dev: Device, phys: number, size: number, prot: number, dmaLimit: number): number {
    const cookie = this.cookieFor(dev);
    if (cookie === null) return DMA_MAPPING_ERROR;
    const iovad = cookie.iovad!;
    const granule = iovad.granule;
    if (this.profile === 'linux-6.x' && dev.dma.minAlignMask > granule - 1) {
      this.log.warnOnce(`${SITE} __iommu_dma_map ${dev.name}`, `Unsupported alignment constraint`, dev);
      return DMA_MAPPING_ERROR;
    }
    const iovaOff = modulo(phys, granule);
    const len = Math.ceil((size + iovaOff) / granule) * granule;
    const iova = iommuDmaAllocIova(cookie, len, dmaLimit, dev, this.profile, this.log);
    if (iova === 0) return DMA_MAPPING_ERROR;
    if (iommuMap(cookie.domain, iova, phys - iovaOff, len, prot) !== 0) {
      iommuDmaFreeIova(cookie, iova, len, null, this.profile);
      return DMA_MAPPING_ERROR;
    }
    return iova + iovaOff;
  }

  /**
   * iommu_dma_map_page(): with `sync`, a non-coherent device's buffer is cleaned to memory first
   * (current kernels; the 2015 arm64 ops sync after mapping, through the IOMMU translation).
   */
  mapPage(dev: Device, pagePhys: number, offset: number, size: number, dir: DmaDataDirection, attrs: DmaAttrs, sync: boolean): number {
    const phys = pagePhys + offset;
    const coherent = dev.dma.coherent;
    if (sync && !coherent && !hasAttr(attrs, DMA_ATTR_SKIP_CPU_SYNC)) archSyncDmaForDevice(this.cache, phys, size, dir);
    return this.mapPhys(dev, phys, size, dmaInfoToProt(dir, coherent, attrs), dev.dmaMaskLimit);
  }

  /**
   * iommu_dma_unmap_page(). `linux-6.x`: an IOVA with no translation is a WARN and nothing more
   * (so a double unmap is survived); with `sync` a non-coherent buffer is invalidated for the CPU
   * first. `linux-4.2`: the range is found in the IOVA allocator; a double unmap dies there.
   */
  unmapPage(dev: Device, handle: number, size: number, dir: DmaDataDirection, attrs: DmaAttrs, sync: boolean): void {
    const cookie = this.cookieFor(dev);
    if (cookie === null) return;
    if (this.profile === 'linux-4.2') {
      this.unmap2015(cookie, handle);
      return;
    }
    const phys = iommuIovaToPhys(cookie.domain, handle);
    if (phys === 0) {
      this.log.warn(`${SITE} iommu_dma_unmap_page`);
      return;
    }
    if (sync && !dev.dma.coherent && !hasAttr(attrs, DMA_ATTR_SKIP_CPU_SYNC)) archSyncDmaForCpu(this.cache, phys, size, dir);
    this.unmapRange(cookie, handle, size);
  }

  /**
   * __iommu_dma_unmap() (current): unmap the granules covering [addr, addr+size), then either
   * invalidate the IOTLB now (strict) or leave it to the flush queue (lazy), and free the IOVA.
   */
  unmapRange(cookie: IommuDmaCookie, addr: number, size: number): void {
    const iovad = cookie.iovad!;
    const granule = iovad.granule;
    const iovaOff = modulo(addr, granule);
    const start = addr - iovaOff;
    const len = Math.ceil((size + iovaOff) / granule) * granule;
    const gather = this.gather;
    resetGather(gather);
    gather.queued = cookie.fq !== null;
    const unmapped = iommuUnmapFast(cookie.domain, start, len, gather);
    if (unmapped !== len) this.log.warn(`${SITE} __iommu_dma_unmap`);
    if (!gather.queued) {
      iommuIotlbSync(cookie.domain, gather);
      cookie.strictSyncs++;
    }
    iommuDmaFreeIova(cookie, start, len, gather, this.profile);
  }

  /**
   * The 2015 __iommu_dma_unmap(): the IOVA allocator knows the size. A range it does not know (a
   * double unmap) is a NULL dereference; a page-table unmap short of the range is a BUG().
   */
  unmap2015(cookie: IommuDmaCookie, addr: number): void {
    const iovad = cookie.iovad!;
    const granule = iovad.granule;
    const pfn = Math.floor(addr / granule);
    const iova = iovad.findIova(pfn);
    if (iova === null) {
      this.log.oops('Unable to handle kernel NULL pointer dereference at virtual address 0000000000000000', [
        `pc : __iommu_dma_unmap: find_iova(pfn 0x${pfn.toString(16)}) found no IOVA; iova_size(NULL)`,
        'lr : iommu_dma_unmap_page',
      ]);
    }
    const size = iovaSize(iova) * granule;
    if (iommuUnmap(cookie.domain, iova.pfnLo * granule, size) < size) {
      this.log.oops('kernel BUG at drivers/iommu/dma-iommu.c:__iommu_dma_unmap!', ['IOMMU page tables out of step with the IOVA allocator']);
    }
    iovad.__freeIova(iova);
  }

  // ---- scatterlists ------------------------------------------------------------------------------

  /**
   * iommu_dma_map_sg(): one IOVA allocation for the whole list, entries laid out granule-aligned
   * (padded at segment boundaries under linux-6.x), mapped, then merged into DMA segments written
   * at the front of the list. On failure the list is restored and the error returned (linux-6.x:
   * -ENOMEM / -EINVAL; linux-4.2: 0).
   */
  mapSg(dev: Device, sgl: Scatterlist[], nents: number, dir: DmaDataDirection, attrs: DmaAttrs, sync: boolean): number {
    const cookie = this.cookieFor(dev);
    const fail = this.profile === 'linux-4.2' ? 0 : -EINVAL;
    if (cookie === null) return fail;
    const coherent = dev.dma.coherent;
    if (sync && !coherent && !hasAttr(attrs, DMA_ATTR_SKIP_CPU_SYNC)) this.syncSgForDevice(dev, sgl, nents, dir);
    const granule = cookie.iovad!.granule;
    const mask = dev.dma.segmentBoundaryMask;
    const iovaLen = layoutSg(sgl, nents, granule, mask, this.profile);
    if (iovaLen === 0) return finaliseSg(sgl, nents, 0, mask, dev.dma.maxSegmentSize, this.profile);
    const iova = iommuDmaAllocIova(cookie, iovaLen, dev.dmaMaskLimit, dev, this.profile, this.log);
    if (iova === 0) {
      invalidateSg(sgl, nents);
      return this.profile === 'linux-4.2' ? 0 : -ENOMEM;
    }
    const entries = this.sgEntries;
    if (entries.length !== nents) entries.length = nents;
    for (let i = 0; i < nents; i++) {
      const s = sgl[i]!;
      const e = entries[i] ?? (entries[i] = { phys: 0, length: 0 });
      e.phys = s.pagePhys + s.offset;
      e.length = s.length;
    }
    const ret = iommuMapSg(cookie.domain, iova, entries, dmaInfoToProt(dir, coherent, attrs));
    if (ret < iovaLen) {
      iommuDmaFreeIova(cookie, iova, iovaLen, null, this.profile);
      invalidateSg(sgl, nents);
      if (this.profile === 'linux-4.2') return 0;
      return ret === -ENOMEM ? -ENOMEM : -EINVAL;
    }
    return finaliseSg(sgl, nents, iova, mask, dev.dma.maxSegmentSize, this.profile);
  }

  /**
   * iommu_dma_unmap_sg(): the segments are contiguous in IOVA space, so one unmap from the first
   * DMA address to the end of the last mapped segment (linux-4.2: the range the allocator knows).
   */
  unmapSg(dev: Device, sgl: Scatterlist[], nents: number, dir: DmaDataDirection, attrs: DmaAttrs, sync: boolean): void {
    const cookie = this.cookieFor(dev);
    if (cookie === null) return;
    if (sync && !dev.dma.coherent && !hasAttr(attrs, DMA_ATTR_SKIP_CPU_SYNC)) this.syncSgForCpu(dev, sgl, nents, dir);
    const first = sgl[0];
    if (first === undefined) return;
    if (this.profile === 'linux-4.2') {
      this.unmap2015(cookie, first.dmaAddress);
      return;
    }
    const start = first.dmaAddress;
    let end = start;
    for (let i = 0; i < nents; i++) {
      const s = sgl[i]!;
      if (s.dmaLength === 0) break;
      end = s.dmaAddress + s.dmaLength;
    }
    this.unmapRange(cookie, start, end - start);
  }

  // ---- syncs -------------------------------------------------------------------------------------

  /** sync_single_for_cpu: the buffer is found through the IOMMU translation of its handle. */
  syncSingleForCpu(dev: Device, handle: number, size: number, dir: DmaDataDirection): void {
    if (dev.dma.coherent) return;
    const cookie = this.cookieFor(dev);
    if (cookie === null) return;
    archSyncDmaForCpu(this.cache, iommuIovaToPhys(cookie.domain, handle), size, dir);
  }

  syncSingleForDevice(dev: Device, handle: number, size: number, dir: DmaDataDirection): void {
    if (dev.dma.coherent) return;
    const cookie = this.cookieFor(dev);
    if (cookie === null) return;
    archSyncDmaForDevice(this.cache, iommuIovaToPhys(cookie.domain, handle), size, dir);
  }

  /**
   * sync_sg_for_cpu: cache maintenance is by CPU address, so it walks the ORIGINAL entries: `nelems`
   * is what was passed to map_sg. A caller passing the mapped count leaves the rest unsynced.
   */
  syncSgForCpu(dev: Device, sgl: Scatterlist[], nelems: number, dir: DmaDataDirection): void {
    if (dev.dma.coherent) return;
    const n = Math.min(nelems, sgl.length);
    for (let i = 0; i < n; i++) {
      const s = sgl[i]!;
      archSyncDmaForCpu(this.cache, sgPhys(s), s.length, dir);
    }
  }

  syncSgForDevice(dev: Device, sgl: Scatterlist[], nelems: number, dir: DmaDataDirection): void {
    if (dev.dma.coherent) return;
    const n = Math.min(nelems, sgl.length);
    for (let i = 0; i < n; i++) {
      const s = sgl[i]!;
      archSyncDmaForDevice(this.cache, sgPhys(s), s.length, dir);
    }
  }

  // ---- coherent allocations ----------------------------------------------------------------------

  /**
   * __iommu_dma_alloc_pages(): `count` pages gathered in the largest blocks the allocator gives
   * (high orders are a convenience, so each failure steps the order down), falling back to single
   * pages. null (with everything given back) when even single pages run out.
   */
  allocPages(count: number, gfp: GfpFlags): { pages: number[]; chunks: PageChunk[] } | null {
    const pages: number[] = [];
    const chunks: PageChunk[] = [];
    let left = count;
    while (left > 0) {
      let order = Math.min(fls(left) - 1, MAX_PAGE_ORDER);
      let phys: number | null = null;
      for (; order > 0; order--) {
        phys = this.pages.allocPages(order, gfp);
        if (phys !== null) break;
      }
      if (phys === null) {
        order = 0;
        phys = this.pages.allocPages(0, gfp);
      }
      if (phys === null) {
        for (const c of chunks) this.pages.freePages(c.phys, c.order);
        return null;
      }
      chunks.push({ phys, order });
      const n = 2 ** order;
      for (let i = 0; i < n; i++) pages.push(phys + i * PAGE_SIZE);
      left -= n;
    }
    return { pages, chunks };
  }

  /**
   * iommu_dma_alloc() with its CPU remap: zeroed pages (flushed for a non-coherent device), mapped
   * contiguously in IOVA space under the coherent mask, and remapped for the CPU. An allocation
   * that cannot sleep cannot remap: it is one physically contiguous block instead, from the atomic
   * pool for a non-coherent device.
   */
  alloc(dev: Device, size: number, gfp: GfpFlags, attrs: DmaAttrs): DmaCoherentBuffer | null {
    const coherent = dev.dma.coherent;
    const cookie = this.cookieFor(dev);
    if (cookie === null) return null;
    const mapping = coherent ? 'cacheable' : 'uncached';
    if (!gfpAllowsBlocking(gfp)) return this.allocAtomic(dev, size, gfp, coherent, mapping);
    const granule = cookie.iovad!.granule;
    const count = Math.ceil(size / PAGE_SIZE);
    const got = this.allocPages(count, gfp);
    if (got === null) return null;
    for (const c of got.chunks) this.zeroForDevice(c.phys, 2 ** c.order * PAGE_SIZE, coherent);
    const ioSize = Math.ceil(size / granule) * granule;
    const iova = iommuDmaAllocIova(cookie, ioSize, dev.coherentDmaMaskLimit, dev, this.profile, this.log);
    if (iova === 0) {
      this.freeChunks(got.chunks);
      return null;
    }
    const entries: IommuSgEntry[] = [];
    let left = ioSize;
    for (const p of got.pages) {
      if (left <= 0) break;
      entries.push({ phys: p, length: Math.min(PAGE_SIZE, left) });
      left -= PAGE_SIZE;
    }
    if (iommuMapSg(cookie.domain, iova, entries, dmaInfoToProt(DMA_BIDIRECTIONAL, coherent, attrs)) < ioSize) {
      iommuDmaFreeIova(cookie, iova, ioSize, null, this.profile);
      this.freeChunks(got.chunks);
      return null;
    }
    const area = this.remapArea.remap(got.pages, got.chunks, size);
    return { cpuAddr: area.addr, dmaHandle: iova, size, mapping: hasAttr(attrs, DMA_ATTR_NO_KERNEL_MAPPING) ? 'none' : mapping };
  }

  private allocAtomic(dev: Device, size: number, gfp: GfpFlags, coherent: boolean, mapping: 'cacheable' | 'uncached'): DmaCoherentBuffer | null {
    let cpuAddr: number | null;
    let kind: AllocKind;
    if (coherent) {
      const order = Math.max(0, fls(Math.ceil(size / PAGE_SIZE) - 1));
      cpuAddr = this.pages.allocPages(order, gfp);
      if (cpuAddr !== null) {
        this.pageAllocs.set(cpuAddr, order);
        this.zeroForDevice(cpuAddr, 2 ** order * PAGE_SIZE, true);
      }
      kind = 'pages';
    } else {
      cpuAddr = this.atomicPool?.alloc(size) ?? null;
      if (cpuAddr !== null) this.cache.cpuFill(cpuAddr, Math.ceil(size / PAGE_SIZE) * PAGE_SIZE, 0, 'uncached');
      kind = 'pool';
    }
    if (cpuAddr === null) return null;
    const handle = this.mapPhys(dev, cpuAddr, size, dmaInfoToProt(DMA_BIDIRECTIONAL, coherent), dev.coherentDmaMaskLimit);
    if (handle === DMA_MAPPING_ERROR) {
      this.releaseContiguous(kind, cpuAddr);
      return null;
    }
    return { cpuAddr, dmaHandle: handle, size, mapping };
  }

  /**
   * iommu_dma_free() and its callers: unmap, then give back what the allocation was made of
   * (remapped pages, an atomic-pool block, or one contiguous block).
   */
  free(dev: Device, size: number, cpuAddr: number, handle: number): void {
    const cookie = this.cookieFor(dev);
    if (cookie === null) return;
    const pool = this.atomicPool;
    const area = this.remapArea.find(cpuAddr);
    if (pool !== null && pool.contains(cpuAddr, size) && area === undefined) {
      this.unmapForFree(cookie, handle, size);
      pool.free(cpuAddr);
      return;
    }
    if (area !== undefined) {
      this.unmapForFree(cookie, handle, size);
      this.remapArea.unmap(cpuAddr);
      this.freeChunks(area.chunks);
      return;
    }
    if (!this.pageAllocs.has(cpuAddr)) {
      this.log.warn(`${SITE} iommu_dma_free`, `iommu-dma: free of ${cpuAddr} not allocated here`);
      return;
    }
    this.unmapForFree(cookie, handle, size);
    this.releaseContiguous('pages', cpuAddr);
  }

  private unmapForFree(cookie: IommuDmaCookie, handle: number, size: number): void {
    if (this.profile === 'linux-4.2') this.unmap2015(cookie, handle);
    else this.unmapRange(cookie, handle, size);
  }

  /** get_sgtable: the remapped allocation's pages as a table (-ENXIO for memory not remapped here). */
  getSgtable(sgt: SgTable, cpuAddr: number, size: number): number {
    const area = this.remapArea.find(cpuAddr);
    if (area === undefined) {
      const order = this.pageAllocs.get(cpuAddr);
      const inPool = this.atomicPool?.contains(cpuAddr, size) ?? false;
      if (order === undefined && !inPool) {
        this.log.warn(`${SITE} iommu_dma_get_sgtable`);
        return -ENXIO;
      }
      // one contiguous block: a single entry
      const ret = sgt.allocTable(1);
      if (ret !== 0) return ret;
      const s = sgt.sgl[0]!;
      s.pagePhys = cpuAddr;
      s.offset = 0;
      s.length = Math.ceil(size / PAGE_SIZE) * PAGE_SIZE;
      return 0;
    }
    return sgAllocTableFromPages(sgt, area.pages, 0, size);
  }

  private zeroForDevice(phys: number, len: number, coherent: boolean): void {
    this.cache.cpuFill(phys, len, 0, 'cacheable');
    if (!coherent) archDmaPrepCoherent(this.cache, phys, len);
  }

  private freeChunks(chunks: readonly PageChunk[]): void {
    for (const c of chunks) this.pages.freePages(c.phys, c.order);
  }

  private releaseContiguous(kind: AllocKind, cpuAddr: number): void {
    if (kind === 'pool') {
      this.atomicPool?.free(cpuAddr);
      return;
    }
    const order = this.pageAllocs.get(cpuAddr);
    if (order === undefined) return;
    this.pageAllocs.delete(cpuAddr);
    this.pages.freePages(cpuAddr, order);
  }
}

/**
 * iommu_iotlb_gather_init() for the layer's own gather, which nothing fills with table pages: the
 * freelist is only emptied when it holds something (resetting an array's length costs more than
 * the rest of the reset together).
 */
function resetGather(gather: IommuIotlbGather): void {
  if (gather.freelist.length !== 0) {
    iommuIotlbGatherInit(gather);
    return;
  }
  gather.start = Number.MAX_SAFE_INTEGER;
  gather.end = 0;
  gather.pgsize = 0;
  gather.queued = false;
}

/** The IOMMU granule a device maps at, 0 when it has no initialised DMA domain. */
export function iommuDmaGranule(dev: Device): number {
  const d = iommuDmaDomainOf(dev);
  return d === null ? 0 : (iommuDmaCookieOf(d)?.granule ?? 0);
}

/** iommu_dma_get_merge_boundary(): granule - 1. */
export function iommuDmaMergeBoundary(dev: Device): number {
  const g = iommuDmaGranule(dev);
  return g === 0 ? 0 : g - 1;
}

/** The domain's iommu_iova_to_phys, for callers outside the ops (tests, device models). */
export function iommuDmaIovaToPhys(dev: Device, iova: number): number {
  const d = iommuDmaDomainOf(dev);
  return d === null ? 0 : iommuIovaToPhys(d, iova);
}
