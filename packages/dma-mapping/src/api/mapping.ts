import type { Device } from '@dmasim/bus';
import { EINVAL, EIO, ENOMEM, PAGE_SIZE } from '@dmasim/core';
import { DMA_MAPPING_ERROR, type DmaAttrs, type DmaDataDirection } from '../constants';
import type { Scatterlist, SgTable } from '../scatterlist/sg-table';
import { checkDirection, targetOf } from './resolve';
import { dmaArgsInvalid, sgNents } from './args';

/**
 * The streaming half of the DMA API (kernel/dma/mapping.c, include/linux/dma-mapping.h). Each call
 * goes to the device's ops and is recorded or checked by dma-debug when the machine has it.
 *
 * CPU buffers are physical addresses: dmasim's "kernel virtual address" of lowmem is the physical
 * address itself (a 1:1 linear map), so `dmaMapSingle(dev, cpuAddr, ...)` takes the address the
 * driver got from the page allocator.
 */

/** dma_map_page_attrs(): maps `size` bytes at `offset` into the page at `pagePhys`. */
export function dmaMapPage(dev: Device, pagePhys: number, offset: number, size: number, dir: DmaDataDirection, attrs: DmaAttrs = 0): number {
  return mapPage(dev, pagePhys, offset, size, dir, attrs, false);
}

/** dma_unmap_page_attrs(). */
export function dmaUnmapPage(dev: Device, addr: number, size: number, dir: DmaDataDirection, attrs: DmaAttrs = 0): void {
  unmapPage(dev, addr, size, dir, attrs, false);
}

/** dma_map_single_attrs(): `cpuAddr` is a linear-map address, i.e. a physical address here. */
export function dmaMapSingle(dev: Device, cpuAddr: number, size: number, dir: DmaDataDirection, attrs: DmaAttrs = 0): number {
  targetOf(dev).debug?.mapSingleArea(dev, cpuAddr, size);
  const offset = cpuAddr % PAGE_SIZE;
  return mapPage(dev, cpuAddr - offset, offset, size, dir, attrs, true);
}

/** dma_unmap_single_attrs(). */
export function dmaUnmapSingle(dev: Device, addr: number, size: number, dir: DmaDataDirection, attrs: DmaAttrs = 0): void {
  unmapPage(dev, addr, size, dir, attrs, true);
}

function mapPage(dev: Device, pagePhys: number, offset: number, size: number, dir: DmaDataDirection, attrs: DmaAttrs, viaSingle: boolean): number {
  const t = targetOf(dev);
  checkDirection(t, dir, 'dma_map_page_attrs');
  if (dmaArgsInvalid(t, dev, viaSingle ? 'dma_map_single_attrs' : 'dma_map_page_attrs', { page: pagePhys, offset, size }, true)) return DMA_MAPPING_ERROR;
  const addr = t.ops.mapPage(dev, pagePhys, offset, size, dir, attrs);
  t.debug?.mapPage(dev, pagePhys + offset, size, dir, addr, viaSingle, viaSingle ? 'dma_map_single_attrs' : 'dma_map_page_attrs');
  return addr;
}

function unmapPage(dev: Device, addr: number, size: number, dir: DmaDataDirection, attrs: DmaAttrs, viaSingle: boolean): void {
  const t = targetOf(dev);
  checkDirection(t, dir, 'dma_unmap_page_attrs');
  if (dmaArgsInvalid(t, dev, 'dma_unmap_page_attrs', { addr, size })) return;
  t.ops.unmapPage(dev, addr, size, dir, attrs);
  t.debug?.unmapPage(dev, addr, size, dir, viaSingle);
}

/** dma_mapping_error(): -ENOMEM for the error address, else 0 (and dma-debug notes the check). */
export function dmaMappingError(dev: Device, addr: number): number {
  targetOf(dev).debug?.mappingError(dev, addr);
  return addr === DMA_MAPPING_ERROR ? -ENOMEM : 0;
}

/** dma_map_resource(): MMIO of another device (no translation, no bounce). */
export function dmaMapResource(dev: Device, physAddr: number, size: number, dir: DmaDataDirection, attrs: DmaAttrs = 0): number {
  const t = targetOf(dev);
  checkDirection(t, dir, 'dma_map_resource');
  if (dmaArgsInvalid(t, dev, 'dma_map_resource', { phys: physAddr, size }, true)) return DMA_MAPPING_ERROR;
  const addr = t.ops.mapResource(dev, physAddr, size, dir, attrs);
  t.debug?.mapResource(dev, physAddr, size, dir, addr);
  return addr;
}

/** dma_unmap_resource(). */
export function dmaUnmapResource(dev: Device, addr: number, size: number, dir: DmaDataDirection, attrs: DmaAttrs = 0): void {
  const t = targetOf(dev);
  checkDirection(t, dir, 'dma_unmap_resource');
  if (dmaArgsInvalid(t, dev, 'dma_unmap_resource', { addr, size })) return;
  t.ops.unmapResource(dev, addr, size, dir, attrs);
  t.debug?.unmapResource(dev, addr, size, dir);
}

/** __dma_map_sg_attrs(): the mapped count, or a negative errno. */
function mapSgRaw(dev: Device, sgl: Scatterlist[], nents: number, dir: DmaDataDirection, attrs: DmaAttrs): number {
  const t = targetOf(dev);
  checkDirection(t, dir, 'dma_map_sg_attrs');
  const n = sgNents(t, dev, 'dma_map_sg_attrs', sgl, nents);
  if (n <= 0) return -EINVAL;
  const ents = t.ops.mapSg(dev, sgl, n, dir, attrs);
  if (ents > 0) t.debug?.mapSg(dev, sgl, n, ents, dir);
  // an ops layer returning 0 (the older convention) is reported as -EIO
  return ents === 0 ? -EIO : ents;
}

/** dma_map_sg_attrs(): the number of DMA segments, 0 on failure (the driver then gives up). */
export function dmaMapSg(dev: Device, sgl: Scatterlist[], nents: number, dir: DmaDataDirection, attrs: DmaAttrs = 0): number {
  const ents = mapSgRaw(dev, sgl, nents, dir, attrs);
  return ents < 0 ? 0 : ents;
}

/** dma_unmap_sg_attrs(): `nents` is what was passed to dmaMapSg, not what it returned. */
export function dmaUnmapSg(dev: Device, sgl: Scatterlist[], nents: number, dir: DmaDataDirection, attrs: DmaAttrs = 0): void {
  const t = targetOf(dev);
  checkDirection(t, dir, 'dma_unmap_sg_attrs');
  const n = sgNents(t, dev, 'dma_unmap_sg_attrs', sgl, nents);
  if (n <= 0) return;
  t.debug?.unmapSg(dev, sgl, n, dir);
  t.ops.unmapSg(dev, sgl, n, dir, attrs);
}

/** dma_map_sgtable(): 0 with `sgt.nents` set, or a negative errno. */
export function dmaMapSgtable(dev: Device, sgt: SgTable, dir: DmaDataDirection, attrs: DmaAttrs = 0): number {
  const ents = mapSgRaw(dev, sgt.sgl, sgt.origNents, dir, attrs);
  if (ents < 0) return ents;
  sgt.nents = ents;
  return 0;
}

/** dma_unmap_sgtable(). */
export function dmaUnmapSgtable(dev: Device, sgt: SgTable, dir: DmaDataDirection, attrs: DmaAttrs = 0): void {
  dmaUnmapSg(dev, sgt.sgl, sgt.origNents, dir, attrs);
}
