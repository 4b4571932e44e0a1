/**
 * SATA, xgmac and NVMe behind the real IOMMU stack of the other packages (see bench/iommu-stack.ts):
 * strict iommu-dma domains over a FakeIommu page table, dma-iommu's two-step IOVA API for NVMe. The
 * device's DMA port translates through the domain, so an unmapped IOVA really faults.
 */
import { getDmaOps } from '@dmasim/dma-mapping';
import { describe, expect, it } from 'vitest';
import { behindIommu, machine } from '../../bench/iommu-stack';
import { injectDmaFault } from '../common/fault-inject';
import { calxedaXgmacModel } from '../net/xgmac-model';
import { nvmeModel } from '../nvme/model';
import { calxedaSataModel } from '../sata/model';

describe('devices behind iommu-dma (strict domain, FakeIommu page table)', () => {
  for (const coherent of [true, false]) {
    it(`SATA disk-io through iommu-dma (coherent=${coherent})`, () => {
      const m = machine();
      const { dev, xlate } = behindIommu(m, calxedaSataModel, 'sata', coherent, { compatible: 'calxeda,hb-ahci' });
      expect(dev.state).toBe('bound');
      expect(getDmaOps(dev).name).toBe('iommu-dma');
      const r = calxedaSataModel.runWorkload!(m.rig.wctx, { kind: 'disk-io', device: 'sata', requests: 150, blockSize: '16KiB', segments: 8, readPercent: 50 });
      expect(r.errors).toBe(0);
      expect(r.ok).toBe(true);
      expect(xlate.faults).toHaveLength(0);
    });

    it(`xgmac net-loopback through iommu-dma (coherent=${coherent})`, () => {
      const m = machine();
      const { dev } = behindIommu(m, calxedaXgmacModel, 'xgmac0', coherent, { compatible: 'calxeda,hb-xgmac' });
      expect(getDmaOps(dev).name).toBe('iommu-dma');
      const r = calxedaXgmacModel.runWorkload!(m.rig.wctx, { kind: 'net-loopback', device: 'xgmac0', packets: 300, size: 1514, inflight: 64 });
      expect(r.errors).toBe(0);
      expect(r.ok).toBe(true);
    });

    it(`NVMe nvme-io with the two-step IOVA API of dma-iommu (coherent=${coherent})`, () => {
      const m = machine();
      const { dev } = behindIommu(m, nvmeModel, 'nvme', coherent, { pciId: '1b36:0010' });
      expect(dev.state).toBe('bound');
      expect(getDmaOps(dev).name).toBe('iommu-dma');
      const r = nvmeModel.runWorkload!(m.rig.wctx, { kind: 'nvme-io', device: 'nvme', requests: 100, blockSize: '16KiB', unalignedFirst: true });
      expect(r.errors).toBe(0);
      expect(r.ok).toBe(true);
      expect((r.details as { iovaRequests: number }).iovaRequests).toBe(100);
    });
  }

  it('an unmapped IOVA in a SATA PRD faults in the domain; EH recovers', () => {
    const m = machine();
    const { dev, xlate } = behindIommu(m, calxedaSataModel, 'sata', false, { compatible: 'calxeda,hb-ahci' });
    injectDmaFault(dev, 1);
    const r = calxedaSataModel.runWorkload!(m.rig.wctx, { kind: 'disk-io', device: 'sata', requests: 20, blockSize: 4096, segments: 1, readPercent: 0 });
    expect(r.ok).toBe(false);
    expect(xlate.faults).toContain(0x1000);
    expect(calxedaSataModel.runWorkload!(m.rig.wctx, { kind: 'disk-io', device: 'sata', requests: 20, blockSize: 4096, segments: 1, readPercent: 50 }).ok).toBe(true);
  });
});
