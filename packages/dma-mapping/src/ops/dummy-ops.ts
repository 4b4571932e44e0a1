import type { Device } from '@dmasim/bus';
import { EINVAL, ENXIO } from '@dmasim/core';
import { DMA_MAPPING_ERROR } from '../constants';
import type { DmaMapOps } from './dma-map-ops';

/**
 * dma_dummy_ops: the ops of a device that cannot do DMA (no DMA configured, or its IOMMU set-up
 * failed). Every mapping fails, no mask is supported, allocations return nothing.
 */
export const dmaDummyOps: DmaMapOps = Object.freeze({
  name: 'none',
  alloc: () => null,
  free: () => undefined,
  getSgtable: () => -ENXIO,
  mapPage: () => DMA_MAPPING_ERROR,
  unmapPage: () => undefined,
  mapSg: () => -EINVAL,
  unmapSg: () => undefined,
  mapResource: () => DMA_MAPPING_ERROR,
  unmapResource: () => undefined,
  syncSingleForCpu: () => undefined,
  syncSingleForDevice: () => undefined,
  syncSgForCpu: () => undefined,
  syncSgForDevice: () => undefined,
  dmaSupported: (_dev: Device, _mask: number) => false,
  getRequiredMask: () => 0,
  maxMappingSize: () => Number.MAX_SAFE_INTEGER,
  getMergeBoundary: () => 0,
});
