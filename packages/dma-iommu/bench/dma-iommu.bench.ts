/**
 * dma-iommu benchmarks (dma-debug off). The domain is backed by iommu-core's FakeIommu (in-memory
 * page table) until the arm-smmu driver is ready: ids carry the names, the README says
 * which IOMMU backed the figure.
 */
import type { BenchContext } from '@dmasim/bench-harness';
import { Device, FwNode } from '@dmasim/bus';
import { GiB, KiB, PAGE_SIZE, createCoreServices } from '@dmasim/core';
import { DMA_TO_DEVICE, DmaMappingContext, dmaMapPage, dmaMapSg, dmaUnmapPage, dmaUnmapSg, type Scatterlist } from '@dmasim/dma-mapping';
import { FakeBus, FakeIommu, IommuCore, type FakeDomain } from '@dmasim/iommu-core';
import { GenericDmaSetup } from '../src/generic/generic-setup';
import { IommuDma } from '../src/iommu-dma/iommu-dma';

function machine(strict: boolean) {
  const core = createCoreServices({ memory: [{ base: 0x8000_0000, size: 2 * GiB }] });
  const ctx = new DmaMappingContext({ memory: core.memory, cache: core.cache, pages: core.pages, log: core.log });
  const iommu = new IommuCore({ log: core.log }, { strict });
  const fake = new FakeIommu(iommu, { fwnode: 'smmu0' });
  const bus = new FakeBus('platform');
  iommu.iommuSubsysInit([bus]);
  iommu.iommuDeviceRegister(fake.iommu);
  const dma = new IommuDma({ cache: core.cache, pages: core.pages, log: core.log, profile: 'linux-6.x', sched: core.sched });
  const setup = new GenericDmaSetup({ dma, ctx, iommu, log: core.log, sched: core.sched });
  const dev = new Device('nic', new FwNode('nic', { iommus: [{ node: 'smmu0', args: [0] }] }));
  dev.dma.coherent = true;
  bus.addDevice(dev);
  setup.dmaConfigure(dev);
  const domain = iommu.iommuGetDmaDomain(dev) as FakeDomain;
  return { core, dev, domain };
}

export default async (ctx: BenchContext): Promise<void> => {
  for (const mode of ['strict', 'lazy'] as const) {
    const m = machine(mode === 'strict');
    const page = m.core.pages.allocPages(0)!;
    let n = 0;
    await ctx.rate(
      `dma-iommu.map-unmap.${mode}`,
      () => {
        const addr = dmaMapPage(m.dev, page, 0, 4 * KiB, DMA_TO_DEVICE);
        dmaUnmapPage(m.dev, addr, 4 * KiB, DMA_TO_DEVICE);
        // FakeIommu records every map call; keep that record from growing without bound
        if (++n % 1024 === 0) m.domain.mapCalls.length = 0;
      },
      { unit: 'pairs/s', batch: 1000, min: mode === 'strict' ? 1.4e6 : 2e6, baseline: 'raw.loop' },
    );
  }

  const m = machine(true);
  const pages = Array.from({ length: 64 }, () => m.core.pages.allocPages(0)!);
  const sgl: Scatterlist[] = pages.map((p) => ({ pagePhys: p, offset: 0, length: PAGE_SIZE, dmaAddress: 0, dmaLength: 0 }));
  let n = 0;
  await ctx.time(
    'dma-iommu.sg64',
    () => {
      dmaMapSg(m.dev, sgl, 64, DMA_TO_DEVICE);
      dmaUnmapSg(m.dev, sgl, 64, DMA_TO_DEVICE);
      if (++n % 64 === 0) m.domain.mapCalls.length = 0;
    },
    { unit: 'µs', batch: 20, max: 10 },
  );
};
