import { describe, expect, it } from 'vitest';
import { arm64MaxZonePhys, arm64ZoneDmaBits, importDevicetree, ofDmaLimit } from './board';
import { ofDeviceMakeBusId, ofPlatformPopulate } from './platform';
import { findNodeByPath } from './tree';
import { fixture, TEST_MODELS } from './test-helpers';

describe('of_platform_populate and device names', () => {
  const t = fixture('mini');
  const names = ofPlatformPopulate(t).map((p) => p.name);

  it('names devices as the kernel does: CPU address, node name; reg-less nodes by their parents', () => {
    expect(names).toEqual(expect.arrayContaining(['7fb30000.iommu', '2b500000.iommu', 'fe400000.hvs', 'soc:firmware', 'soc:firmware:clocks', 'fec00000.gpu', 'fe010000.dev', '40000000.pcie']));
    expect(ofDeviceMakeBusId(t, findNodeByPath(t, '/scb/lowbus')!)).toBe('scb:lowbus');
  });
  it('leaves out interrupt controllers (irqchip init claims them) and nodes without compatible', () => {
    expect(names).not.toContain('2c010000.interrupt-controller');
    expect(names.some((n) => n.includes('memory'))).toBe(false);
  });
  it('marks primecell nodes as AMBA devices and keeps disabled nodes, flagged', () => {
    const pop = ofPlatformPopulate(t);
    expect(pop.find((p) => p.name === '7ff80000.serial')?.kind).toBe('amba');
    expect(pop.find((p) => p.name === '2b400000.iommu')?.available).toBe(false);
  });
});

describe('importDevicetree: the tree as a board', () => {
  const t = fixture('mini');
  const imp = importDevicetree(t, TEST_MODELS, 'mini');
  const b = imp.board;
  const dev = (n: string) => b.devices.find((d) => d.name === n);

  it('memory from /memory, zero-sized banks dropped', () => {
    expect(b.memory).toEqual([{ base: 0x80000000, size: 0x40000000 }]);
  });
  it('modelled SMMUs become IOMMUs with the kernel names; the disabled one is reported', () => {
    expect(b.iommus.map((i) => i.name)).toEqual(['7fb30000.iommu', '2b500000.iommu', '2b600000.iommu']);
    expect(b.iommus[0]).toMatchObject({ compatible: 'arm,mmu-401', base: 0x7fb30000, size: 0x10000, irq: 101, coherentWalk: true, contextBanks: 8 });
    expect(imp.nodes.find((n) => n.name === '2b400000.iommu')?.as).toBe('disabled');
  });
  it('EHCI and OHCI on one stream of the USB SMMU, marked shared', () => {
    expect(dev('7ffb0000.usb')?.iommus).toEqual([{ iommu: '7fb30000.iommu', streamIds: [0], shared: true }]);
    expect(dev('7ffc0000.usb')?.iommus).toEqual([{ iommu: '7fb30000.iommu', streamIds: [0], shared: true }]);
  });
  it('the legacy mmu-masters binding lands on the SMMU side', () => {
    expect(b.iommus.find((i) => i.name === '2b600000.iommu')?.masters).toEqual([{ device: '7ff00000.sata', streamIds: [0x10, 0x11] }]);
  });
  it('a known PCI host bridge becomes a PCI bus with its iommu-map, mask and dma-ranges, and its listed functions', () => {
    expect(b.buses.find((x) => x.name === '40000000.pcie')).toEqual({
      name: '40000000.pcie',
      type: 'pci',
      dmaRanges: [{ bus: 0x80000000, cpu: 0x80000000, size: 0x80000000 }, { bus: 0x800000000, cpu: 0x800000000, size: 0x200000000 }],
      iommuMap: { iommu: '2b500000.iommu', ridBase: 0, streamBase: 0, length: 1, mask: 0 },
    });
    expect(dev('0000:00:01.0')).toEqual({ name: '0000:00:01.0', pci: { bdf: '00:01.0', vendor: 0x1b36, device: 0x10 }, bus: '40000000.pcie' });
  });
  it('platform buses carry their CPU-translated DMA window; hvs sits behind /soc', () => {
    expect(b.buses.find((x) => x.name === 'soc')).toEqual({ name: 'soc', type: 'platform', dmaRanges: [{ bus: 0xc0000000, cpu: 0, size: 0x40000000 }] });
    expect(dev('fe400000.hvs')).toMatchObject({ compatible: 'brcm,bcm2711-hvs', bus: 'soc', base: 0xfe400000, size: 0x8000, irq: 97 });
    expect(dev('fec00000.gpu')).toMatchObject({ bus: 'scb', base: 0xfec00000 });
    expect(b.buses.find((x) => x.name === 'scb')?.dmaRanges).toBeUndefined();
  });
  it('nodes without a model are no-driver devices with the DMA limit the kernel gives them', () => {
    const dma = imp.nodes.find((n) => n.name === 'fe007000.dma');
    expect(dma).toMatchObject({ as: 'no-driver', compatible: 'brcm,bcm2835-dma', dmaLimit: 0x3fffffff, bus: 'soc:inner' });
    expect(imp.nodes.find((n) => n.name === '7ff80000.serial')?.as).toBe('no-driver');
    expect(b.devices.some((d) => d.name === 'fe007000.dma')).toBe(false);
  });
  it('ZONE_DMA from the lowest DMA limit: 29 bits here (lowbus, 512 MiB)', () => {
    expect(imp.maxDmaCpuAddress).toBe(0x1fffffff);
    expect(imp.zoneDmaBits).toBe(29);
    expect(arm64MaxZonePhys(imp.zoneDmaBits, [{ base: 0, size: 0x100000000 }])).toBe(0x20000000);
  });
  it('an IOMMU no model exists for is reported with its masters', () => {
    const noV1 = { ...TEST_MODELS, iommu: () => undefined };
    const u = importDevicetree(t, noV1);
    expect(u.board.iommus).toEqual([]);
    expect(u.unmodelledIommus.find((x) => x.name === '7fb30000.iommu')?.masters).toEqual(['7ffb0000.usb', '7ffc0000.usb']);
    expect(u.unmodelledIommus.find((x) => x.name === '2b500000.iommu')?.masters).toEqual(['40000000.pcie']);
    expect(u.board.buses.find((x) => x.name === '40000000.pcie')?.iommuMap).toBeUndefined();
  });
});

describe('arm64 ZONE_DMA (zone_dma_bits, max_zone_phys)', () => {
  it('follows the kernel for the shapes of real boards', () => {
    expect(arm64ZoneDmaBits(0x3fffffff)).toBe(30);
    expect(arm64ZoneDmaBits(0x9ffffffff)).toBe(32);
    expect(arm64ZoneDmaBits(Number.MAX_SAFE_INTEGER)).toBe(32);
    // RPi4: RAM from 0, 30 bits → 1 GiB
    expect(arm64MaxZonePhys(30, [{ base: 0, size: 0x3b400000 }, { base: 0x40000000, size: 0xbc000000 }])).toBe(0x40000000);
    // QEMU virt, 2 GiB at 1 GiB: the whole of RAM is below 4 GiB
    expect(arm64MaxZonePhys(32, [{ base: 0x40000000, size: 0x80000000 }])).toBe(0xc0000000);
    // RAM starting above 4 GiB: ZONE_DMA spans all of it
    expect(arm64MaxZonePhys(32, [{ base: 0x800000000, size: 0x40000000 }])).toBe(0x840000000);
  });
  it('the DMA limit of a device behind a window follows of_dma_configure then dma_to_phys', () => {
    expect(ofDmaLimit([{ cpuStart: 0, dmaStart: 0xc0000000, size: 0x40000000 }])).toBe(0x3fffffff);
    expect(ofDmaLimit(null)).toBe(0xffffffff);
    expect(ofDmaLimit([{ cpuStart: 0, dmaStart: 0, size: 0x20000000 }])).toBe(0x1fffffff);
  });
});
