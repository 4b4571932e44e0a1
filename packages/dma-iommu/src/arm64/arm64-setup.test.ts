import { Device, FwNode } from '@dmasim/bus';
import { PAGE_SIZE } from '@dmasim/core';
import { DMA_FROM_DEVICE, DMA_TO_DEVICE, dmaMapPage, dmaMapSg, dmaSyncSgForCpu, dmaUnmapSg, getDmaOps, type Scatterlist } from '@dmasim/dma-mapping';
import { describe, expect, it } from 'vitest';
import { arm64Machine } from '../testing/env';

function master(name: string, sid: number): Device {
  return new Device(name, new FwNode(name, { iommus: [{ node: 'smmu0', args: [sid] }] }));
}

function setupInOrder(order: 'core-first' | 'attach-first-at-0') {
  const m = arm64Machine(['sata', 'xgmac']);
  m.iommuCore.iommuDeviceRegister(m.smmu.iommu);
  if (order === 'core-first') {
    m.iommuCore.busSetIommu(m.bus, m.smmu.ops); // iommu_bus_notifier, priority 0
    m.setup.arm64IommuDmaInit([m.bus]); // __iommu_attach_notifier, priority -100
  } else {
    m.setup.arm64IommuDmaInit([m.bus], 0); // same priority, registered first: runs first
    m.iommuCore.busSetIommu(m.bus, m.smmu.ops);
  }
  const devs = [master('sata', 0), master('xgmac', 1)];
  for (const d of devs) {
    m.setup.ofDmaConfigure(d); // at creation: no group yet, attach queued
    m.bus.addDevice(d);
  }
  return { m, devs };
}

describe('arm64 deferred attach (seed 002, linux-4.2)', () => {
  it('attaches each device from the -100 notifier after add_device, and its DMA translates', () => {
    const { m, devs } = setupInOrder('core-first');
    expect(m.bus.calls).toEqual([
      'iommu_bus_notifier:ADD_DEVICE:sata',
      '__iommu_attach_notifier:ADD_DEVICE:sata',
      'iommu_bus_notifier:ADD_DEVICE:xgmac',
      '__iommu_attach_notifier:ADD_DEVICE:xgmac',
    ]);
    expect(m.setup.masters).toHaveLength(0);
    for (const d of devs) {
      expect(getDmaOps(d).name).toBe('iommu-dma');
      expect(m.smmu.domainOf(d)).not.toBeNull();
      const p = m.core.pages.allocPages(0)!;
      const data = new Uint8Array(64).fill(0x5a);
      m.core.cache.cpuWrite(p, data);
      const addr = dmaMapPage(d, p, 0, 64, DMA_TO_DEVICE);
      expect(m.smmu.deviceRead(d, addr, 64)).toEqual(data);
    }
    // each device got its own fake DMA domain
    expect(m.smmu.domainOf(devs[0]!)).not.toBe(m.smmu.domainOf(devs[1]!));
    expect(m.core.log.format().some((l) => l.includes('Failed'))).toBe(false);
  });

  it('at priority 0 before the IOMMU core, attaches fail until the next device; the last one keeps platform ops', () => {
    const { m, devs } = setupInOrder('attach-first-at-0');
    const [sata, xgmac] = devs as [Device, Device];
    expect(m.bus.calls[0]).toBe('__iommu_attach_notifier:ADD_DEVICE:sata');
    const log = m.core.log.format();
    expect(log.some((l) => l.includes('sata: cannot attach to SMMU, is it on the same bus?'))).toBe(true);
    expect(log.some((l) => l.includes('Failed to attach device sata to IOMMU mapping; retaining platform DMA ops'))).toBe(true);
    // sata got its free retry when xgmac was added; xgmac has nobody to retry it
    expect(getDmaOps(sata).name).toBe('iommu-dma');
    expect(getDmaOps(xgmac).name).toBe('direct');
    expect(m.smmu.domainOf(xgmac)).toBeNull();
    expect(m.setup.masters.map((q) => q.dev.name)).toEqual(['xgmac']);
    // xgmac's driver maps with platform ops: it gets a physical address the SMMU does not translate
    const p = m.core.pages.allocPages(0)!;
    const addr = dmaMapPage(xgmac, p, 0, 64, DMA_TO_DEVICE);
    expect(addr).toBe(p);
    expect(m.smmu.deviceRead(xgmac, addr, 64)).toMatchObject({ ok: false, reason: 'translation' });
  });

  it('teardown detaches, frees the fake domain and goes back to platform ops', () => {
    const { m, devs } = setupInOrder('core-first');
    const sata = devs[0]!;
    const dom = m.smmu.domainOf(sata)!;
    m.setup.archTeardownDmaOps(sata);
    expect(dom.attached.has(sata)).toBe(false);
    expect(dom.freed).toBe(true);
    expect(getDmaOps(sata).name).toBe('direct');
  });
});

describe('sync_sg nents (arm vs arm64 in the seed 002 thread)', () => {
  function run(syncNents: 'orig' | 'mapped') {
    const { m, devs } = setupInOrder('core-first');
    const dev = devs[0]!; // non-coherent
    const pages = [0, 1, 2, 3].map(() => m.core.pages.allocPages(0)!);
    // the CPU has the old contents cached
    for (const p of pages) {
      m.core.cache.cpuWrite(p, new Uint8Array(PAGE_SIZE).fill(0xaa));
      m.core.cache.cpuRead(p, new Uint8Array(PAGE_SIZE));
    }
    const sgl: Scatterlist[] = pages.map((p) => ({ pagePhys: p, offset: 0, length: PAGE_SIZE, dmaAddress: 0, dmaLength: 0 }));
    const count = dmaMapSg(dev, sgl, 4, DMA_FROM_DEVICE);
    expect(count).toBeGreaterThan(0);
    expect(count).toBeLessThan(4); // IOVA-contiguous entries merged into fewer DMA segments
    expect(m.smmu.deviceWrite(dev, sgl[0]!.dmaAddress, new Uint8Array(4 * PAGE_SIZE).fill(0x11))).toEqual({ ok: true });
    dmaSyncSgForCpu(dev, sgl, syncNents === 'orig' ? 4 : count, DMA_FROM_DEVICE);
    const seen = pages.map((p) => {
      const b = new Uint8Array(4);
      m.core.cache.cpuRead(p + 100, b);
      return b[0];
    });
    dmaUnmapSg(dev, sgl, 4, DMA_FROM_DEVICE);
    return { seen, count };
  }

  it('syncing the nents passed to map_sg shows the device data in every entry', () => {
    expect(run('orig').seen).toEqual([0x11, 0x11, 0x11, 0x11]);
  });

  it('syncing the mapped count (the arm comment) leaves the later entries stale', () => {
    const { seen, count } = run('mapped');
    expect(seen).toEqual([0, 1, 2, 3].map((i) => (i < count ? 0x11 : 0xaa)));
    expect(seen).toContain(0xaa);
  });
});
