import { GFP_KERNEL, type GfpFlags } from '@dmasim/core';

/**
 * Allocation flags as dma-iommu reads them: the core's zone choice plus whether the caller may
 * sleep (gfpflags_allow_blocking). Core's GfpFlags has no such bit; `atomic: true` says the
 * caller may not sleep (GFP_ATOMIC, GFP_NOWAIT).
 */
export interface DmaIommuGfp extends GfpFlags {
  readonly atomic?: boolean;
}

export const GFP_ATOMIC: DmaIommuGfp = Object.freeze({ ...GFP_KERNEL, atomic: true });

/** gfpflags_allow_blocking(). */
export function gfpAllowsBlocking(gfp: GfpFlags): boolean {
  return (gfp as DmaIommuGfp).atomic !== true;
}
