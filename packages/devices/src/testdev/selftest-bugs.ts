import { PAGE_SIZE, hex, type CoreServices } from '@dmasim/core';
import {
  DMA_FROM_DEVICE,
  DMA_TO_DEVICE,
  dmaAllocCoherent,
  dmaFreeCoherent,
  dmaGetMaxSegSize,
  dmaGetSegBoundary,
  dmaMapSg,
  dmaMapSingle,
  dmaMappingError,
  dmaSetMaxSegSize,
  dmaSetSegBoundary,
  dmaSyncSgForCpu,
  dmaUnmapSg,
  dmaUnmapSingle,
  type DmaCoherentBuffer,
  type Scatterlist,
} from '@dmasim/dma-mapping';
import { coherentRead, coherentWrite } from '../common/cpu-access';
import { firstMismatch, pattern } from '../common/pattern';
import { DMA_ENGINE_BOUNDARY } from './burst-boundary';
import { selftestStep, type DmaEngine } from './dma-selftest';

/**
 * Driver bugs the `dma-selftest` workload can commit on purpose, each through the real DMA API, so a
 * board shows what the kernel of its profile does with them (seed 002's review thread):
 * - `double-unmap`: dma_unmap_single() twice on the same handle;
 * - `sync-sg-mapped-nents`: dma_sync_sg_for_cpu() given the count dma_map_sg() returned instead of
 *   the number of entries passed to it (the arm comment the thread questioned);
 * - `sg-boundary`: not a driver bug but the driver's honest limit: the engine cannot burst across
 *   64 KiB, the driver says so, and the mapped segments must respect it.
 */
export const SELFTEST_BUGS = ['double-unmap', 'sync-sg-mapped-nents', 'sg-boundary'] as const;
export type SelftestBug = (typeof SELFTEST_BUGS)[number];

export function isSelftestBug(v: string): v is SelftestBug {
  return (SELFTEST_BUGS as readonly string[]).includes(v);
}

/** What one round did: payload bytes verified, errors, and counters for the report. */
export interface BugRound {
  bytes: number;
  errors: number;
  counters: Record<string, number>;
}

function scratch(eng: DmaEngine, size: number): DmaCoherentBuffer | null {
  return dmaAllocCoherent(eng.dev, size);
}

function mapFailed(core: CoreServices, eng: DmaEngine, what: string): BugRound {
  selftestStep(core, eng.dev, `${what} failed`);
  return { bytes: 0, errors: 1, counters: { mapErrors: 1 } };
}

/**
 * double-unmap: map a page for the device, let it copy the page, unmap, then unmap again. A kernel
 * that notices warns (counted here from the WARN()s the second call produced); the 2015 dma-iommu
 * code dereferences the IOVA it did not find and the simulated kernel dies inside the second call.
 */
function doubleUnmap(core: CoreServices, eng: DmaEngine, seed: number): BugRound {
  const dev = eng.dev;
  const page = core.pages.allocPages(0);
  const dst = scratch(eng, PAGE_SIZE);
  if (page === null || dst === null) {
    if (page !== null) core.pages.freePages(page, 0);
    if (dst !== null) dmaFreeCoherent(dev, dst.size, dst.cpuAddr, dst.dmaHandle);
    return mapFailed(core, eng, 'buffer allocation');
  }
  const data = pattern(PAGE_SIZE, seed);
  core.cache.cpuWrite(page, data);
  const handle = dmaMapSingle(dev, page, PAGE_SIZE, DMA_TO_DEVICE);
  let r: BugRound;
  if (dmaMappingError(dev, handle) !== 0) {
    r = mapFailed(core, eng, 'dma_map_single');
  } else {
    const t = eng.transfer(handle, dst.dmaHandle, PAGE_SIZE);
    const got = new Uint8Array(PAGE_SIZE);
    coherentRead(core.cache, dst, 0, got);
    const copied = t.rc === 0 && firstMismatch(got, data) < 0;
    if (!copied) selftestStep(core, dev, `copy failed (${t.rc === 0 ? 'data mismatch' : `bus error at ${hex(t.faultAddr)}`})`);
    dmaUnmapSingle(dev, handle, PAGE_SIZE, DMA_TO_DEVICE);
    const warnsBefore = core.log.warnCount;
    // the bug: the handle was already given back
    dmaUnmapSingle(dev, handle, PAGE_SIZE, DMA_TO_DEVICE);
    const warned = core.log.warnCount - warnsBefore;
    r = { bytes: copied ? PAGE_SIZE : 0, errors: (copied ? 0 : 1) + (warned > 0 ? 1 : 0), counters: { doubleUnmaps: 1, kernelWarnings: warned } };
  }
  dmaFreeCoherent(dev, dst.size, dst.cpuAddr, dst.dmaHandle);
  core.pages.freePages(page, 0);
  return r;
}

/** Entries of the sg list the sync bug needs: one page each, never physically adjacent. */
const SYNC_ENTRIES = 4;
const STALE = 0xaa;

/**
 * sync-sg-mapped-nents: a FROM_DEVICE sg list of SYNC_ENTRIES separate pages, whose lines the CPU
 * still holds from before; the device fills every mapped segment; the driver syncs for the CPU with
 * the mapped count (fewer, merged segments) instead of the entries it mapped, and reads the data
 * before unmapping. On a non-coherent device the entries past the count keep the CPU's old lines.
 */
function syncSgMappedNents(core: CoreServices, eng: DmaEngine, seed: number): BugRound {
  const dev = eng.dev;
  const blocks: number[] = [];
  for (let i = 0; i < SYNC_ENTRIES; i++) {
    // the first page of an order-1 block: the next entry's page is never the one right after it
    const b = core.pages.allocPages(1);
    if (b === null) break;
    blocks.push(b);
  }
  const total = SYNC_ENTRIES * PAGE_SIZE;
  const src = blocks.length === SYNC_ENTRIES ? scratch(eng, total) : null;
  const release = (): void => {
    if (src !== null) dmaFreeCoherent(dev, src.size, src.cpuAddr, src.dmaHandle);
    for (const b of blocks) core.pages.freePages(b, 1);
  };
  if (src === null) {
    release();
    return mapFailed(core, eng, 'buffer allocation');
  }
  const data = pattern(total, seed);
  coherentWrite(core.cache, src, 0, data);
  const old = new Uint8Array(PAGE_SIZE).fill(STALE);
  for (const p of blocks) {
    core.cache.cpuWrite(p, old);
    core.cache.cpuRead(p, new Uint8Array(PAGE_SIZE));
  }
  const sgl: Scatterlist[] = blocks.map((p) => ({ pagePhys: p, offset: 0, length: PAGE_SIZE, dmaAddress: 0, dmaLength: 0 }));
  const count = dmaMapSg(dev, sgl, SYNC_ENTRIES, DMA_FROM_DEVICE);
  if (count <= 0) {
    release();
    return mapFailed(core, eng, 'dma_map_sg');
  }
  let errors = 0;
  let off = 0;
  for (let i = 0; i < count && off < total; i++) {
    const s = sgl[i]!;
    const len = Math.min(s.dmaLength, total - off);
    const t = eng.transfer(src.dmaHandle + off, s.dmaAddress, len);
    if (t.rc !== 0) {
      errors++;
      selftestStep(core, dev, `sg segment ${i}: bus error at ${hex(t.faultAddr)}`);
    }
    off += len;
  }
  // the bug: `count` is how many DMA segments the device got, not how many entries the CPU has
  dmaSyncSgForCpu(dev, sgl, count, DMA_FROM_DEVICE);
  let staleBytes = 0;
  let staleEntries = 0;
  let bytes = 0;
  for (let i = 0; i < SYNC_ENTRIES; i++) {
    const got = new Uint8Array(PAGE_SIZE);
    core.cache.cpuRead(blocks[i]!, got);
    const want = data.subarray(i * PAGE_SIZE, (i + 1) * PAGE_SIZE);
    let bad = 0;
    for (let j = 0; j < PAGE_SIZE; j++) if (got[j] !== want[j]) bad++;
    if (bad === 0) {
      bytes += PAGE_SIZE;
      continue;
    }
    staleEntries++;
    staleBytes += bad;
    selftestStep(core, dev, `sg entry ${i}: ${bad} of ${PAGE_SIZE} bytes stale after dma_sync_sg_for_cpu`);
  }
  dmaUnmapSg(dev, sgl, SYNC_ENTRIES, DMA_FROM_DEVICE);
  release();
  return { bytes, errors: errors + staleEntries, counters: { entries: SYNC_ENTRIES, mappedSegments: count, syncedEntries: count, staleEntries, staleBytes } };
}

/** Sizes of the boundary case: a segment that is not a power of two, then one of a whole boundary window. */
const BOUNDARY_SEGMENTS = [12 * 1024, 64 * 1024] as const;

/**
 * sg-boundary: the driver declares the engine's 64 KiB burst limit (segment boundary and max segment
 * size), maps a 12 KiB then a 64 KiB entry and has the engine copy each mapped segment in one burst.
 * A segment that straddles a boundary is refused by the hardware (a bus error the driver reports).
 */
function sgBoundary(core: CoreServices, eng: DmaEngine, seed: number): BugRound {
  const dev = eng.dev;
  const prevMask = dmaGetSegBoundary(dev);
  const prevMax = dmaGetMaxSegSize(dev);
  dmaSetSegBoundary(dev, DMA_ENGINE_BOUNDARY - 1);
  dmaSetMaxSegSize(dev, DMA_ENGINE_BOUNDARY);
  const blocks: { phys: number; order: number }[] = [];
  for (const len of BOUNDARY_SEGMENTS) {
    const order = Math.ceil(Math.log2(len / PAGE_SIZE));
    const phys = core.pages.allocPages(order);
    if (phys !== null) blocks.push({ phys, order });
  }
  const dst = blocks.length === BOUNDARY_SEGMENTS.length ? scratch(eng, DMA_ENGINE_BOUNDARY) : null;
  const release = (): void => {
    if (dst !== null) dmaFreeCoherent(dev, dst.size, dst.cpuAddr, dst.dmaHandle);
    for (const b of blocks) core.pages.freePages(b.phys, b.order);
    dmaSetSegBoundary(dev, prevMask);
    dmaSetMaxSegSize(dev, prevMax);
  };
  if (dst === null) {
    release();
    return mapFailed(core, eng, 'buffer allocation');
  }
  const datas = BOUNDARY_SEGMENTS.map((len, i) => pattern(len, seed * 2 + i));
  const sgl: Scatterlist[] = blocks.map((b, i) => ({ pagePhys: b.phys, offset: 0, length: BOUNDARY_SEGMENTS[i]!, dmaAddress: 0, dmaLength: 0 }));
  blocks.forEach((b, i) => core.cache.cpuWrite(b.phys, datas[i]!));
  const n = dmaMapSg(dev, sgl, sgl.length, DMA_TO_DEVICE);
  if (n <= 0) {
    release();
    return mapFailed(core, eng, 'dma_map_sg');
  }
  // what the device should end up with: the entries back to back
  const want = new Uint8Array(BOUNDARY_SEGMENTS.reduce((a, b) => a + b, 0));
  let at = 0;
  for (const d of datas) {
    want.set(d, at);
    at += d.length;
  }
  let crossing = 0;
  let errors = 0;
  let bytes = 0;
  let off = 0;
  for (let i = 0; i < n; i++) {
    const s = sgl[i]!;
    const len = Math.min(s.dmaLength, want.length - off);
    if (len > dst.size) {
      errors++;
      selftestStep(core, dev, `sg segment ${i} is ${len} bytes, over the engine's ${dst.size}`);
      off += len;
      continue;
    }
    const t = eng.transfer(s.dmaAddress, dst.dmaHandle, len);
    if (t.rc !== 0) {
      crossing++;
      errors++;
      selftestStep(core, dev, `sg segment ${i} (${hex(s.dmaAddress)}, ${len} bytes): bus error at ${hex(t.faultAddr)}`);
    } else {
      const got = new Uint8Array(len);
      coherentRead(core.cache, dst, 0, got);
      if (firstMismatch(got, want.subarray(off, off + len)) < 0) bytes += len;
      else {
        errors++;
        selftestStep(core, dev, `sg segment ${i}: data mismatch`);
      }
    }
    off += len;
  }
  dmaUnmapSg(dev, sgl, sgl.length, DMA_TO_DEVICE);
  release();
  return { bytes, errors, counters: { segments: n, crossingSegments: crossing } };
}

/** One round of the chosen bug on a bound DMA-engine device (`seed` varies the data). */
export function runSelftestBug(core: CoreServices, eng: DmaEngine, bug: SelftestBug, seed: number): BugRound {
  switch (bug) {
    case 'double-unmap':
      return doubleUnmap(core, eng, seed);
    case 'sync-sg-mapped-nents':
      return syncSgMappedNents(core, eng, seed);
    case 'sg-boundary':
      return sgBoundary(core, eng, seed);
  }
}
