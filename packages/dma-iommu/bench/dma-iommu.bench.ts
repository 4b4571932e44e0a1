/**
 * dma-iommu benchmarks (dma-debug off), through the DMA API of a device behind real SMMU hardware:
 * an MMU-500 (stage 1, AArch64 LPAE tables in simulated memory) probed and driven by the arm-smmu
 * driver, the device's default DMA (strict) or DMA_FQ (lazy) domain, the generic iommu-dma ops.
 *
 * - `dma-iommu.map-unmap.strict|lazy`: dma_map_page + dma_unmap_page of 4 KiB.
 * - `dma-iommu.sg64`: dma_map_sg + dma_unmap_sg of 64 × 4 KiB entries (strict domain).
 * - `….fake`: the same through iommu-core's FakeIommu (in-memory table, no hardware): the cost of
 *   the iommu-dma layer alone.
 */
import type { BenchContext } from '@dmasim/bench-harness';
import { Device, FwNode } from '@dmasim/bus';
import { GiB, KiB, PAGE_SIZE, createCoreServices, type CoreServices } from '@dmasim/core';
import { DMA_TO_DEVICE, DmaMappingContext, dmaMapPage, dmaMapSg, dmaUnmapPage, dmaUnmapSg, type Scatterlist } from '@dmasim/dma-mapping';
import { FakeBus, FakeIommu, IommuCore, type FakeDomain } from '@dmasim/iommu-core';
import { GenericDmaSetup } from '../src/generic/generic-setup';
import { IommuDma } from '../src/iommu-dma/iommu-dma';
import { smmuMachine } from '../src/testing/smmu-machine';

const SID = 0x11;

interface BenchMachine {
  readonly core: CoreServices;
  readonly dev: Device;
  /** Called now and then: keeps bookkeeping of the backing IOMMU from growing. */
  readonly trim: () => void;
}

function smmuBacked(strict: boolean): BenchMachine {
  const m = smmuMachine({ strict });
  const dev = m.addMaster('nic', SID);
  const type = m.iommu.iommuGetDmaDomain(dev)?.type;
  if (type !== (strict ? 'DMA' : 'DMA_FQ')) throw new Error(`bench device got a ${type} domain`);
  return { core: m.core, dev, trim: () => {} };
}

function fakeBacked(strict: boolean): BenchMachine {
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
  // FakeIommu records every map call
  return { core, dev, trim: () => void (domain.mapCalls.length = 0) };
}

/** `min`: the target, for the SMMU-backed ids only (the `.fake` ones are for comparison). */
async function mapUnmap(ctx: BenchContext, id: string, m: BenchMachine, min?: number): Promise<void> {
  const page = m.core.pages.allocPages(0)!;
  const dev = m.dev;
  let n = 0;
  await ctx.rate(
    id,
    () => {
      const addr = dmaMapPage(dev, page, 0, 4 * KiB, DMA_TO_DEVICE);
      dmaUnmapPage(dev, addr, 4 * KiB, DMA_TO_DEVICE);
      if (++n % 1024 === 0) m.trim();
    },
    { unit: 'pairs/s', batch: 1000, baseline: 'raw.loop', ...(min !== undefined ? { min } : {}) },
  );
}

async function sg64(ctx: BenchContext, id: string, m: BenchMachine, max?: number): Promise<void> {
  const sgl: Scatterlist[] = [];
  for (let i = 0; i < 64; i++) sgl.push({ pagePhys: m.core.pages.allocPages(0)!, offset: 0, length: PAGE_SIZE, dmaAddress: 0, dmaLength: 0 });
  const dev = m.dev;
  let n = 0;
  await ctx.time(
    id,
    () => {
      if (dmaMapSg(dev, sgl, 64, DMA_TO_DEVICE) <= 0) throw new Error('map_sg failed');
      dmaUnmapSg(dev, sgl, 64, DMA_TO_DEVICE);
      if (++n % 64 === 0) m.trim();
    },
    { unit: 'µs', batch: 20, baseline: 'raw.loop', ...(max !== undefined ? { max } : {}) },
  );
}

export default async (ctx: BenchContext): Promise<void> => {
  await mapUnmap(ctx, 'dma-iommu.map-unmap.strict', smmuBacked(true), 1.4e6);
  await mapUnmap(ctx, 'dma-iommu.map-unmap.lazy', smmuBacked(false), 2e6);
  await sg64(ctx, 'dma-iommu.sg64', smmuBacked(true), 10);
  await mapUnmap(ctx, 'dma-iommu.map-unmap.strict.fake', fakeBacked(true));
  await mapUnmap(ctx, 'dma-iommu.map-unmap.lazy.fake', fakeBacked(false));
  await sg64(ctx, 'dma-iommu.sg64.fake', fakeBacked(true));
};
