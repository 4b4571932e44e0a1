import { Device, FwNode } from '@dmasim/bus';
import { GiB, MiB, createMachineContainer, register as registerCore } from '@dmasim/core';
import { SwiotlbTokens, register as registerSwiotlb } from '@dmasim/swiotlb';
import { describe, expect, it } from 'vitest';
import { dmaMapSingle, dmaUnmapSingle } from './api/mapping';
import { DMA_TO_DEVICE } from './constants';
import { getDmaOps } from './context';
import { DmaMappingTokens, register, resolveDmaMapping } from './di';
import { dmaDirectReach } from './direct/swiotlb-adapter';
import { RPI4_SOC_RANGES } from './testing/fixtures';

describe('register', () => {
  it('builds the context from the container, picks up its swiotlb, and keeps machines apart', () => {
    const make = () => {
      const c = createMachineContainer();
      registerCore(c, { memory: [{ base: 0, size: 2 * GiB }], pages: { dmaZoneEnd: 1 * GiB } });
      registerSwiotlb(c, { size: 2 * MiB, verbose: false, reach: dmaDirectReach });
      const ctx = register(c, { dmaDebug: true });
      return { c, ctx };
    };
    const a = make();
    const b = make();
    expect(resolveDmaMapping(a.c)).toBe(a.ctx);
    expect(a.c.resolve(DmaMappingTokens.DmaDebug)).toBe(a.ctx.debug);
    expect(a.ctx).not.toBe(b.ctx);
    expect(a.c.isRegistered(SwiotlbTokens.Swiotlb)).toBe(true);

    const dev = new Device('hvs', new FwNode('hvs'));
    dev.dma.rangeMap = RPI4_SOC_RANGES;
    dev.dma.busDmaLimit = 0xffffffff;
    a.ctx.configureDevice(dev);
    expect(getDmaOps(dev).name).toBe('direct');
    const dma = dmaMapSingle(dev, 1.5 * GiB, 4096, DMA_TO_DEVICE);
    expect(dma).toBeGreaterThanOrEqual(0xc0000000); // bounced into the pool, below 1 GiB
    expect(a.ctx.debug!.activeCount).toBe(1);
    expect(b.ctx.debug!.activeCount).toBe(0);
    dmaUnmapSingle(dev, dma, 4096, DMA_TO_DEVICE);
  });

  it('with dma-debug off nothing is registered for it', () => {
    const c = createMachineContainer();
    registerCore(c, { memory: [{ base: 0, size: 1 * GiB }] });
    const ctx = register(c);
    expect(ctx.debug).toBeNull();
    expect(ctx.swiotlb).toBeNull();
    expect(c.isRegistered(DmaMappingTokens.DmaDebug)).toBe(false);
  });
});
