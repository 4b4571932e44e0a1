import fc from 'fast-check';
import { fuzzTarget } from '@dmasim/fuzz-harness';
import { KernelOops, MiB } from '@dmasim/core';
import { DMA_BIDIRECTIONAL, DMA_FROM_DEVICE, DMA_MAPPING_ERROR, DMA_TO_DEVICE, type DmaDataDirection } from '../constants';
import { dmaMapPage, dmaMapSingle, dmaMapSg, dmaUnmapPage, dmaUnmapSingle, dmaUnmapSg } from '../api/mapping';
import { dmaSyncSingleForCpu, dmaSyncSingleForDevice } from '../api/sync';
import { dmaAllocCoherent, dmaFreeCoherent } from '../api/coherent';
import { SgTable } from '../scatterlist/sg-table';
import { cpuRead, deviceRead, deviceWrite, makeDevice, makeMachine, pattern } from '../testing/fixtures';

/**
 * DMA API call sequences as a careless driver makes them, on dma-direct with and without a forced
 * swiotlb and dma-debug on: legal calls (map, let the device read or write, sync, unmap: the bytes
 * must arrive intact) mixed with misuse (odd sizes and addresses, bad directions, double unmaps,
 * syncs after unmap, sg counts past the list). No call may throw into the host; a simulated oops
 * ends the sequence.
 */

/** Sizes and addresses no C caller could pass, and the edges of real ones. */
const oddNumbers = [0, -1, -4096, 0.5, 4095.5, Number.NaN, Number.POSITIVE_INFINITY, 2 ** 53, 2 ** 53 + 2, 2 ** 64, 2 ** 40];
const directions: readonly DmaDataDirection[] = [DMA_TO_DEVICE, DMA_FROM_DEVICE, DMA_BIDIRECTIONAL];

export type Call =
  | { readonly op: 'map'; readonly buf: number; readonly offset: number; readonly len: number; readonly dir: number; readonly single: boolean }
  | { readonly op: 'unmap'; readonly slot: number; readonly sizeDelta: number; readonly dir: number }
  | { readonly op: 'sync'; readonly slot: number; readonly toCpu: boolean }
  | { readonly op: 'sg'; readonly bufs: readonly number[]; readonly extraNents: number; readonly dir: number }
  | { readonly op: 'unmapSg'; readonly slot: number }
  | { readonly op: 'alloc'; readonly pages: number }
  | { readonly op: 'free'; readonly slot: number }
  | { readonly op: 'odd'; readonly which: number; readonly value: number; readonly dir: number };

export interface CallSequence {
  readonly force: boolean;
  readonly coherent: boolean;
  readonly calls: readonly Call[];
}

const call: fc.Arbitrary<Call> = fc.oneof(
  { weight: 6, arbitrary: fc.record({ op: fc.constant('map' as const), buf: fc.nat(7), offset: fc.nat(4095), len: fc.integer({ min: 1, max: 12288 }), dir: fc.nat(2), single: fc.boolean() }) },
  { weight: 5, arbitrary: fc.record({ op: fc.constant('unmap' as const), slot: fc.nat(), sizeDelta: fc.constantFrom(0, 0, 0, 1, -1), dir: fc.nat(3) }) },
  { weight: 3, arbitrary: fc.record({ op: fc.constant('sync' as const), slot: fc.nat(), toCpu: fc.boolean() }) },
  { weight: 2, arbitrary: fc.record({ op: fc.constant('sg' as const), bufs: fc.array(fc.nat(7), { minLength: 1, maxLength: 4 }), extraNents: fc.constantFrom(0, 0, 0, 1, 5, -1, 0.5), dir: fc.nat(2) }) },
  { weight: 2, arbitrary: fc.record({ op: fc.constant('unmapSg' as const), slot: fc.nat() }) },
  { weight: 1, arbitrary: fc.record({ op: fc.constant('alloc' as const), pages: fc.integer({ min: 1, max: 8 }) }) },
  { weight: 1, arbitrary: fc.record({ op: fc.constant('free' as const), slot: fc.nat() }) },
  { weight: 3, arbitrary: fc.record({ op: fc.constant('odd' as const), which: fc.nat(7), value: fc.constantFrom(...oddNumbers), dir: fc.nat(4) }) },
);

export const callSequence: fc.Arbitrary<CallSequence> = fc.record({ force: fc.boolean(), coherent: fc.boolean(), calls: fc.array(call, { minLength: 1, maxLength: 40 }) });

interface Live {
  readonly kind: 'single' | 'page' | 'sg' | 'coherent';
  readonly dma: number;
  readonly cpu: number;
  readonly len: number;
  readonly dir: DmaDataDirection;
  readonly sgt?: SgTable;
  unmapped: boolean;
}

const BUF_BYTES = 16 * 1024;

/** Runs one sequence; throws on a host exception or on data that did not arrive intact. Returns the calls made. */
export function runSequence(seq: CallSequence): number {
  const m = makeMachine({ ram: 256 * MiB, dmaZoneEnd: 0, swiotlb: { size: 4 * MiB }, swiotlbForce: seq.force, dmaDebug: { allErrors: true } });
  const dev = makeDevice(m, 'fuzzdev', { coherent: seq.coherent, maskBits: 32 });
  const bufs = Array.from({ length: 8 }, () => m.core.pages.allocPagesExact(BUF_BYTES) ?? 0);
  const live: Live[] = [];
  let n = 0;
  const pick = (slot: number): Live | undefined => (live.length === 0 ? undefined : live[slot % live.length]);
  try {
    for (const c of seq.calls) {
      n++;
      switch (c.op) {
        case 'map': {
          const dir = directions[c.dir]!;
          const cpu = bufs[c.buf]! + c.offset;
          const data = pattern(c.len, n);
          m.core.cache.cpuWrite(cpu, data);
          const dma = c.single ? dmaMapSingle(dev, cpu, c.len, dir) : dmaMapPage(dev, bufs[c.buf]!, c.offset, c.len, dir);
          if (dma === DMA_MAPPING_ERROR) break;
          // the device sees what the CPU wrote (cleaned or bounced on map)
          if (dir !== DMA_FROM_DEVICE) expectBytes(deviceRead(m, dev, dma, c.len), data, `device read of a ${dir} mapping`);
          live.push({ kind: c.single ? 'single' : 'page', dma, cpu, len: c.len, dir, unmapped: false });
          break;
        }
        case 'unmap': {
          const e = pick(c.slot);
          if (e === undefined || e.kind === 'sg' || e.kind === 'coherent') break;
          const dir = c.dir === 3 ? e.dir : directions[c.dir]!;
          const legal = !e.unmapped && c.sizeDelta === 0 && dir === e.dir;
          const data = pattern(e.len, 1000 + n);
          if (legal && e.dir !== DMA_TO_DEVICE) deviceWrite(m, dev, e.dma, data);
          if (e.kind === 'single') dmaUnmapSingle(dev, e.dma, e.len + c.sizeDelta, dir);
          else dmaUnmapPage(dev, e.dma, e.len + c.sizeDelta, dir);
          // after a legal unmap the CPU sees what the device wrote
          if (legal && e.dir !== DMA_TO_DEVICE) expectBytes(cpuRead(m, e.cpu, e.len), data, `CPU read after unmapping a ${e.dir} mapping`);
          e.unmapped = true;
          break;
        }
        case 'sync': {
          const e = pick(c.slot);
          if (e === undefined || e.kind === 'sg' || e.kind === 'coherent') break;
          if (c.toCpu) dmaSyncSingleForCpu(dev, e.dma, e.len, e.dir);
          else dmaSyncSingleForDevice(dev, e.dma, e.len, e.dir);
          break;
        }
        case 'sg': {
          const sgt = new SgTable();
          sgt.allocTable(c.bufs.length);
          c.bufs.forEach((b, i) => {
            const s = sgt.sgl[i]!;
            s.pagePhys = bufs[b]!;
            s.offset = 0;
            s.length = 4096;
          });
          const dir = directions[c.dir]!;
          const nents = c.bufs.length + c.extraNents;
          const ents = dmaMapSg(dev, sgt.sgl, nents, dir);
          if (ents > 0) live.push({ kind: 'sg', dma: 0, cpu: 0, len: nents, dir, sgt, unmapped: false });
          break;
        }
        case 'unmapSg': {
          const e = pick(c.slot);
          if (e?.sgt === undefined) break;
          dmaUnmapSg(dev, e.sgt.sgl, e.len, e.dir);
          e.unmapped = true;
          break;
        }
        case 'alloc': {
          const a = dmaAllocCoherent(dev, c.pages * 4096);
          if (a !== null) live.push({ kind: 'coherent', dma: a.dmaHandle, cpu: a.cpuAddr, len: c.pages * 4096, dir: DMA_BIDIRECTIONAL, unmapped: false });
          break;
        }
        case 'free': {
          const e = pick(c.slot);
          if (e === undefined || e.kind !== 'coherent') break;
          dmaFreeCoherent(dev, e.len, e.cpu, e.dma);
          e.unmapped = true;
          break;
        }
        case 'odd': {
          const dir = (c.dir === 4 ? 'sideways' : directions[c.dir % 3]!) as DmaDataDirection;
          const base = bufs[0]!;
          switch (c.which) {
            case 0: dmaMapSingle(dev, base, c.value, dir); break;
            case 1: dmaMapPage(dev, base, c.value, 64, dir); break;
            case 2: dmaMapPage(dev, c.value, 0, 64, dir); break;
            case 3: dmaUnmapSingle(dev, c.value, 64, dir); break;
            case 4: dmaSyncSingleForCpu(dev, c.value, c.value, dir); break;
            case 5: dmaAllocCoherent(dev, c.value); break;
            case 6: dmaFreeCoherent(dev, c.value, base, c.value); break;
            default: {
              const sgt = new SgTable();
              sgt.allocTable(1);
              sgt.sgl[0]!.pagePhys = base;
              sgt.sgl[0]!.length = 4096;
              dmaMapSg(dev, sgt.sgl, c.value, dir);
            }
          }
          break;
        }
      }
    }
  } catch (e) {
    if (!(e instanceof KernelOops)) throw e;
  }
  return n;
}

function expectBytes(got: Uint8Array, want: Uint8Array, what: string): void {
  for (let i = 0; i < want.length; i++) {
    if (got[i] !== want[i]) throw new Error(`data not intact: ${what}: byte ${i} is ${got[i]}, expected ${want[i]}`);
  }
}

export const callsTarget = fuzzTarget<CallSequence>({
  id: 'dma-mapping.calls',
  unit: 'calls',
  arbitrary: callSequence,
  check: runSequence,
  describe: (s) => `// dma-direct${s.force ? ' + swiotlb=force' : ''}, ${s.coherent ? 'coherent' : 'non-coherent'} device, dma-debug on\n${s.calls.map((c) => JSON.stringify(c)).join('\n')}`,
  ciRuns: 300,
  // a sync of 2^40 bytes on a non-coherent device walks every page of the range (about 2 s)
  slowMs: 5000,
});

export const fuzzTargets = [callsTarget];
