import { EIO, GiB, dmaBitMask } from '@dmasim/core';
import { SEG_BOUNDARY_NONE } from '@dmasim/bus';
import { describe, expect, it } from 'vitest';
import { RPI4_SOC_RANGES, makeDevice, makeMachine } from '../testing/fixtures';
import {
  dmaAddressingLimited,
  dmaGetMask,
  dmaGetMaxSegSize,
  dmaGetRequiredMask,
  dmaGetSegBoundary,
  dmaSetCoherentMask,
  dmaSetMask,
  dmaSetMaskAndCoherent,
  dmaSetMaxSegSize,
  dmaSetSegBoundary,
} from './params';

describe('mask setters', () => {
  it('accept 32 and 64 bits; a mask below ZONE_DMA fails with -EIO and changes nothing', () => {
    const m = makeMachine(); // 2 GiB RAM, ZONE_DMA = 1 GiB
    const dev = makeDevice(m, 'd');
    expect(dmaSetMaskAndCoherent(dev, dmaBitMask(64))).toBe(0);
    expect(dmaGetMask(dev)).toBe(dmaBitMask(64));
    expect(dmaSetMask(dev, dmaBitMask(30))).toBe(0); // covers ZONE_DMA exactly
    expect(dev.dma.maskBits).toBe(30);
    expect(dmaSetMask(dev, dmaBitMask(24))).toBe(-EIO);
    expect(dev.dma.maskBits).toBe(30);
    expect(dmaSetCoherentMask(dev, dmaBitMask(24))).toBe(-EIO);
    expect(dmaSetMaskAndCoherent(dev, dmaBitMask(32))).toBe(0);
    expect(dev.dma.coherentMaskBits).toBe(32);
  });

  it('behind the Pi 4 window a 30-bit mask cannot be honoured (bus addresses start at 3 GiB)', () => {
    const m = makeMachine();
    const dev = makeDevice(m, 'hvs', { rangeMap: RPI4_SOC_RANGES, busDmaLimit: 0xffffffff });
    expect(dmaSetMask(dev, dmaBitMask(30))).toBe(-EIO);
    expect(dmaSetMask(dev, dmaBitMask(32))).toBe(0);
  });

  it('without ZONE_DMA, a small mask must cover all RAM', () => {
    const m = makeMachine({ ram: 512 * 1024 * 1024, dmaZoneEnd: 0 });
    const dev = makeDevice(m, 'd');
    expect(dmaSetMask(dev, dmaBitMask(29))).toBe(0);
    expect(dmaSetMask(dev, dmaBitMask(28))).toBe(-EIO);
  });

  it('a device without DMA gets -EIO for every mask', () => {
    const m = makeMachine();
    const dev = makeDevice(m, 'nodma', { noDma: true });
    expect(dmaSetMask(dev, dmaBitMask(64))).toBe(-EIO);
    expect(dmaSetMaskAndCoherent(dev, dmaBitMask(32))).toBe(-EIO);
  });

  it('required mask and addressing limits follow RAM size', () => {
    const m = makeMachine({ ram: 8 * GiB });
    const dev = makeDevice(m, 'd', { maskBits: 32 });
    expect(dmaGetRequiredMask(dev)).toBe(dmaBitMask(33));
    expect(dmaAddressingLimited(dev)).toBe(true);
    dmaSetMask(dev, dmaBitMask(40));
    expect(dmaAddressingLimited(dev)).toBe(false);
  });
});

describe('segment parameters', () => {
  it('max segment size and boundary', () => {
    const m = makeMachine();
    const dev = makeDevice(m, 'd');
    expect(dmaGetMaxSegSize(dev)).toBe(65536);
    expect(dmaSetMaxSegSize(dev, 1 << 20)).toBe(0);
    expect(dmaGetMaxSegSize(dev)).toBe(1 << 20);
    // a platform device: no boundary (dma_get_seg_boundary gives ULONG_MAX)
    expect(dmaGetSegBoundary(dev)).toBe(SEG_BOUNDARY_NONE);
    dmaSetSegBoundary(dev, 0xffff);
    expect(dmaGetSegBoundary(dev)).toBe(0xffff);
  });
});
