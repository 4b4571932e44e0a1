import { GiB, MiB } from '@dmasim/core';
import { dmaDirectReach, swiotlbPortFor } from '@dmasim/dma-mapping';
import { Swiotlb, type SwiotlbOptions } from '@dmasim/swiotlb';
import { describe, expect, it } from 'vitest';
import { injectDmaFault } from '../common/fault-inject';
import { RPI4_SOC_WINDOW, addDevice, makeIommu, makeRig, registerModel } from '../testing/rig';
import { rpi4V3dModel, rpi4Vc4Model } from './models';
import { v3dGpuOf } from './v3d-driver';
import { vc4DrmOf } from './vc4-driver';

function rpi4(opts: { swiotlb?: SwiotlbOptions; coherent?: boolean } = {}) {
  let tlb: Swiotlb | null = null;
  const rig = makeRig({
    ram: 2 * GiB,
    dmaZoneEnd: 1 * GiB,
    swiotlb: (core) => {
      tlb = new Swiotlb({ ...core, reach: dmaDirectReach }, { size: 64 * MiB, verbose: false, ...opts.swiotlb });
      return swiotlbPortFor(tlb);
    },
  });
  registerModel(rig, rpi4V3dModel);
  registerModel(rig, rpi4Vc4Model);
  const coherent = opts.coherent ?? false;
  addDevice(rig, rpi4Vc4Model, { name: 'hvs', compatible: 'brcm,bcm2711-hvs', base: 0xfe400000, irq: 97, coherent, dmaRanges: RPI4_SOC_WINDOW });
  addDevice(rig, rpi4V3dModel, { name: 'v3d', compatible: 'brcm,2711-v3d', base: 0xfec00000, irq: 74, coherent });
  return { rig, tlb: tlb as Swiotlb | null };
}

const seedWorkload = { kind: 'display-import', producer: 'v3d', consumer: 'hvs', buffers: [524288, 815104], frames: 3 };

describe('Raspberry Pi 4 v3d → vc4 display-import', () => {
  it('binds v3d, vc4-hvs and the vc4-drm device `gpu` with the HVS window adopted', () => {
    const { rig } = rpi4();
    expect(rig.devices.get('hvs')!.driver?.name).toBe('vc4-hvs');
    const gpu = rig.bus.core.devices.get('gpu')!;
    expect(gpu.driver?.name).toBe('vc4-drm');
    expect(gpu.dma.rangeMap).toEqual([{ cpuStart: 0, dmaStart: 0xc0000000, size: 1 * GiB }]);
    expect(rig.devices.get('v3d')!.dma.maskBits).toBe(40);
  });

  it('fixed 64 MiB pool: buffers above 1 GiB fail to import with the seed lines', () => {
    const { rig, tlb } = rpi4();
    const r = rpi4Vc4Model.runWorkload!(rig.wctx, seedWorkload);
    expect(r.ok).toBe(false);
    expect(r.errors).toBe(6);
    expect((r.details as { importFailures: number }).importFailures).toBe(6);
    expect((r.details as { lowestBufferPhys: number }).lowestBufferPhys).toBeGreaterThanOrEqual(1 * GiB);
    const log = rig.core.log.format().join('\n');
    expect(log).toMatch(/vc4-drm gpu: swiotlb buffer is full \(sz: 524288 bytes\), total 32768 \(slots\), used \d+ \(slots\)/);
    expect(log).toMatch(/vc4-drm gpu: swiotlb buffer is full \(sz: 815104 bytes\), total 32768 \(slots\), used \d+ \(slots\)/);
    expect(tlb!.stats().dynamicBuffers).toBe(0);
  });

  for (const coherent of [false, true]) {
    it(`dynamic per-buffer bounce buffers fix it; pixels verified (coherent=${coherent})`, () => {
      const { rig, tlb } = rpi4({ swiotlb: { dynamic: 'per-buffer' }, coherent });
      const r = rpi4Vc4Model.runWorkload!(rig.wctx, seedWorkload);
      expect(r.errors).toBe(0);
      expect(r.ok).toBe(true);
      expect(r.bytes).toBe(3 * (524288 + 815104));
      expect(tlb!.stats().dynamicBuffers).toBeGreaterThan(0);
      expect(rig.core.log.format().join('\n')).not.toContain('swiotlb buffer is full');
    });
  }

  it('buffers below 1 GiB need no bouncing', () => {
    const { rig, tlb } = rpi4();
    const r = rpi4Vc4Model.runWorkload!(rig.wctx, { ...seedWorkload, placement: 'low' });
    expect(r.ok).toBe(true);
    expect(tlb!.stats().maxUsedSlots).toBe(0);
  });

  it('a display list entry outside the window faults the scan-out; the next frame works', () => {
    const { rig } = rpi4({ swiotlb: { dynamic: 'per-buffer' } });
    injectDmaFault(rig.bus.core.devices.get('gpu')!, 1);
    const r = rpi4Vc4Model.runWorkload!(rig.wctx, seedWorkload);
    expect(r.ok).toBe(false);
    expect((r.details as { scanoutFailures: number }).scanoutFailures).toBe(1);
    expect(r.bytes).toBe(3 * (524288 + 815104) - 524288);
    expect(rig.core.log.format().join('\n')).toContain('vc4-drm gpu: [drm] *ERROR* HVS scan-out DMA error at 0x1000');
    expect(vc4DrmOf(rig.bus.core.devices.get('gpu')!)!.imports).toBe(6);
  });
});

describe('v3d error path', () => {
  it('a job whose buffer address is unmapped faults in the IOMMU; the render fails with -EIO and the next one works', () => {
    const rig = makeRig({ ram: 2 * GiB, dmaZoneEnd: 1 * GiB });
    registerModel(rig, rpi4V3dModel);
    const iommu = makeIommu(rig, 2 ** 40);
    const { dev } = addDevice(rig, rpi4V3dModel, { name: 'v3d', compatible: 'brcm,2711-v3d', base: 0xfec00000, irq: 74, iommu });
    const gpu = v3dGpuOf(dev)!;
    const bo = gpu.createBo(65536);
    if (typeof bo === 'number') throw new Error('createBo failed');
    injectDmaFault(dev, 1);
    expect(gpu.render(bo, 5)).toBe(-5);
    expect(iommu.faults.length).toBeGreaterThan(0);
    expect(rig.core.log.format().join('\n')).toContain('v3d v3d: MMU error from client L2T (0) at 0x1000, pte invalid');
    expect(gpu.render(bo, 6)).toBe(0);
    gpu.freeBo(bo);
  });
});
