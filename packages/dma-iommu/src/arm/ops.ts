import type { Device } from '@dmasim/bus';
import { ENOMEM, ENXIO, PAGE_SIZE, alignDown, alignUp, dmaBitMask, fls, hex, type GfpFlags } from '@dmasim/core';
import {
  DMA_ATTR_NO_KERNEL_MAPPING,
  DMA_ATTR_SKIP_CPU_SYNC,
  DMA_MAPPING_ERROR,
  archSyncDmaForCpu,
  archSyncDmaForDevice,
  hasAttr,
  sgAllocTableFromPages,
  type DmaAttrs,
  type DmaCoherentBuffer,
  type DmaDataDirection,
  type DmaMapOps,
  type Scatterlist,
  type SgTable,
} from '@dmasim/dma-mapping';
import { IOMMU_MMIO, IOMMU_READ, IOMMU_WRITE, iommuIovaToPhys, iommuMap, iommuUnmap } from '@dmasim/iommu-core';
import { ARM_IOMMU_MAPPING_SLOT } from './slot';
import { iommuAllocBuffer, iommuFreeBuffer, type ArmIommuPages } from './buffer';
import type { ArmIommuEnv } from './env';
import type { DmaIommuMapping } from './mapping';
import { armDmaDirectionToProt } from './prot';

/** What the arm IOMMU alloc hands back: the DMA API's buffer plus the pages behind it. */
export interface ArmIommuCoherentBuffer extends DmaCoherentBuffer {
  /** Physical address of each page, in IOVA order. */
  readonly pages: readonly number[];
  /**
   * Whether the pages are physically contiguous, so `cpuAddr` (the first page) reaches the whole
   * buffer. The kernel's CPU view is a vmap and always contiguous; dmasim has none (see buffer.ts).
   */
  readonly cpuContiguous: boolean;
}

const SIZE_MAX = Number.MAX_SAFE_INTEGER;

/**
 * The arm IOMMU DMA ops (arch/arm/mm/dma-mapping.c): `iommu_ops` for non-coherent devices, with CPU
 * cache maintenance around every transfer, and `iommu_coherent_ops` without it. IOVA space comes
 * from the device's DmaIommuMapping (one bitmap bit per 2^order pages); page tables from the
 * mapping's IOMMU domain. Cache maintenance follows dmasim's arm64 rules (dma-mapping's
 * archSyncDmaForDevice / ForCpu) so every ops layer shows a missing sync the same way.
 */
export class ArmIommuOps implements DmaMapOps {
  readonly name = 'arm-iommu';

  constructor(
    private readonly env: ArmIommuEnv,
    /** true: iommu_coherent_ops (no cache maintenance). */
    readonly coherent: boolean,
    /** Coherent buffers by CPU address, shared by both ops of a machine (__iommu_get_pages). */
    private readonly buffers: Map<number, ArmIommuPages>,
  ) {}

  // ---- single pages -----------------------------------------------------------------------------

  /** arm_iommu_map_page / arm_coherent_iommu_map_page. */
  mapPage(dev: Device, pagePhys: number, offset: number, size: number, dir: DmaDataDirection, attrs: DmaAttrs): number {
    const mapping = this.mappingOf(dev, 'arm_iommu_map_page');
    // an offset past the first page names a later page
    const page = pagePhys + alignDown(offset, PAGE_SIZE);
    const off = offset % PAGE_SIZE;
    if (!this.coherent && !hasAttr(attrs, DMA_ATTR_SKIP_CPU_SYNC)) this.cpuToDev(page + off, size, dir);
    const len = alignUp(size + off, PAGE_SIZE);
    const dmaAddr = mapping.allocIova(len);
    if (dmaAddr === DMA_MAPPING_ERROR) return DMA_MAPPING_ERROR;
    if (iommuMap(mapping.domain, dmaAddr, page, len, armDmaDirectionToProt(dir)) < 0) {
      mapping.freeIova(dmaAddr, len);
      return DMA_MAPPING_ERROR;
    }
    return dmaAddr + off;
  }

  /** arm_iommu_unmap_page / arm_coherent_iommu_unmap_page. */
  unmapPage(dev: Device, dmaHandle: number, size: number, dir: DmaDataDirection, attrs: DmaAttrs): void {
    const mapping = this.mappingOf(dev, 'arm_iommu_unmap_page');
    const iova = alignDown(dmaHandle, PAGE_SIZE);
    const off = dmaHandle - iova;
    const len = alignUp(size + off, PAGE_SIZE);
    if (iova === 0) return;
    if (!this.coherent && !hasAttr(attrs, DMA_ATTR_SKIP_CPU_SYNC)) {
      this.devToCpu(iommuIovaToPhys(mapping.domain, iova) + off, size, dir);
    }
    iommuUnmap(mapping.domain, iova, len);
    mapping.freeIova(iova, len);
  }

  /** arm_iommu_sync_single_for_cpu (nothing for coherent ops). */
  syncSingleForCpu(dev: Device, dmaHandle: number, size: number, dir: DmaDataDirection): void {
    if (this.coherent) return;
    const mapping = this.mappingOf(dev, 'arm_iommu_sync_single_for_cpu');
    const iova = alignDown(dmaHandle, PAGE_SIZE);
    if (iova === 0) return;
    this.devToCpu(iommuIovaToPhys(mapping.domain, iova) + (dmaHandle - iova), size, dir);
  }

  /** arm_iommu_sync_single_for_device (nothing for coherent ops). */
  syncSingleForDevice(dev: Device, dmaHandle: number, size: number, dir: DmaDataDirection): void {
    if (this.coherent) return;
    const mapping = this.mappingOf(dev, 'arm_iommu_sync_single_for_device');
    const iova = alignDown(dmaHandle, PAGE_SIZE);
    if (iova === 0) return;
    this.cpuToDev(iommuIovaToPhys(mapping.domain, iova) + (dmaHandle - iova), size, dir);
  }

  // ---- scatterlists -----------------------------------------------------------------------------

  /**
   * __iommu_map_sg(): entries are gathered into chunks while each next entry starts at offset 0,
   * the chunk so far ends on a page boundary and the chunk stays within the device's max segment
   * size; each chunk gets one contiguous IOVA allocation (__map_sg_chunk) and becomes one DMA
   * segment. Entries after the first have their DMA fields reset. Returns the segment count, or 0
   * after undoing the chunks already mapped.
   */
  mapSg(dev: Device, sgl: Scatterlist[], nents: number, dir: DmaDataDirection, attrs: DmaAttrs): number {
    const mapping = this.mappingOf(dev, 'arm_iommu_map_sg');
    const n = Math.min(nents, sgl.length);
    if (n === 0) return 0;
    const max = dev.dma.maxSegmentSize;
    let start = 0;
    let dma = 0;
    let count = 0;
    let offset = sgl[0]!.offset;
    let size = offset + sgl[0]!.length;
    for (let i = 1; i <= n; i++) {
      const s = sgl[i];
      if (i < n) {
        s!.dmaAddress = DMA_MAPPING_ERROR;
        s!.dmaLength = 0;
      }
      const closes = i === n || s!.offset !== 0 || size % PAGE_SIZE !== 0 || size + s!.length > max;
      if (closes) {
        const handle = this.mapSgChunk(mapping, sgl, start, size, dir, attrs);
        const out = sgl[dma]!;
        if (handle === DMA_MAPPING_ERROR) {
          out.dmaAddress = DMA_MAPPING_ERROR;
          for (let j = 0; j < count; j++) this.removeMapping(mapping, sgl[j]!.dmaAddress, sgl[j]!.dmaLength);
          return 0;
        }
        out.dmaAddress = handle + offset;
        out.dmaLength = size - offset;
        count++;
        if (i === n) break;
        offset = s!.offset;
        size = offset;
        start = i;
        dma++;
      }
      size += s!.length;
    }
    return count;
  }

  /**
   * arm_iommu_unmap_sg: every CPU entry of the list (callers pass the count they mapped with): the
   * DMA segment it carries, if any, is unmapped, and its pages handed back to the CPU.
   */
  unmapSg(dev: Device, sgl: Scatterlist[], nents: number, dir: DmaDataDirection, attrs: DmaAttrs): void {
    const mapping = this.mappingOf(dev, 'arm_iommu_unmap_sg');
    const n = Math.min(nents, sgl.length);
    for (let i = 0; i < n; i++) {
      const s = sgl[i]!;
      if (s.dmaLength !== 0) this.removeMapping(mapping, s.dmaAddress, s.dmaLength);
      if (!this.coherent && !hasAttr(attrs, DMA_ATTR_SKIP_CPU_SYNC)) this.devToCpu(s.pagePhys + s.offset, s.length, dir);
    }
  }

  /** arm_iommu_sync_sg_for_cpu: the CPU side of each entry (nothing for coherent ops). */
  syncSgForCpu(_dev: Device, sgl: Scatterlist[], nents: number, dir: DmaDataDirection): void {
    if (this.coherent) return;
    for (let i = 0; i < Math.min(nents, sgl.length); i++) this.devToCpu(sgl[i]!.pagePhys + sgl[i]!.offset, sgl[i]!.length, dir);
  }

  /** arm_iommu_sync_sg_for_device (nothing for coherent ops). */
  syncSgForDevice(_dev: Device, sgl: Scatterlist[], nents: number, dir: DmaDataDirection): void {
    if (this.coherent) return;
    for (let i = 0; i < Math.min(nents, sgl.length); i++) this.cpuToDev(sgl[i]!.pagePhys + sgl[i]!.offset, sgl[i]!.length, dir);
  }

  // ---- MMIO resources (later arm kernels) --------------------------------------------------------

  /** arm_iommu_map_resource(): another device's registers, mapped IOMMU_MMIO, never synced. */
  mapResource(dev: Device, physAddr: number, size: number, dir: DmaDataDirection, _attrs: DmaAttrs): number {
    const mapping = this.mappingOf(dev, 'arm_iommu_map_resource');
    const off = physAddr % PAGE_SIZE;
    const len = alignUp(size + off, PAGE_SIZE);
    const dmaAddr = mapping.allocIova(len);
    if (dmaAddr === DMA_MAPPING_ERROR) return DMA_MAPPING_ERROR;
    if (iommuMap(mapping.domain, dmaAddr, physAddr - off, len, armDmaDirectionToProt(dir) | IOMMU_MMIO) < 0) {
      mapping.freeIova(dmaAddr, len);
      return DMA_MAPPING_ERROR;
    }
    return dmaAddr + off;
  }

  /** arm_iommu_unmap_resource(). */
  unmapResource(dev: Device, dmaHandle: number, size: number, _dir: DmaDataDirection, _attrs: DmaAttrs): void {
    const mapping = this.mappingOf(dev, 'arm_iommu_unmap_resource');
    if (alignDown(dmaHandle, PAGE_SIZE) === 0) return;
    this.removeMapping(mapping, dmaHandle, size);
  }

  // ---- coherent buffers -------------------------------------------------------------------------

  /**
   * arm_iommu_alloc_attrs(): pages gathered (buffer.ts), mapped back to back in one IOVA allocation
   * (__iommu_create_mapping). Non-coherent devices use the buffer uncached.
   */
  alloc(dev: Device, size: number, gfp: GfpFlags, attrs: DmaAttrs): ArmIommuCoherentBuffer | null {
    const mapping = this.mappingOf(dev, 'arm_iommu_alloc_attrs');
    const bytes = alignUp(Math.max(size, 1), PAGE_SIZE);
    const buf = iommuAllocBuffer(this.env, bytes, gfp);
    if (buf === null) return null;
    const dmaHandle = this.createMapping(mapping, buf.pages, bytes);
    if (dmaHandle === DMA_MAPPING_ERROR) {
      iommuFreeBuffer(this.env, buf);
      return null;
    }
    const cpuAddr = buf.pages[0]!;
    this.buffers.set(cpuAddr, buf);
    const cpuMapping = hasAttr(attrs, DMA_ATTR_NO_KERNEL_MAPPING) ? 'none' : dev.dma.coherent ? 'cacheable' : 'uncached';
    return { cpuAddr, dmaHandle, size, mapping: cpuMapping, pages: buf.pages, cpuContiguous: buf.contiguous };
  }

  /** arm_iommu_free_attrs(). */
  free(dev: Device, size: number, cpuAddr: number, dmaHandle: number, _attrs: DmaAttrs): void {
    const mapping = this.mappingOf(dev, 'arm_iommu_free_attrs');
    const buf = this.buffers.get(cpuAddr);
    if (buf === undefined) {
      this.env.log.warn('arch/arm/mm/dma-mapping.c arm_iommu_free_attrs', `trying to free invalid coherent area: ${hex(cpuAddr)}`);
      return;
    }
    this.removeMapping(mapping, dmaHandle, alignUp(Math.max(size, 1), PAGE_SIZE));
    this.buffers.delete(cpuAddr);
    iommuFreeBuffer(this.env, buf);
  }

  /** arm_iommu_get_sgtable(): the buffer's pages, contiguous ones merged. */
  getSgtable(_dev: Device, sgt: SgTable, cpuAddr: number, _dmaHandle: number, size: number, _attrs: DmaAttrs): number {
    const buf = this.buffers.get(cpuAddr);
    if (buf === undefined) return -ENXIO;
    return sgAllocTableFromPages(sgt, buf.pages, 0, size) === 0 ? 0 : -ENOMEM;
  }

  // ---- capabilities -----------------------------------------------------------------------------

  /** A mask is enough when it covers every IOVA the device's mapping may hand out. */
  dmaSupported(dev: Device, mask: number): boolean {
    const mapping = dev.getSlot(ARM_IOMMU_MAPPING_SLOT);
    return mapping !== undefined && mask >= lastIova(mapping);
  }

  getRequiredMask(dev: Device): number {
    const mapping = dev.getSlot(ARM_IOMMU_MAPPING_SLOT);
    return mapping === undefined ? dmaBitMask(32) : dmaBitMask(fls(lastIova(mapping)));
  }

  maxMappingSize(): number {
    return SIZE_MAX;
  }

  getMergeBoundary(): number {
    return 0;
  }

  // ---- internals --------------------------------------------------------------------------------

  /** to_dma_iommu_mapping(dev): the kernel dereferences it unchecked, so a missing one oopses. */
  private mappingOf(dev: Device, fn: string): DmaIommuMapping {
    const mapping = dev.getSlot(ARM_IOMMU_MAPPING_SLOT);
    if (mapping === undefined || mapping.released) {
      this.env.log.oops(`Unable to handle kernel NULL pointer dereference in ${fn}`, [`${dev.name}: arm IOMMU ops without a dma_iommu_mapping`]);
    }
    return mapping;
  }

  /**
   * __map_sg_chunk(): one IOVA allocation for the chunk's pages (whole pages of each entry, from
   * the entry's page start), mapped entry by entry. Returns the IOVA or DMA_MAPPING_ERROR.
   */
  private mapSgChunk(mapping: DmaIommuMapping, sgl: Scatterlist[], first: number, size: number, dir: DmaDataDirection, attrs: DmaAttrs): number {
    const bytes = alignUp(size, PAGE_SIZE);
    const base = mapping.allocIova(bytes);
    if (base === DMA_MAPPING_ERROR) return DMA_MAPPING_ERROR;
    const prot = armDmaDirectionToProt(dir);
    let iova = base;
    for (let i = first; iova - base < bytes; i++) {
      const s = sgl[i]!;
      const len = alignUp(s.offset + s.length, PAGE_SIZE);
      if (!this.coherent && !hasAttr(attrs, DMA_ATTR_SKIP_CPU_SYNC)) this.cpuToDev(s.pagePhys + s.offset, s.length, dir);
      if (iommuMap(mapping.domain, iova, s.pagePhys, len, prot) < 0) {
        iommuUnmap(mapping.domain, base, iova - base);
        mapping.freeIova(base, bytes);
        return DMA_MAPPING_ERROR;
      }
      iova += len;
    }
    return base;
  }

  /** __iommu_create_mapping(): runs of physically contiguous pages mapped back to back. */
  private createMapping(mapping: DmaIommuMapping, pages: readonly number[], size: number): number {
    const base = mapping.allocIova(size);
    if (base === DMA_MAPPING_ERROR) return DMA_MAPPING_ERROR;
    let iova = base;
    for (let i = 0; i < pages.length; ) {
      let j = i + 1;
      while (j < pages.length && pages[j] === pages[i]! + (j - i) * PAGE_SIZE) j++;
      const len = (j - i) * PAGE_SIZE;
      if (iommuMap(mapping.domain, iova, pages[i]!, len, IOMMU_READ | IOMMU_WRITE) < 0) {
        iommuUnmap(mapping.domain, base, iova - base);
        mapping.freeIova(base, size);
        return DMA_MAPPING_ERROR;
      }
      iova += len;
      i = j;
    }
    return base;
  }

  /** __iommu_remove_mapping(): unmap and free the whole pages under [iova, iova + size). */
  private removeMapping(mapping: DmaIommuMapping, iova: number, size: number): void {
    const off = iova % PAGE_SIZE;
    const start = iova - off;
    const len = alignUp(off + size, PAGE_SIZE);
    iommuUnmap(mapping.domain, start, len);
    mapping.freeIova(start, len);
  }

  /** __dma_page_cpu_to_dev(). */
  private cpuToDev(phys: number, size: number, dir: DmaDataDirection): void {
    archSyncDmaForDevice(this.env.cache, phys, size, dir);
  }

  /** __dma_page_dev_to_cpu(). */
  private devToCpu(phys: number, size: number, dir: DmaDataDirection): void {
    archSyncDmaForCpu(this.env.cache, phys, size, dir);
  }
}

/** The highest IOVA the mapping may hand out (its maximum size, or its initial one if larger). */
function lastIova(mapping: DmaIommuMapping): number {
  return mapping.base + Math.max(mapping.size, mapping.maxSize) - 1;
}
