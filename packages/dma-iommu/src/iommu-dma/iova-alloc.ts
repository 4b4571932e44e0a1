import { Slot, type Device } from '@dmasim/bus';
import { dmaBitMask, fls, type KernelLog } from '@dmasim/core';
import type { IommuDomain, IommuIotlbGather } from '@dmasim/iommu-core';
import type { DmaIommuProfile } from '../profile';
import type { IommuDmaCookie } from './cookie';

/**
 * dev->iommu->pci_32bit_workaround: a PCI device first gets IOVAs below 4 GiB; the first time that
 * fails it is given up for good. Absent = not decided yet (set true for PCI on first use).
 */
const PCI_32BIT_WORKAROUND = new Slot<boolean>('dma-iommu.pci-32bit-workaround');

const DMA_BIT_MASK_32 = dmaBitMask(32);

/** Whether a device sits on a PCI bus (dev_is_pci). */
export function devIsPci(dev: Device): boolean {
  return dev.bus?.name === 'pci';
}

/** iommu.forcedac: PCI devices skip the 32-bit first try. */
export function setPci32BitWorkaround(dev: Device, on: boolean): void {
  dev.setSlot(PCI_32BIT_WORKAROUND, on);
}

export function pci32BitWorkaround(dev: Device): boolean {
  const v = dev.getSlot(PCI_32BIT_WORKAROUND);
  if (v !== undefined) return v;
  const on = devIsPci(dev);
  dev.setSlot(PCI_32BIT_WORKAROUND, on);
  return on;
}

function minNotZero(a: number, b: number): number {
  if (a === 0) return b;
  if (b === 0) return a;
  return Math.min(a, b);
}

/**
 * iommu_dma_alloc_iova(): `size` bytes (granule-aligned) of IOVA space, size-aligned, below
 * min(dma_limit, bus_dma_limit) and the aperture. Returns the IOVA, or 0 when none is free (page 0
 * is never allocated, so 0 is unambiguous).
 *
 * `linux-4.2` allocates on the tree each time (alloc_iova). `linux-6.x` uses the range caches and,
 * for a PCI device with a limit above 4 GiB, tries below 4 GiB first; after one failure it stops
 * trying and says `Using N-bit DMA addresses`.
 */
export function iommuDmaAllocIova(
  cookie: IommuDmaCookie,
  size: number,
  dmaLimit: number,
  dev: Device,
  profile: DmaIommuProfile,
  log: KernelLog,
): number {
  const iovad = cookie.iovad!;
  const domain: IommuDomain = cookie.domain;
  const granule = iovad.granule;
  const iovaLen = size / granule;
  let limit = minNotZero(dmaLimit, dev.dma.busDmaLimit);
  if (domain.geometry.forceAperture) limit = Math.min(limit, domain.geometry.apertureEnd);
  if (profile === 'linux-4.2') {
    const iova = iovad.allocIova(iovaLen, Math.floor(limit / granule), true);
    return iova === null ? 0 : iova.pfnLo * granule;
  }
  if (limit > DMA_BIT_MASK_32 && pci32BitWorkaround(dev)) {
    const pfn = iovad.allocIovaFast(iovaLen, Math.floor(DMA_BIT_MASK_32 / granule), false);
    if (pfn !== 0) return pfn * granule;
    setPci32BitWorkaround(dev, false);
    log.dev('notice', dev, `Using ${Math.min(64, fls(limit))}-bit DMA addresses`);
  }
  const pfn = iovad.allocIovaFast(iovaLen, Math.floor(limit / granule), true);
  return pfn * granule;
}

/**
 * iommu_dma_free_iova(): give `size` bytes at `iova` back. Lazy unmaps (gather.queued) go through
 * the flush queue; otherwise the range is reusable at once.
 */
export function iommuDmaFreeIova(cookie: IommuDmaCookie, iova: number, size: number, gather: IommuIotlbGather | null, profile: DmaIommuProfile): void {
  const iovad = cookie.iovad!;
  const pfn = iova / iovad.granule;
  const pages = size / iovad.granule;
  if (gather !== null && gather.queued && cookie.fq !== null) cookie.fq.queueIova(pfn, pages);
  else if (profile === 'linux-4.2') iovad.freeIova(pfn);
  else iovad.freeIovaFast(pfn, pages);
}
