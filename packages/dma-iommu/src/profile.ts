/**
 * Behaviour profiles of dma-iommu. `linux-4.2` is the code as posted in seed 002 (2015), with the
 * bugs its review found; `linux-6.x` is the fixed, current behaviour. The README's profile table
 * names every difference; the constants below are what the code branches on.
 */
export type DmaIommuProfile = 'linux-4.2' | 'linux-6.x';

export const DEFAULT_DMA_IOMMU_PROFILE: DmaIommuProfile = 'linux-6.x';

/** One row of the profile table: what differs, and how each profile behaves. */
export interface ProfileDifference {
  readonly what: string;
  readonly 'linux-4.2': string;
  readonly 'linux-6.x': string;
}

/** Every behavioural difference between the profiles (rendered into the README). */
export const PROFILE_DIFFERENCES: readonly ProfileDifference[] = [
  {
    what: 'double unmap (unmap_page of an IOVA already unmapped)',
    'linux-4.2': 'find_iova() finds nothing and iova_size(NULL) dereferences it: the simulated kernel oopses',
    'linux-6.x': 'iommu_iova_to_phys() gives 0: one WARN, nothing else is touched, the run goes on',
  },
  {
    what: 'map_sg segment layout',
    'linux-4.2': 'segments laid back to back: one after a non-power-of-two segment may straddle the segment boundary',
    'linux-6.x': 'the previous segment is padded so a segment that would cross a boundary starts on it',
  },
  {
    what: 'map_sg merging rule (__finalise_sg)',
    'linux-4.2': 'merge when contiguous, within max_segment_size and the boundary window of the merged start',
    'linux-6.x': 'merge when the segment starts on a granule, not on a boundary, and fits max_segment_size',
  },
  {
    what: 'map_sg failure return',
    'linux-4.2': '0',
    'linux-6.x': '-EINVAL, -ENOMEM (no IOVA space) or the map error',
  },
  {
    what: 'IOVA allocation',
    'linux-4.2': 'alloc_iova() on the tree, size-aligned, no range caches; unmap size comes from the IOVA found',
    'linux-6.x': 'alloc_iova_fast() with range caches; unmap size from the caller; PCI: 32-bit first, given up after one failure',
  },
  {
    what: 'lazy invalidation (DMA_FQ)',
    'linux-4.2': 'not available: every unmap is strict',
    'linux-6.x': 'flush queue: 256 entries per CPU, 10 ms timeout (single queue: 32768, 1000 ms)',
  },
  {
    what: 'where the device DMA ops are set up',
    'linux-4.2': 'arm64 archSetupDmaOps at device creation; attach queued to a bus notifier at priority -100',
    'linux-6.x': 'generic: in the probe path, -EPROBE_DEFER until the IOMMU instance is registered; group default domain used as is',
  },
];
