import type { Device } from '@dmasim/bus';
import {
  EIO,
  ENOMEM,
  GFP_DMA,
  GFP_DMA32,
  MAX_PAGE_ORDER,
  PAGE_SIZE,
  alignUp,
  bitMaskHex,
  dmaBitMask,
  fls,
  ilog2,
  roundupPowOfTwo,
  type CpuCache,
  type GfpFlags,
  type KernelLog,
  type PageAllocator,
  type PhysicalMemory,
} from '@dmasim/core';
import {
  DMA_ATTR_NO_KERNEL_MAPPING,
  DMA_ATTR_SKIP_CPU_SYNC,
  DMA_MAPPING_ERROR,
  hasAttr,
  type DmaAttrs,
  type DmaDataDirection,
} from '../constants';
import type { DmaCoherentBuffer, DmaMapOps } from '../ops/dma-map-ops';
import type { Scatterlist, SgTable } from '../scatterlist/sg-table';
import { archDmaPrepCoherent, archSyncDmaForCpu, archSyncDmaForDevice } from './cache-sync';
import type { SwiotlbPort } from './swiotlb-port';
import { dmaKmallocNeedsBounce } from './kmalloc-bounce';
import { dmaCapable, dmaCoherentLimit, dmaStreamingLimit, dmaToPhys, formatDmaAddr, formatMaskHex, physToDma } from './translate';

/** What dma-direct works on: the machine's memory, cache, pages, log and (optionally) swiotlb. */
export interface DmaDirectEnv {
  readonly memory: PhysicalMemory;
  readonly cache: CpuCache;
  readonly pages: PageAllocator;
  readonly log: KernelLog;
  /** null: the machine has no swiotlb (unreachable buffers then fail with the overflow WARN). */
  readonly swiotlb: SwiotlbPort | null;
  /** `swiotlb=force`: every streaming mapping bounces. */
  readonly forceBounce: boolean;
  /** CONFIG_DMA_BOUNCE_UNALIGNED_KMALLOC (arm64, 6.5+): small buffers of non-coherent devices bounce. */
  readonly kmallocBounce?: boolean;
}

const SIZE_MAX = Number.MAX_SAFE_INTEGER;

/**
 * dma-direct (kernel/dma/direct.c, direct.h): the DMA ops of every device without an IOMMU. A CPU
 * physical address becomes a bus address through the device's `dma-ranges`; a buffer the device
 * cannot reach (mask, bus limit, or no translation at all) bounces through swiotlb; non-coherent
 * devices get the CPU cache maintenance of arm64; coherent allocations come from the zone the
 * device's coherent mask allows and, for non-coherent devices, are used through uncached mappings.
 */
export class DmaDirectOps implements DmaMapOps {
  readonly name = 'direct';
  /** End (inclusive) of ZONE_DMA, or -1 when the board has none (zone_dma_limit). */
  readonly zoneDmaLimit: number;
  /** Allocations larger than one buddy block (the kernel's CMA): start → the blocks they took. */
  private readonly largeAllocs = new Map<number, number[]>();

  constructor(private readonly env: DmaDirectEnv) {
    const dmaZone = env.pages.stats().find((z) => z.name === 'DMA');
    this.zoneDmaLimit = dmaZone !== undefined && dmaZone.end > dmaZone.start ? dmaZone.end - 1 : -1;
  }

  // ---- streaming mappings -----------------------------------------------------------------------

  mapPage(dev: Device, pagePhys: number, offset: number, size: number, dir: DmaDataDirection, attrs: DmaAttrs): number {
    const phys = pagePhys + offset;
    const dmaAddr = physToDma(dev, phys);
    if (this.isForceBounce(dev)) return this.swiotlbMap(dev, phys, size, dir, attrs);
    // dma_direct_map_page: unreachable, or (6.5+) a small kmalloc buffer a non-coherent device would share a cache line of
    // (without an active swiotlb both end in the overflow WARN, as in the kernel)
    if (!dmaCapable(dev, dmaAddr, size) || (this.env.kmallocBounce === true && dmaKmallocNeedsBounce(dev, size, dir))) {
      if (this.env.swiotlb?.isActive(dev) === true) return this.swiotlbMap(dev, phys, size, dir, attrs);
      this.env.log.warnOnce(
        'kernel/dma/direct.h dma_direct_map_page',
        `DMA addr ${formatDmaAddr(dmaAddr)}+${size} overflow (mask ${bitMaskHex(dev.dma.maskBits)}, bus limit ${formatMaskHex(dev.dma.busDmaLimit)}).`,
        dev,
      );
      return DMA_MAPPING_ERROR;
    }
    if (!dev.dma.coherent && !hasAttr(attrs, DMA_ATTR_SKIP_CPU_SYNC)) archSyncDmaForDevice(this.env.cache, phys, size, dir);
    return dmaAddr;
  }

  unmapPage(dev: Device, dmaHandle: number, size: number, dir: DmaDataDirection, attrs: DmaAttrs): void {
    const phys = dmaToPhys(dev, dmaHandle);
    if (!hasAttr(attrs, DMA_ATTR_SKIP_CPU_SYNC)) this.syncSingleForCpu(dev, dmaHandle, size, dir);
    const tlb = this.env.swiotlb;
    if (tlb !== null && tlb.isSwiotlbBuffer(dev, phys)) tlb.tblUnmapSingle(dev, phys, size, dir, attrs | DMA_ATTR_SKIP_CPU_SYNC);
  }

  mapSg(dev: Device, sgl: Scatterlist[], nents: number, dir: DmaDataDirection, attrs: DmaAttrs): number {
    const n = Math.min(nents, sgl.length);
    for (let i = 0; i < n; i++) {
      const sg = sgl[i]!;
      sg.dmaAddress = this.mapPage(dev, sg.pagePhys, sg.offset, sg.length, dir, attrs);
      if (sg.dmaAddress === DMA_MAPPING_ERROR) {
        this.unmapSg(dev, sgl, i, dir, attrs | DMA_ATTR_SKIP_CPU_SYNC);
        return -EIO;
      }
      sg.dmaLength = sg.length;
    }
    return n;
  }

  unmapSg(dev: Device, sgl: Scatterlist[], nents: number, dir: DmaDataDirection, attrs: DmaAttrs): void {
    const n = Math.min(nents, sgl.length);
    for (let i = 0; i < n; i++) {
      const sg = sgl[i]!;
      this.unmapPage(dev, sg.dmaAddress, sg.dmaLength, dir, attrs);
    }
  }

  /** dma_direct_map_resource(): MMIO is not translated and never bounced. */
  mapResource(dev: Device, physAddr: number, size: number, _dir: DmaDataDirection, _attrs: DmaAttrs): number {
    const dmaAddr = physAddr;
    if (!dmaCapable(dev, dmaAddr, size)) {
      this.env.log.devErr(
        dev,
        `DMA addr ${formatDmaAddr(dmaAddr)}+${size} overflow (mask ${bitMaskHex(dev.dma.maskBits)}, bus limit ${formatMaskHex(dev.dma.busDmaLimit)}).`,
      );
      this.env.log.warnOnce('kernel/dma/direct.c dma_direct_map_resource');
      return DMA_MAPPING_ERROR;
    }
    return dmaAddr;
  }

  unmapResource(): void {
    // nothing to undo: resources are neither translated nor bounced
  }

  syncSingleForCpu(dev: Device, dmaHandle: number, size: number, dir: DmaDataDirection): void {
    const phys = dmaToPhys(dev, dmaHandle);
    if (!dev.dma.coherent) archSyncDmaForCpu(this.env.cache, phys, size, dir);
    const tlb = this.env.swiotlb;
    if (tlb !== null && tlb.isSwiotlbBuffer(dev, phys)) tlb.syncSingleForCpu(dev, phys, size, dir);
  }

  syncSingleForDevice(dev: Device, dmaHandle: number, size: number, dir: DmaDataDirection): void {
    const phys = dmaToPhys(dev, dmaHandle);
    const tlb = this.env.swiotlb;
    if (tlb !== null && tlb.isSwiotlbBuffer(dev, phys)) tlb.syncSingleForDevice(dev, phys, size, dir);
    if (!dev.dma.coherent) archSyncDmaForDevice(this.env.cache, phys, size, dir);
  }

  syncSgForCpu(dev: Device, sgl: Scatterlist[], nents: number, dir: DmaDataDirection): void {
    for (let i = 0; i < Math.min(nents, sgl.length); i++) {
      const sg = sgl[i]!;
      this.syncSingleForCpu(dev, sg.dmaAddress, sg.dmaLength, dir);
    }
  }

  syncSgForDevice(dev: Device, sgl: Scatterlist[], nents: number, dir: DmaDataDirection): void {
    for (let i = 0; i < Math.min(nents, sgl.length); i++) {
      const sg = sgl[i]!;
      this.syncSingleForDevice(dev, sg.dmaAddress, sg.dmaLength, dir);
    }
  }

  // ---- coherent allocations ---------------------------------------------------------------------

  alloc(dev: Device, size: number, _gfp: GfpFlags, attrs: DmaAttrs): DmaCoherentBuffer | null {
    const alignedSize = alignUp(Math.max(size, 1), PAGE_SIZE);
    const tlb = this.env.swiotlb;
    if (tlb !== null && tlb.forAlloc(dev)) {
      // a restricted pool serves allocations too; its memory is used through the linear map
      const phys = tlb.alloc(dev, alignedSize);
      if (phys === null) return null;
      this.clearForDevice(dev, phys, alignedSize);
      return { cpuAddr: phys, dmaHandle: physToDma(dev, phys), size, mapping: dev.dma.coherent ? 'cacheable' : 'uncached' };
    }
    const phys = this.allocPages(dev, alignedSize);
    if (phys === null) return null;
    if (hasAttr(attrs, DMA_ATTR_NO_KERNEL_MAPPING)) {
      // no CPU mapping at all: only flush what the linear map may still hold
      if (!dev.dma.coherent) archDmaPrepCoherent(this.env.cache, phys, alignedSize);
      return { cpuAddr: phys, dmaHandle: physToDma(dev, phys), size, mapping: 'none' };
    }
    this.clearForDevice(dev, phys, alignedSize);
    // non-coherent: remapped Normal-NC (uncached; WRITE_COMBINE is the same memory type on arm64)
    return { cpuAddr: phys, dmaHandle: physToDma(dev, phys), size, mapping: dev.dma.coherent ? 'cacheable' : 'uncached' };
  }

  free(dev: Device, size: number, cpuAddr: number, _dmaHandle: number, _attrs: DmaAttrs): void {
    const alignedSize = alignUp(Math.max(size, 1), PAGE_SIZE);
    const tlb = this.env.swiotlb;
    if (tlb !== null && tlb.forAlloc(dev) && tlb.free(dev, cpuAddr, alignedSize)) return;
    const blocks = this.largeAllocs.get(cpuAddr);
    if (blocks !== undefined) {
      this.largeAllocs.delete(cpuAddr);
      for (const b of blocks) this.env.pages.freePages(b, MAX_PAGE_ORDER);
      return;
    }
    this.env.pages.freePages(cpuAddr, orderOf(alignedSize));
  }

  /** dma_direct_get_sgtable(): one entry covering the page-aligned allocation. */
  getSgtable(dev: Device, sgt: SgTable, _cpuAddr: number, dmaHandle: number, size: number, _attrs: DmaAttrs): number {
    const phys = dmaToPhys(dev, dmaHandle);
    if (sgt.allocTable(1) !== 0) return -ENOMEM;
    const sg = sgt.sgl[0]!;
    sg.pagePhys = phys - (phys % PAGE_SIZE);
    sg.offset = 0;
    sg.length = alignUp(size, PAGE_SIZE);
    return 0;
  }

  // ---- capabilities -----------------------------------------------------------------------------

  /** dma_direct_supported(): 32-bit masks always; smaller ones must cover ZONE_DMA (or all RAM). */
  dmaSupported(dev: Device, mask: number): boolean {
    if (mask >= dmaBitMask(32)) return true;
    let minMask = this.env.memory.end - PAGE_SIZE;
    if (this.zoneDmaLimit >= 0) minMask = Math.min(minMask, this.zoneDmaLimit);
    const bus = physToDma(dev, minMask);
    return bus !== DMA_MAPPING_ERROR && mask >= bus;
  }

  /** dma_direct_get_required_mask(): a mask covering the bus address of the last page of RAM. */
  getRequiredMask(dev: Device): number {
    const maxDma = physToDma(dev, this.env.memory.end - PAGE_SIZE);
    if (maxDma === DMA_MAPPING_ERROR) return dmaBitMask(64);
    return dmaBitMask(fls(maxDma));
  }

  /** dma_direct_max_mapping_size(): bounded by swiotlb only when bouncing may happen. */
  maxMappingSize(dev: Device): number {
    const tlb = this.env.swiotlb;
    if (tlb !== null && tlb.isActive(dev) && (this.addressingLimited(dev) || this.isForceBounce(dev))) return tlb.maxMappingSize(dev);
    return SIZE_MAX;
  }

  getMergeBoundary(): number {
    return 0;
  }

  /** dma_addressing_limited(): the device cannot reach all of RAM directly. */
  addressingLimited(dev: Device): boolean {
    return dmaStreamingLimit(dev) < this.getRequiredMask(dev);
  }

  // ---- internals --------------------------------------------------------------------------------

  private isForceBounce(dev: Device): boolean {
    const tlb = this.env.swiotlb;
    if (tlb === null) return false;
    return this.env.forceBounce ? tlb.isActive(dev) : tlb.isForceBounce(dev);
  }

  /** swiotlb_map(): bounce, then check the bounce buffer itself is reachable. */
  private swiotlbMap(dev: Device, phys: number, size: number, dir: DmaDataDirection, attrs: DmaAttrs): number {
    const tlb = this.env.swiotlb;
    if (tlb === null) return DMA_MAPPING_ERROR;
    const tlbAddr = tlb.tblMapSingle(dev, phys, size, 0, dir, attrs);
    if (tlbAddr === DMA_MAPPING_ERROR) return DMA_MAPPING_ERROR;
    const dmaAddr = physToDma(dev, tlbAddr);
    if (!dmaCapable(dev, dmaAddr, size)) {
      tlb.tblUnmapSingle(dev, tlbAddr, size, dir, attrs | DMA_ATTR_SKIP_CPU_SYNC);
      this.env.log.warnOnce(
        'kernel/dma/swiotlb.c swiotlb_map',
        `swiotlb addr ${formatDmaAddr(dmaAddr)}+${size} overflow (mask ${bitMaskHex(dev.dma.maskBits)}, bus limit ${formatMaskHex(dev.dma.busDmaLimit)}).`,
        dev,
      );
      return DMA_MAPPING_ERROR;
    }
    if (!dev.dma.coherent && !hasAttr(attrs, DMA_ATTR_SKIP_CPU_SYNC)) archSyncDmaForDevice(this.env.cache, tlbAddr, size, dir);
    return dmaAddr;
  }

  /**
   * __dma_direct_alloc_pages(): the zone the coherent limit calls for (dma_direct_optimal_gfp_mask),
   * retrying lower zones when the pages turn out unreachable (dma_coherent_ok).
   */
  private allocPages(dev: Device, size: number): number | null {
    const order = orderOf(size);
    const limit = dmaCoherentLimit(dev);
    const physLimit = dmaToPhys(dev, limit);
    let gfp: GfpFlags = {};
    if (this.zoneDmaLimit >= 0 && physLimit <= this.zoneDmaLimit) gfp = GFP_DMA;
    else if (physLimit <= dmaBitMask(32)) gfp = GFP_DMA32;
    if (order > MAX_PAGE_ORDER) return this.allocLarge(dev, size, gfp);
    for (;;) {
      const phys = this.env.pages.allocPages(order, gfp);
      if (phys === null) return null;
      if (this.coherentOk(dev, phys, size)) return phys;
      // reachable zones are tried lower and lower, as the kernel's `goto again`
      this.env.pages.freePages(phys, order);
      if (physLimit < dmaBitMask(64) && gfp.zone !== 'DMA32' && gfp.zone !== 'DMA') {
        gfp = GFP_DMA32;
        continue;
      }
      if (this.zoneDmaLimit >= 0 && gfp.zone !== 'DMA') {
        gfp = GFP_DMA;
        continue;
      }
      return null;
    }
  }

  /**
   * Stands in for CMA (dma_alloc_contiguous) for allocations beyond the largest buddy block: a run of
   * adjacent MAX_PAGE_ORDER blocks, from the chosen zone down, that the device can reach. Blocks that
   * do not extend the run are given back.
   */
  private allocLarge(dev: Device, size: number, first: GfpFlags): number | null {
    const blockBytes = 2 ** MAX_PAGE_ORDER * PAGE_SIZE;
    const need = Math.ceil(size / blockBytes);
    const zones: GfpFlags[] = first.zone === 'DMA' ? [GFP_DMA] : first.zone === 'DMA32' ? [GFP_DMA32, GFP_DMA] : [{}, GFP_DMA32, GFP_DMA];
    for (const gfp of zones) {
      const spare: number[] = [];
      let run: number[] = [];
      for (;;) {
        const b = this.env.pages.allocPages(MAX_PAGE_ORDER, gfp);
        if (b === null) break;
        const last = run[run.length - 1];
        if (last !== undefined && b === last + blockBytes) run.push(b);
        else {
          spare.push(...run);
          run = [b];
        }
        if (run.length === need) break;
      }
      for (const b of spare) this.env.pages.freePages(b, MAX_PAGE_ORDER);
      if (run.length === need && this.coherentOk(dev, run[0]!, size)) {
        this.largeAllocs.set(run[0]!, run);
        return run[0]!;
      }
      for (const b of run) this.env.pages.freePages(b, MAX_PAGE_ORDER);
    }
    return null;
  }

  /** dma_coherent_ok(). */
  private coherentOk(dev: Device, phys: number, size: number): boolean {
    const dmaAddr = physToDma(dev, phys);
    if (dmaAddr === DMA_MAPPING_ERROR) return false;
    return dmaAddr + size - 1 <= dmaCoherentLimit(dev);
  }

  /**
   * Zeroes a fresh allocation as the device will see it: lines the CPU still holds for these pages
   * are written back and dropped first (arch_dma_prep_coherent), then memory is cleared.
   */
  private clearForDevice(_dev: Device, phys: number, size: number): void {
    archDmaPrepCoherent(this.env.cache, phys, size);
    this.env.memory.fill(phys, size, 0);
  }
}

/** get_order(): the buddy order covering `size` bytes. */
export function orderOf(size: number): number {
  const pages = Math.max(1, Math.ceil(size / PAGE_SIZE));
  return ilog2(roundupPowOfTwo(pages));
}

