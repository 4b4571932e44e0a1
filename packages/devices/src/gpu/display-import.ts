import type { CoreServices } from '@dmasim/core';
import { fnv1a, pattern } from '../common/pattern';
import type { WorkloadResult } from '../model';
import type { BoPlacement, V3dBo, V3dGpu } from './v3d-driver';
import type { Vc4Drm } from './vc4-driver';

export interface DisplayImportOptions {
  /** Sizes of the buffers the GPU renders into (the seed's are 524288 and 815104 bytes). */
  readonly buffers: readonly number[];
  readonly frames: number;
  readonly placement: BoPlacement;
}

/** The frame seed of buffer b in frame f (what v3d renders and vc4 expects). */
export function frameSeed(frame: number, buffer: number): number {
  return frame * 1000 + buffer + 1;
}

/**
 * GPU → display through dma-buf: v3d renders each buffer, exports it, vc4 imports (maps) it and scans
 * it out; the HVS checksum must match the pattern rendered. Import failures (swiotlb full), DMA
 * faults and wrong pixels are errors.
 */
export function runDisplayImport(core: CoreServices, v3d: V3dGpu, drm: Vc4Drm, o: DisplayImportOptions): WorkloadResult {
  const kind = 'display-import';
  const bos: V3dBo[] = [];
  let errors = 0;
  let bytes = 0;
  let importFailures = 0;
  let renderFailures = 0;
  let scanoutFailures = 0;
  let mismatches = 0;
  try {
    for (const size of o.buffers) {
      const bo = v3d.createBo(size, o.placement);
      if (typeof bo === 'number') return { kind, ok: false, bytes: 0, errors: 1, details: { reason: `buffer allocation failed (${bo})` } };
      bos.push(bo);
    }
    const expected = new Map<number, number>();
    for (let f = 0; f < o.frames; f++) {
      bos.forEach((bo, b) => {
        const seed = frameSeed(f, b);
        if (v3d.render(bo, seed) !== 0) {
          renderFailures++;
          return;
        }
        const fb = drm.importDmaBuf(v3d.exportDmaBuf(bo));
        if (typeof fb === 'number') {
          importFailures++;
          return;
        }
        const r = drm.scanout(fb);
        drm.releaseFb(fb);
        if (typeof r === 'number') {
          scanoutFailures++;
          return;
        }
        let want = expected.get(seed);
        if (want === undefined) {
          want = fnv1a(pattern(bo.size, seed));
          expected.set(seed, want);
        }
        if (r.crc !== want || r.bytes !== bo.size) mismatches++;
        else bytes += bo.size;
      });
    }
  } finally {
    for (const bo of bos) v3d.freeBo(bo);
  }
  errors = importFailures + renderFailures + scanoutFailures + mismatches;
  const lowest = Math.min(...bos.map((b) => b.chunks[0]?.phys ?? 0));
  return {
    kind,
    ok: errors === 0,
    bytes,
    errors,
    details: { frames: o.frames, buffers: o.buffers.length, placement: o.placement, importFailures, renderFailures, scanoutFailures, mismatches, lowestBufferPhys: lowest },
  };
}
