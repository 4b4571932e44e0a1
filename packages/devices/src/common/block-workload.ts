import { PAGE_SIZE, Prng, alignUp, type CoreServices } from '@dmasim/core';
import { fillPattern, firstMismatch } from './pattern';
import { SECTOR_SIZE } from './sparse-disk';
import type { WorkloadResult } from '../model';

/** One piece of a block request's data, in CPU physical memory. */
export interface BlockSegment {
  readonly phys: number;
  readonly len: number;
}

export interface BlockRequest {
  readonly write: boolean;
  readonly lba: number;
  readonly sectors: number;
  readonly segments: readonly BlockSegment[];
}

export type BlockStatus = 'pending' | 'ok' | 'error';

/** What a block driver offers the workload (the request queue of a gendisk, reduced). */
export interface BlockQueue {
  readonly queueDepth: number;
  /** Queues a request; a handle whose status changes on completion, or a negative errno. */
  submit(req: BlockRequest): { readonly status: BlockStatus } | number;
  /** Waits for every queued request (running error handling on timeout); 0 or -errno. */
  waitIdle(): number;
}

/**
 * How a request's data is laid out in memory:
 * - `chunks`: `segments` equal pieces, each on its own pages, every other one starting 512 bytes in;
 * - `prp`: page-sized pieces on separate pages, the first starting `firstOffset` bytes into its page
 *   (the NVMe PRP shape: only the first may be unaligned, only the last may be short).
 */
export type BlockLayout = { readonly kind: 'chunks'; readonly segments: number } | { readonly kind: 'prp'; readonly firstOffset: number };

export interface BlockWorkloadOptions {
  readonly kind: string;
  readonly requests: number;
  readonly blockSize: number;
  readonly readPercent: number;
  readonly layout: BlockLayout;
  readonly seed?: number;
}

interface Buffer {
  readonly segments: BlockSegment[];
  /** Pages to free: [addr, size]. */
  readonly allocs: [number, number][];
}

function allocBuffer(core: CoreServices, blockSize: number, layout: BlockLayout): Buffer | null {
  const segments: BlockSegment[] = [];
  const allocs: [number, number][] = [];
  const take = (size: number): number | null => {
    const a = core.pages.allocPagesExact(size);
    if (a !== null) allocs.push([a, size]);
    return a;
  };
  if (layout.kind === 'chunks') {
    const n = Math.max(1, Math.min(layout.segments, blockSize / SECTOR_SIZE));
    const chunk = alignUp(Math.ceil(blockSize / n), SECTOR_SIZE);
    for (let i = 0, left = blockSize; left > 0; i++) {
      const len = Math.min(chunk, left);
      const off = i % 2 === 1 ? SECTOR_SIZE : 0;
      const a = take(alignUp(len + off, PAGE_SIZE));
      if (a === null) return null;
      segments.push({ phys: a + off, len });
      left -= len;
    }
  } else {
    let left = blockSize;
    let off = layout.firstOffset % PAGE_SIZE;
    while (left > 0) {
      const len = Math.min(PAGE_SIZE - off, left);
      const a = take(PAGE_SIZE);
      if (a === null) return null;
      segments.push({ phys: a + off, len });
      left -= len;
      off = 0;
    }
  }
  return { segments, allocs };
}

function writeSegments(core: CoreServices, segs: readonly BlockSegment[], data: Uint8Array): void {
  let at = 0;
  for (const s of segs) {
    core.cache.cpuWrite(s.phys, data.subarray(at, at + s.len));
    at += s.len;
  }
}

function readSegments(core: CoreServices, segs: readonly BlockSegment[], total: number): Uint8Array {
  const out = new Uint8Array(total);
  let at = 0;
  for (const s of segs) {
    core.cache.cpuRead(s.phys, out.subarray(at, at + s.len));
    at += s.len;
  }
  return out;
}

/**
 * Mixed reads and writes with verification: writes carry fresh patterns and are remembered once
 * they complete; reads zero their buffer first and must return what this run last wrote there.
 * Blocks this run never wrote (or whose write failed) are read but not verified.
 */
export function runBlockWorkload(core: CoreServices, q: BlockQueue, o: BlockWorkloadOptions): WorkloadResult {
  const prng = new Prng(o.seed ?? 1);
  const blockSectors = Math.ceil(o.blockSize / SECTOR_SIZE);
  const nBlocks = Math.max(16, Math.ceil(o.requests / 4));
  const expected = new Map<number, Uint8Array>();
  const depth = Math.max(1, q.queueDepth);
  const bufs: Buffer[] = [];
  let errors = 0;
  let bytes = 0;
  let mismatches = 0;
  let submitErrors = 0;
  let failed = 0;
  let reads = 0;
  let unverifiedReads = 0;
  let writes = 0;
  try {
    for (let i = 0; i < depth; i++) {
      const b = allocBuffer(core, o.blockSize, o.layout);
      if (b === null) return { kind: o.kind, ok: false, bytes: 0, errors: 1, details: { reason: 'out of memory for buffers' } };
      bufs.push(b);
    }
    let issued = 0;
    while (issued < o.requests) {
      const batch: { block: number; write: boolean; data: Uint8Array | null; buf: Buffer; h: { readonly status: BlockStatus } }[] = [];
      const used = new Set<number>();
      for (let slot = 0; slot < depth && issued < o.requests; slot++, issued++) {
        let block = prng.nextInt(nBlocks);
        while (used.has(block)) block = (block + 1) % nBlocks;
        used.add(block);
        const write = prng.nextInt(100) >= o.readPercent;
        const buf = bufs[slot]!;
        let data: Uint8Array | null = null;
        if (write) {
          data = fillPattern(new Uint8Array(o.blockSize), issued * 7919 + 17);
          writeSegments(core, buf.segments, data);
        } else {
          writeSegments(core, buf.segments, new Uint8Array(o.blockSize));
        }
        const h = q.submit({ write, lba: block * blockSectors, sectors: blockSectors, segments: buf.segments });
        if (typeof h === 'number') {
          submitErrors++;
          if (write) {
            expected.delete(block);
          }
          continue;
        }
        batch.push({ block, write, data, buf, h });
      }
      q.waitIdle();
      for (const r of batch) {
        if (r.h.status !== 'ok') {
          failed++;
          if (r.write) {
            expected.delete(r.block);
          }
          continue;
        }
        if (r.write) {
          writes++;
          expected.set(r.block, r.data!);
          bytes += o.blockSize;
          continue;
        }
        reads++;
        const want = expected.get(r.block);
        if (want === undefined) {
          // never written by this run (or its write failed): the disk may hold anything there
          unverifiedReads++;
          continue;
        }
        const got = readSegments(core, r.buf.segments, o.blockSize);
        if (firstMismatch(got, want) >= 0) mismatches++;
        else bytes += o.blockSize;
      }
    }
  } finally {
    for (const b of bufs) for (const [a, s] of b.allocs) core.pages.freePagesExact(a, s);
  }
  errors = submitErrors + failed + mismatches;
  return { kind: o.kind, ok: errors === 0, bytes, errors, details: { reads, unverifiedReads, writes, submitErrors, failed, mismatches } };
}
