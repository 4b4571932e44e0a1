/**
 * The two-step DMA API of seed 001 (dma_iova_* in include/linux/dma-mapping.h, implemented in
 * dma-iommu): allocate IOVA space up front, then link physical ranges into it on the fast path
 * without an IOTLB sync each, sync once, and later unlink and free. Callers need no struct page:
 * everything is a physical address. `dmaIovaTryAlloc` fails cleanly for a device that does not use
 * iommu-dma, so the caller falls back to dma_map_sg.
 */
import type { Device } from '@dmasim/bus';
import { EIO, EOPNOTSUPP, modulo } from '@dmasim/core';
import {
  DMA_ATTR_SKIP_CPU_SYNC,
  archSyncDmaForCpu,
  archSyncDmaForDevice,
  hasAttr,
  type DmaAttrs,
  type DmaDataDirection,
} from '@dmasim/dma-mapping';
import { IommuIotlbGather, iommuIotlbSync, iommuIovaToPhys, iommuMapNosync, iommuSyncMap, iommuUnmapFast } from '@dmasim/iommu-core';
import type { IommuDmaCookie } from '../iommu-dma/cookie';
import { iommuDmaOf, type IommuDma } from '../iommu-dma/iommu-dma';
import { iommuDmaAllocIova, iommuDmaFreeIova } from '../iommu-dma/iova-alloc';
import { dmaInfoToProt } from '../iommu-dma/prot';

const SITE = 'drivers/iommu/dma-iommu.c';

/** struct dma_iova_state: the IOVA handed out (with the first range's granule offset) and its size. */
export interface DmaIovaState {
  addr: number;
  size: number;
}

/** A zeroed state, as callers declare one. */
export function dmaIovaState(): DmaIovaState {
  return { addr: 0, size: 0 };
}

/** dma_use_iova(): whether try_alloc succeeded (the caller then links; else it uses map_sg). */
export function dmaUseIova(state: DmaIovaState): boolean {
  return state.size !== 0;
}

/** dma_iova_size(). */
export function dmaIovaSize(state: DmaIovaState): number {
  return state.size;
}

function layerAndCookie(dev: Device): { dma: IommuDma; cookie: IommuDmaCookie } | null {
  const dma = iommuDmaOf(dev);
  if (dma === null) return null;
  const cookie = dma.cookieFor(dev);
  return cookie === null ? null : { dma, cookie };
}

function iovaAlign(cookie: IommuDmaCookie, size: number): number {
  const g = cookie.iovad!.granule;
  return Math.ceil(size / g) * g;
}

/**
 * dma_iova_try_alloc(): reserve IOVA space for `size` bytes whose first byte is at `phys`. Only
 * the offset of `phys` inside the IOVA granule matters: it is kept, so the first range may start
 * unaligned (an NVMe PRP list's first entry). false when the device is not behind iommu-dma, for a
 * zero size (with a WARN), or when no space is left.
 */
export function dmaIovaTryAlloc(dev: Device, state: DmaIovaState, phys: number, size: number): boolean {
  state.addr = 0;
  state.size = 0;
  const lc = layerAndCookie(dev);
  if (lc === null) return false;
  if (size === 0) {
    lc.dma.log.warnOnce(`${SITE} iommu_dma_iova_alloc`);
    return false;
  }
  const iovaOff = modulo(phys, lc.cookie.iovad!.granule);
  const addr = iommuDmaAllocIova(lc.cookie, iovaAlign(lc.cookie, size + iovaOff), dev.dmaMaskLimit, dev, lc.dma.profile, lc.dma.log);
  if (addr === 0) return false;
  state.addr = addr + iovaOff;
  state.size = size;
  return true;
}

/** dma_iova_free(): give the space back without unmapping (every link must be undone first). */
export function dmaIovaFree(dev: Device, state: DmaIovaState): void {
  const lc = layerAndCookie(dev);
  if (lc === null || state.size === 0) return;
  const pad = modulo(state.addr, lc.cookie.iovad!.granule);
  iommuDmaFreeIova(lc.cookie, state.addr - pad, iovaAlign(lc.cookie, state.size + pad), null, lc.dma.profile);
}

/**
 * dma_iova_link(): map `size` bytes at `phys` to `offset` bytes into the reserved space, without an
 * IOTLB sync (dmaIovaSync does that once for many links). Only the first link (offset 0) may start
 * off a granule boundary: -EIO (with a WARN) otherwise. -EOPNOTSUPP without iommu-dma.
 */
export function dmaIovaLink(dev: Device, state: DmaIovaState, phys: number, offset: number, size: number, dir: DmaDataDirection, attrs: DmaAttrs = 0): number {
  const lc = layerAndCookie(dev);
  if (lc === null) return -EOPNOTSUPP;
  const { dma, cookie } = lc;
  const pad = modulo(phys, cookie.iovad!.granule);
  if (pad !== 0 && offset > 0) {
    dma.log.warnOnce(`${SITE} dma_iova_link`);
    return -EIO;
  }
  const coherent = dev.dma.coherent;
  if (!coherent && !hasAttr(attrs, DMA_ATTR_SKIP_CPU_SYNC)) archSyncDmaForDevice(dma.cache, phys, size, dir);
  return iommuMapNosync(cookie.domain, state.addr + offset - pad, phys - pad, iovaAlign(cookie, size + pad), dmaInfoToProt(dir, coherent, attrs));
}

/** dma_iova_sync(): the IOTLB sync for links in [offset, offset+size). 0 or -errno. */
export function dmaIovaSync(dev: Device, state: DmaIovaState, offset: number, size: number): number {
  const lc = layerAndCookie(dev);
  if (lc === null) return -EOPNOTSUPP;
  const addr = state.addr + offset;
  const pad = modulo(addr, lc.cookie.iovad!.granule);
  return iommuSyncMap(lc.cookie.domain, addr - pad, iovaAlign(lc.cookie, size + pad));
}

const unlinkGather = new IommuIotlbGather();

function iovaUnlink(dev: Device, state: DmaIovaState, offset: number, size: number, dir: DmaDataDirection, attrs: DmaAttrs, freeIova: boolean): void {
  const lc = layerAndCookie(dev);
  if (lc === null) return;
  const { dma, cookie } = lc;
  const granule = cookie.iovad!.granule;
  const addr = state.addr + offset;
  const pad = modulo(addr, granule);
  const start = addr - pad;
  const len = iovaAlign(cookie, size + pad);
  if (!dev.dma.coherent && !hasAttr(attrs, DMA_ATTR_SKIP_CPU_SYNC)) {
    // the slow path: granule by granule through the translation, so the CPU sees the device's data
    const end = addr + size;
    for (let a = addr; a < end; ) {
      const phys = iommuIovaToPhys(cookie.domain, a);
      if (phys === 0) {
        dma.log.warn(`${SITE} iommu_dma_iova_unlink_range_slow`);
        return;
      }
      const n = Math.min(end - a, granule - modulo(a, granule));
      archSyncDmaForCpu(dma.cache, phys, n, dir);
      a += n;
    }
  }
  const gather = unlinkGather;
  gather.start = Number.MAX_SAFE_INTEGER;
  gather.end = 0;
  gather.pgsize = 0;
  gather.freelist.length = 0;
  gather.queued = freeIova && cookie.fq !== null;
  const unmapped = iommuUnmapFast(cookie.domain, start, len, gather);
  if (unmapped !== len) dma.log.warn(`${SITE} __iommu_dma_iova_unlink`);
  if (!gather.queued) iommuIotlbSync(cookie.domain, gather);
  if (freeIova) iommuDmaFreeIova(cookie, start, len, gather, dma.profile);
}

/** dma_iova_unlink(): unmap [offset, offset+size) (syncing for the CPU first), keeping the space. */
export function dmaIovaUnlink(dev: Device, state: DmaIovaState, offset: number, size: number, dir: DmaDataDirection, attrs: DmaAttrs = 0): void {
  iovaUnlink(dev, state, offset, size, dir, attrs, false);
}

/**
 * dma_iova_destroy(): unlink the first `mappedLen` bytes and free the space (lazily under a flush
 * queue); with nothing mapped (the first link failed) only the space is freed.
 */
export function dmaIovaDestroy(dev: Device, state: DmaIovaState, mappedLen: number, dir: DmaDataDirection, attrs: DmaAttrs = 0): void {
  if (mappedLen !== 0) iovaUnlink(dev, state, 0, mappedLen, dir, attrs, true);
  else dmaIovaFree(dev, state);
}
