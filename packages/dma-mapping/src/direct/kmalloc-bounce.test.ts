import { MiB } from '@dmasim/core';
import { describe, expect, it } from 'vitest';
import { dmaMapSingle, dmaUnmapSingle } from '../api/mapping';
import { DMA_FROM_DEVICE, DMA_TO_DEVICE } from '../constants';
import { deviceWrite, makeDevice, makeMachine } from '../testing/fixtures';
import { kmallocSizeRoundup } from './kmalloc-bounce';
import { dmaToPhys } from './translate';

const BUF = 0x0100_0040; // reachable: only the size decides

describe('dma_kmalloc_needs_bounce (arm64 6.5+)', () => {
  it('kmalloc_size_roundup follows the kmalloc caches, then whole pages', () => {
    expect([1, 60, 65, 100, 129, 200, 8193].map(kmallocSizeRoundup)).toEqual([8, 64, 96, 128, 192, 256, 16384]);
  });

  it('a small FROM_DEVICE buffer of a non-coherent device bounces; its data still arrives', () => {
    const m = makeMachine({ swiotlb: { size: 4 * MiB }, kmallocBounce: true });
    const dev = makeDevice(m, 'mmc');
    const h = dmaMapSingle(dev, BUF, 60, DMA_FROM_DEVICE);
    expect(m.tlb!.isSwiotlbBuffer(dev, dmaToPhys(dev, h))).toBe(true);
    deviceWrite(m, dev, h, new Uint8Array(60).fill(0xa5));
    dmaUnmapSingle(dev, h, 60, DMA_FROM_DEVICE);
    const got = new Uint8Array(60);
    m.core.memory.read(BUF, got);
    expect(got.every((b) => b === 0xa5)).toBe(true);
  });

  it('no bounce: cache-line multiples, DMA_TO_DEVICE, coherent devices, or without the option (6.1)', () => {
    const m = makeMachine({ swiotlb: { size: 4 * MiB }, kmallocBounce: true });
    const dev = makeDevice(m, 'mmc');
    const coherent = makeDevice(m, 'pcie', { coherent: true });
    for (const [d, size, dir] of [[dev, 128, DMA_FROM_DEVICE], [dev, 60, DMA_TO_DEVICE], [coherent, 60, DMA_FROM_DEVICE]] as const) {
      const h = dmaMapSingle(d, BUF, size, dir);
      expect(m.tlb!.isSwiotlbBuffer(d, dmaToPhys(d, h)), `${d.name} ${size} ${dir}`).toBe(false);
    }
    const old = makeMachine({ swiotlb: { size: 4 * MiB } });
    const d61 = makeDevice(old, 'mmc');
    expect(old.tlb!.isSwiotlbBuffer(d61, dmaToPhys(d61, dmaMapSingle(d61, BUF, 60, DMA_FROM_DEVICE)))).toBe(false);
  });
});
