import { modulo } from '@dmasim/core';
/**
 * The scatterlist arithmetic of iommu_dma_map_sg, kept apart from the mapping itself: laying the
 * entries out granule-aligned in one IOVA range (rewriting the list in place, reversibly, with the
 * original offset and length stashed in the still-unused DMA fields), merging them into DMA
 * segments afterwards, and restoring the list when mapping failed.
 *
 * Invariant between `layoutSg` and `finaliseSg`/`invalidateSg`: for each entry, `dmaAddress`
 * holds the offset of its data inside the first granule, `dmaLength` its original length, `offset`
 * is granule-aligned and `length` is the IOVA space the entry takes (granule multiple, plus any
 * padding added for the next entry).
 */
import { DMA_MAPPING_ERROR, type Scatterlist } from '@dmasim/dma-mapping';
import type { DmaIommuProfile } from '../profile';

/** Segment-boundary masks this large mean "no boundary" (ULONG_MAX in the kernel). */
function boundaryOf(mask: number): number {
  return mask >= Number.MAX_SAFE_INTEGER - 1 ? 0 : mask + 1;
}

/**
 * The first loop of iommu_dma_map_sg: align each of the first `nents` entries to the granule and
 * return the IOVA space needed. `linux-6.x` pads the previous entry when the next one would cross a
 * segment boundary, so it starts exactly on it (the single allocation is size-aligned, so
 * positions relative to its start are enough); `linux-4.2` lays entries back to back.
 */
export function layoutSg(sgl: Scatterlist[], nents: number, granule: number, boundaryMask: number, profile: DmaIommuProfile): number {
  const boundary = boundaryOf(boundaryMask);
  let iovaLen = 0;
  let prev: Scatterlist | null = null;
  for (let i = 0; i < nents; i++) {
    const s = sgl[i]!;
    const sOff = modulo(s.offset, granule);
    const origLen = s.length;
    s.dmaAddress = sOff;
    s.dmaLength = origLen;
    s.offset -= sOff;
    const sLen = Math.ceil((origLen + sOff) / granule) * granule;
    s.length = sLen;
    if (profile === 'linux-6.x' && boundary !== 0 && prev !== null) {
      const rem = modulo(iovaLen, boundary);
      const padLen = rem === 0 ? 0 : boundary - rem;
      if (padLen !== 0 && padLen < sLen - 1) {
        prev.length += padLen;
        iovaLen += padLen;
      }
    }
    iovaLen += sLen;
    prev = s;
  }
  return iovaLen;
}

/**
 * __finalise_sg(): restore each entry's CPU fields and fill the DMA fields of the output segments
 * (written from the front of the list), merging consecutive entries where the profile's rule
 * allows. Returns the number of DMA segments.
 */
export function finaliseSg(sgl: Scatterlist[], nents: number, dmaAddr: number, boundaryMask: number, maxSegSize: number, profile: DmaIommuProfile): number {
  return profile === 'linux-4.2'
    ? finaliseSg2015(sgl, nents, dmaAddr, boundaryMask, maxSegSize)
    : finaliseSgCurrent(sgl, nents, dmaAddr, boundaryMask, maxSegSize);
}

function finaliseSgCurrent(sgl: Scatterlist[], nents: number, dmaAddr: number, boundaryMask: number, maxLen: number): number {
  const boundary = boundaryOf(boundaryMask);
  let cur = -1;
  let curLen = 0;
  let count = 0;
  for (let i = 0; i < nents; i++) {
    const s = sgl[i]!;
    const sIovaOff = s.dmaAddress;
    const sLength = s.dmaLength;
    const sIovaLen = s.length;
    s.dmaAddress = DMA_MAPPING_ERROR;
    s.dmaLength = 0;
    s.offset += sIovaOff;
    s.length = sLength;
    // append only to a live output segment, from a granule start, not at a boundary, within the max
    const atBoundary = boundary !== 0 && modulo(dmaAddr, boundary) === 0;
    if (curLen !== 0 && sIovaOff === 0 && !atBoundary && maxLen - curLen >= sLength) {
      curLen += sLength;
    } else {
      cur++;
      curLen = sLength;
      count++;
      sgl[cur]!.dmaAddress = dmaAddr + sIovaOff;
    }
    sgl[cur]!.dmaLength = curLen;
    dmaAddr += sIovaLen;
    // data ending short of its IOVA space (unaligned tail, or padding) ends the merge
    if (sLength + sIovaOff < sIovaLen) curLen = 0;
  }
  return count;
}

/** The rule as posted in 2015: contiguous, within max_segment_size and the merged start's boundary window. */
function finaliseSg2015(sgl: Scatterlist[], nents: number, dmaAddr: number, boundaryMask: number, maxLen: number): number {
  const boundary = boundaryOf(boundaryMask);
  let seg = 0;
  let segLen = 0;
  let segDma = 0;
  let count = 1;
  for (let i = 0; i < nents; i++) {
    const s = sgl[i]!;
    const sOffset = s.dmaAddress;
    const sLength = s.dmaLength;
    const sDmaLen = s.length;
    s.offset += sOffset;
    s.length = sLength;
    s.dmaAddress = DMA_MAPPING_ERROR;
    s.dmaLength = 0;
    const inWindow = boundary === 0 || modulo(segDma, boundary) + segLen + sLength <= boundary - 1;
    if (segLen !== 0 && segDma + segLen === dmaAddr + sOffset && segLen + sDmaLen <= maxLen && inWindow) {
      sgl[seg]!.dmaLength += sDmaLen;
    } else {
      if (segLen !== 0) {
        seg++;
        count++;
      }
      sgl[seg]!.dmaLength = sDmaLen - sOffset;
      sgl[seg]!.dmaAddress = dmaAddr + sOffset;
      segLen = sOffset;
      segDma = dmaAddr + sOffset;
    }
    segLen += sLength;
    dmaAddr += sDmaLen;
  }
  return count;
}

/** __invalidate_sg(): mapping failed: put the CPU fields back and mark every DMA field invalid. */
export function invalidateSg(sgl: Scatterlist[], nents: number): void {
  for (let i = 0; i < nents; i++) {
    const s = sgl[i]!;
    if (s.dmaAddress !== DMA_MAPPING_ERROR) s.offset += s.dmaAddress;
    if (s.dmaLength !== 0) s.length = s.dmaLength;
    s.dmaAddress = DMA_MAPPING_ERROR;
    s.dmaLength = 0;
  }
}
