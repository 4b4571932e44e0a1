import { GiB } from '@dmasim/core';
import { describe, expect, it } from 'vitest';
import { DMA_MAPPING_ERROR } from '../constants';
import { RPI4_SOC_RANGES, makeDevice, makeMachine } from '../testing/fixtures';
import { INVALID_PHYS_ADDR, dmaCapable, dmaDirectPhysLimit, dmaRangeMapMax, dmaRangeMapMin, minNotZero, translateDmaToPhys, translatePhysToDma } from './translate';

describe('translate_phys_to_dma and dma_capable', () => {
  it('Pi 4 window: phys below 1 GiB translates, above does not', () => {
    expect(translatePhysToDma(RPI4_SOC_RANGES, 0)).toBe(0xc0000000);
    expect(translatePhysToDma(RPI4_SOC_RANGES, 1 * GiB - 1)).toBe(0xffffffff);
    expect(translatePhysToDma(RPI4_SOC_RANGES, 1 * GiB)).toBe(DMA_MAPPING_ERROR);
    expect(translateDmaToPhys(RPI4_SOC_RANGES, 0xc0001000)).toBe(0x1000);
    expect(translateDmaToPhys(RPI4_SOC_RANGES, 0x1000)).toBe(INVALID_PHYS_ADDR);
    expect(dmaRangeMapMin(RPI4_SOC_RANGES)).toBe(0xc0000000);
    expect(dmaRangeMapMax(RPI4_SOC_RANGES)).toBe(0xffffffff);
  });

  it('capability uses min_not_zero(mask, bus limit) over the whole range', () => {
    const m = makeMachine();
    const dev = makeDevice(m, 'd', { maskBits: 32, busDmaLimit: 0x7fffffff });
    expect(minNotZero(0, 5)).toBe(5);
    expect(minNotZero(7, 5)).toBe(5);
    expect(dmaCapable(dev, 0x7ffff000, 0x1000)).toBe(true);
    expect(dmaCapable(dev, 0x7ffff000, 0x1001)).toBe(false);
    expect(dmaCapable(dev, DMA_MAPPING_ERROR, 1)).toBe(false);
  });

  it('the highest physical address a device reaches', () => {
    const m = makeMachine();
    expect(dmaDirectPhysLimit(makeDevice(m, 'hvs', { rangeMap: RPI4_SOC_RANGES, busDmaLimit: 0xffffffff }))).toBe(1 * GiB - 1);
    expect(dmaDirectPhysLimit(makeDevice(m, 'd30', { maskBits: 30 }))).toBe(1 * GiB - 1);
  });
});
