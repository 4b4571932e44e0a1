import type { Device } from '@dmasim/bus';
import type { Scatterlist } from '../scatterlist/sg-table';
import type { DmaCallTarget } from './resolve';

/**
 * Arguments of the kernel-level DMA API are size_t, dma_addr_t and phys_addr_t: unsigned integers.
 * A JavaScript caller can pass what no C caller can (negative, fractional, NaN, infinite or above
 * 2^53, where numbers stop being exact). In C such a value wraps to a huge unsigned one no mapping
 * can satisfy, so the call fails; dmasim fails it at the API boundary, before any layer does
 * arithmetic with it, with a WARN naming the call and the argument, and the call returns what the
 * kernel returns on failure (DMA_MAPPING_ERROR, NULL, an errno, or nothing for unmaps and syncs).
 * `nonZeroSize`: a map or allocation of zero bytes fails the same way (swiotlb cannot search for
 * zero slots).
 */
export function dmaArgsInvalid(t: DmaCallTarget, dev: Device, fn: string, args: Readonly<Record<string, number>>, nonZeroSize = false): boolean {
  for (const [name, v] of Object.entries(args)) {
    const ok = Number.isSafeInteger(v) && v >= 0 && !(nonZeroSize && name === 'size' && v === 0);
    if (ok) continue;
    const what = name === 'size' ? (nonZeroSize ? 'a non-zero byte count' : 'a byte count') : 'an address';
    t.ctx?.log.warnOnce(`kernel/dma/mapping.c ${fn}`, `${fn}: ${name} ${String(v)} is not ${what} (an unsigned integer below 2^53)`, dev);
    return true;
  }
  return false;
}

/**
 * The entry count a scatterlist call works on: the kernel walks the `nents` entries it is given
 * (sg_next() past the end of the table would run off it), so a count past the list is cut to the
 * list with a WARN, and a count that is not a positive integer is refused (0 returned).
 */
export function sgNents(t: DmaCallTarget, dev: Device, fn: string, sgl: readonly Scatterlist[], nents: number): number {
  if (!Number.isSafeInteger(nents) || nents <= 0) {
    t.ctx?.log.warnOnce(`kernel/dma/mapping.c ${fn} (nents)`, `${fn}: nents ${String(nents)} is not a positive entry count`, dev);
    return 0;
  }
  if (nents > sgl.length) {
    t.ctx?.log.warnOnce(`kernel/dma/mapping.c ${fn} (nents)`, `${fn}: nents ${nents} is past the end of a ${sgl.length}-entry list; walking ${sgl.length}`, dev);
    return sgl.length;
  }
  return nents;
}
