import type { SwiotlbDevice } from './device';

/**
 * Observational events of swiotlb (eventemitter3): bounce buffers taken and released, and the
 * "buffer is full" failures, with the slots in use after each, for traces and reports. Built only
 * when someone listens.
 */
export interface SwiotlbEvents {
  bounce: (e: { device: SwiotlbDevice; orig: number; tlb: number; size: number; usedSlots: number; totalSlots: number }) => void;
  release: (e: { device: SwiotlbDevice; tlb: number; size: number; usedSlots: number; totalSlots: number }) => void;
  full: (e: { device: SwiotlbDevice; size: number; usedSlots: number; totalSlots: number }) => void;
}
