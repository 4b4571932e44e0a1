import { describe, expect, it } from 'vitest';
import { DMA_FROM_DEVICE, DMA_TO_DEVICE } from '../constants';
import { dmaToPhys } from '../direct/translate';
import { SgTable, forEachSgDma, sgAllocTableFromPages } from '../scatterlist/sg-table';
import { makeDevice, makeMachine, pattern } from '../testing/fixtures';
import { dmaMapSg, dmaMapSgtable, dmaUnmapSgtable } from './mapping';
import { dmaSyncSgtableForCpu, dmaSyncSgtableForDevice } from './sync';

describe('sg tables through dma-direct', () => {
  it('maps every entry, syncs by table, and a non-coherent device sees the data', () => {
    const m = makeMachine({ dmaDebug: true });
    const dev = makeDevice(m, 'sata', { coherent: false });
    const pages = [0x200000, 0x201000, 0x300000];
    const sgt = new SgTable();
    sgAllocTableFromPages(sgt, pages, 0, 3 * 4096);
    for (const [i, p] of pages.entries()) m.core.cache.cpuWrite(p, pattern(4096, i + 1));
    expect(dmaMapSgtable(dev, sgt, DMA_TO_DEVICE)).toBe(0);
    expect(sgt.nents).toBe(2);
    const seen: number[] = [];
    for (const [sg] of forEachSgDma(sgt)) {
      const out = new Uint8Array(sg.dmaLength);
      m.core.cache.deviceRead(dmaToPhys(dev, sg.dmaAddress), out, false);
      seen.push(out[0]!);
    }
    expect(seen).toEqual([pattern(1, 1)[0], pattern(1, 3)[0]]);
    // the CPU refills the buffers; the device sees them after sync_for_device
    m.core.cache.cpuWrite(pages[2]!, pattern(4096, 9));
    dmaSyncSgtableForCpu(dev, sgt, DMA_TO_DEVICE);
    dmaSyncSgtableForDevice(dev, sgt, DMA_TO_DEVICE);
    const out = new Uint8Array(4096);
    m.core.cache.deviceRead(pages[2]!, out, false);
    expect(out).toEqual(pattern(4096, 9));
    dmaUnmapSgtable(dev, sgt, DMA_TO_DEVICE);
    expect(m.ctx.debug!.errorCount).toBe(0);
    expect(m.ctx.debug!.activeCount).toBe(0);
  });

  it('a failed entry unmaps the ones before it and the call returns 0', () => {
    const m = makeMachine({ dmaDebug: true });
    const dev = makeDevice(m, 'd24', { maskBits: 24, coherent: true });
    const sgt = new SgTable();
    sgAllocTableFromPages(sgt, [0x100000, 0x4000_0000], 0, 8192);
    expect(dmaMapSg(dev, sgt.sgl, sgt.origNents, DMA_FROM_DEVICE)).toBe(0);
    expect(dmaMapSgtable(dev, sgt, DMA_FROM_DEVICE)).toBe(-5);
    expect(m.ctx.debug!.activeCount).toBe(0);
  });
});
