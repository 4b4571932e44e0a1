import type { Device } from '@dmasim/bus';
import { dmaBitMask } from '@dmasim/core';
import { dmaFreeCoherent, dmaSetMaskAndCoherent, type DmaCoherentBuffer } from '@dmasim/dma-mapping';

/**
 * The mask negotiation of drivers whose hardware may reach `bits` address bits: ask for that, and
 * when the platform refuses a wider-than-32-bit mask, fall back to 32 bits (what every PCI/AHCI/NIC
 * driver does). 0, or the -errno of the last attempt.
 */
export function dmaSetMaskWithFallback(dev: Device, bits: number): number {
  const rc = dmaSetMaskAndCoherent(dev, dmaBitMask(bits));
  if (rc === 0 || bits <= 32) return rc;
  return dmaSetMaskAndCoherent(dev, dmaBitMask(32));
}

/** dma_free_coherent of each buffer that was allocated, in the order given (nulls are skipped, as on probe error paths). */
export function dmaFreeCoherentBuffers(dev: Device, ...bufs: readonly (DmaCoherentBuffer | null)[]): void {
  for (const b of bufs) if (b !== null) dmaFreeCoherent(dev, b.size, b.cpuAddr, b.dmaHandle);
}
