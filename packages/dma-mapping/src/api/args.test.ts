import { MiB } from '@dmasim/core';
import { describe, expect, it } from 'vitest';
import { DMA_FROM_DEVICE, DMA_MAPPING_ERROR, DMA_TO_DEVICE } from '../constants';
import { SgTable } from '../scatterlist/sg-table';
import { makeDevice, makeMachine } from '../testing/fixtures';
import { dmaAllocCoherent } from './coherent';
import { dmaMapPage, dmaMapSg, dmaMapSingle, dmaUnmapSg } from './mapping';
import { dmaSyncSingleForCpu } from './sync';

/** Found by `pnpm fuzz dma-mapping.calls`: each call once threw into the host or never returned. */
function rig() {
  const m = makeMachine({ ram: 256 * MiB, dmaZoneEnd: 0, swiotlb: { size: 4 * MiB }, swiotlbForce: true, dmaDebug: { allErrors: true } });
  const dev = makeDevice(m, 'fuzzdev', { maskBits: 32 });
  const buf = m.core.pages.allocPagesExact(16384) ?? 0;
  return { m, dev, buf };
}

describe('kernel-level DMA calls with arguments no C caller can pass fail as the kernel fails, with a WARN', () => {
  it('a zero-sized dma_map_single with swiotlb forced: WARN and DMA_MAPPING_ERROR (was a RangeError in the slot search)', () => {
    const { dev, buf, m } = rig();
    expect(dmaMapSingle(dev, buf, 0, DMA_TO_DEVICE)).toBe(DMA_MAPPING_ERROR);
    expect(m.core.log.format().join('\n')).toContain('dma_map_single_attrs: size 0 is not a non-zero byte count (an unsigned integer below 2^53)');
  });

  it.each([-1, 0.5, Number.NaN, Number.POSITIVE_INFINITY, 2 ** 53 + 2])('size or offset %s: DMA_MAPPING_ERROR, nothing mapped (NaN once hung the host)', (v) => {
    const { dev, buf, m } = rig();
    expect(dmaMapPage(dev, buf, v, 64, DMA_TO_DEVICE)).toBe(DMA_MAPPING_ERROR);
    expect(dmaMapPage(dev, buf, 0, v, DMA_FROM_DEVICE)).toBe(DMA_MAPPING_ERROR);
    expect(m.ctx.debug?.activeCount).toBe(0);
    expect(dmaAllocCoherent(dev, v)).toBeNull();
    dmaSyncSingleForCpu(dev, v, v, DMA_FROM_DEVICE);
    expect(m.core.log.warnCount).toBeGreaterThan(0);
  });

  it('dma_map_sg with nents past the list walks the list only, with a WARN; nents 0.5 maps nothing', () => {
    const { dev, buf, m } = rig();
    const sgt = new SgTable();
    sgt.allocTable(1);
    Object.assign(sgt.sgl[0]!, { pagePhys: buf, offset: 0, length: 4096 });
    expect(dmaMapSg(dev, sgt.sgl, 6, DMA_TO_DEVICE)).toBe(1);
    expect(m.core.log.format().join('\n')).toContain('dma_map_sg_attrs: nents 6 is past the end of a 1-entry list; walking 1');
    dmaUnmapSg(dev, sgt.sgl, 6, DMA_TO_DEVICE);
    expect(m.ctx.debug?.activeCount).toBe(0);
    expect(m.ctx.debug?.errorCount).toBe(0);
    expect(dmaMapSg(dev, sgt.sgl, 0.5, DMA_TO_DEVICE)).toBe(0);
  });
});
