import { Slot, type Device } from '@dmasim/bus';

/**
 * Fault injection: a driver bug that programs one descriptor with an address nothing mapped. Behind
 * an IOMMU the device takes a translation fault; without one the access goes wherever the bus sends it.
 */
export const INJECT_FAULT_SLOT = new Slot<{ remaining: number }>('devices.inject-fault');

/** The bogus bus address a buggy driver programs: page 1, which IOVA allocators hand out last. */
export const BAD_DMA_ADDR = 0x1000;

/** Makes the device's driver program `count` bad descriptor addresses, one per following request. */
export function injectDmaFault(dev: Device, count = 1): void {
  dev.setSlot(INJECT_FAULT_SLOT, { remaining: count });
}

/** The driver side: whether this request should carry the bug (consumes one injection). */
export function takeInjectedFault(dev: Device): boolean {
  const s = dev.getSlot(INJECT_FAULT_SLOT);
  if (s === undefined || s.remaining <= 0) return false;
  s.remaining--;
  return true;
}
