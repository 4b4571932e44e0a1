import type { BusDmaRegion, Device } from '@dmasim/bus';
import { dmaBitMask, fls } from '@dmasim/core';
import { DMA_MAPPING_ERROR } from '../constants';

/**
 * Physical ↔ DMA address translation and the reachability check of dma-direct
 * (include/linux/dma-direct.h). A device's `dma-ranges` become `dev.dma.rangeMap`; no map means the
 * bus address equals the physical address.
 */

/** The kernel returns (phys_addr_t)-1 when no region covers a bus address. */
export const INVALID_PHYS_ADDR = Number.MAX_SAFE_INTEGER;

/** min_not_zero(). */
export function minNotZero(a: number, b: number): number {
  if (a === 0) return b;
  if (b === 0) return a;
  return Math.min(a, b);
}

/** translate_phys_to_dma(): the first region covering `paddr`, else DMA_MAPPING_ERROR. */
export function translatePhysToDma(map: readonly BusDmaRegion[], paddr: number): number {
  for (const r of map) {
    if (paddr >= r.cpuStart && paddr - r.cpuStart < r.size) return r.dmaStart + (paddr - r.cpuStart);
  }
  return DMA_MAPPING_ERROR;
}

/** translate_dma_to_phys(): the first region covering `dmaAddr`, else INVALID_PHYS_ADDR. */
export function translateDmaToPhys(map: readonly BusDmaRegion[], dmaAddr: number): number {
  for (const r of map) {
    if (dmaAddr >= r.dmaStart && dmaAddr - r.dmaStart < r.size) return r.cpuStart + (dmaAddr - r.dmaStart);
  }
  return INVALID_PHYS_ADDR;
}

/** phys_to_dma(): through the device's range map, identity without one. */
export function physToDma(dev: Device, paddr: number): number {
  const map = dev.dma.rangeMap;
  return map === null ? paddr : translatePhysToDma(map, paddr);
}

/** dma_to_phys(). */
export function dmaToPhys(dev: Device, dmaAddr: number): number {
  const map = dev.dma.rangeMap;
  return map === null ? dmaAddr : translateDmaToPhys(map, dmaAddr);
}

/** dma_range_map_min(): lowest bus address of the map. */
export function dmaRangeMapMin(map: readonly BusDmaRegion[]): number {
  return map.reduce((m, r) => Math.min(m, r.dmaStart), Number.MAX_SAFE_INTEGER);
}

/** dma_range_map_max(): highest bus address of the map. */
export function dmaRangeMapMax(map: readonly BusDmaRegion[]): number {
  return map.reduce((m, r) => Math.max(m, r.dmaStart + r.size - 1), 0);
}

/** The limit a streaming mapping must stay below: min_not_zero(*dev->dma_mask, dev->bus_dma_limit). */
export function dmaStreamingLimit(dev: Device): number {
  return minNotZero(dmaBitMask(dev.dma.maskBits), dev.dma.busDmaLimit);
}

/** The limit a coherent allocation must stay below: min_not_zero(coherent_dma_mask, bus_dma_limit). */
export function dmaCoherentLimit(dev: Device): number {
  return minNotZero(dmaBitMask(dev.dma.coherentMaskBits), dev.dma.busDmaLimit);
}

/**
 * dma_capable(): the whole bus range [addr, addr+size) lies under the streaming limit. A failed
 * translation (DMA_MAPPING_ERROR) is never capable.
 */
export function dmaCapable(dev: Device, addr: number, size: number): boolean {
  if (addr === DMA_MAPPING_ERROR) return false;
  const end = addr + Math.max(size, 1) - 1;
  return end <= dmaStreamingLimit(dev);
}

/**
 * The highest CPU physical address the device reaches directly (for reports): the last address whose
 * translation passes dma_capable, searched over the range map's regions.
 */
export function dmaDirectPhysLimit(dev: Device): number {
  const limit = dmaStreamingLimit(dev);
  const map = dev.dma.rangeMap;
  if (map === null) return limit;
  let best = -1;
  for (const r of map) {
    if (r.dmaStart > limit) continue;
    const lastDma = Math.min(r.dmaStart + r.size - 1, limit);
    best = Math.max(best, r.cpuStart + (lastDma - r.dmaStart));
  }
  return best;
}

/**
 * Converts a mask given as a limit (DMA_BIT_MASK(n) = 2^n - 1) to the bit width a Device stores.
 * Every width from 53 up is the same number (2^53 - 1); drivers ask for those as DMA_BIT_MASK(64),
 * so that is the width kept (and printed: ffffffffffffffff).
 */
export function maskBitsOf(mask: number): number {
  if (mask >= Number.MAX_SAFE_INTEGER) return 64;
  return Math.min(fls(mask), 64);
}

/** `%llx` of a mask or limit as the kernel prints it (a 64-bit all-ones mask prints in full). */
export function formatMaskHex(mask: number): string {
  return mask >= Number.MAX_SAFE_INTEGER ? 'ffffffffffffffff' : mask.toString(16);
}

/** `%pad` / `0x%016llx` of a bus address; DMA_MAPPING_ERROR prints as the kernel's all-ones value. */
export function formatDmaAddr(addr: number): string {
  return addr === DMA_MAPPING_ERROR ? '0xffffffffffffffff' : `0x${addr.toString(16).padStart(16, '0')}`;
}
