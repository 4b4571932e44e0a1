import { describe, expect, it } from 'vitest';
import { injectDmaFault } from '../common/fault-inject';
import { addDevice, makeIommu, makeRig, registerModel } from '../testing/rig';
import { ahciHostOf } from './ahci-driver';
import { calxedaSataModel } from './model';

function setup(opts: { coherent: boolean; iommu?: boolean }) {
  const rig = makeRig();
  registerModel(rig, calxedaSataModel);
  const iommu = opts.iommu === true ? makeIommu(rig) : undefined;
  const { dev } = addDevice(rig, calxedaSataModel, { name: 'sata', compatible: 'calxeda,hb-ahci', base: 0xffe08000, irq: 83, coherent: opts.coherent, ...(iommu ? { iommu } : {}) });
  return { rig, dev, iommu };
}

describe('calxeda,hb-ahci', () => {
  it('probes with the ahci driver and logs the AHCI banner', () => {
    const { rig, dev } = setup({ coherent: true });
    expect(dev.state).toBe('bound');
    expect(dev.driver?.name).toBe('ahci');
    expect(rig.core.log.format().join('\n')).toContain('ahci sata: AHCI 0001.0300 32 slots 1 ports 6 Gbps');
  });

  for (const coherent of [true, false]) {
    for (const iommu of [false, true]) {
      it(`disk-io keeps data intact (coherent=${coherent}, iommu=${iommu})`, () => {
        const { rig } = setup({ coherent, iommu });
        const r = calxedaSataModel.runWorkload!(rig.wctx, { kind: 'disk-io', device: 'sata', requests: 200, blockSize: '16KiB', segments: 8, readPercent: 50 });
        expect(r.errors).toBe(0);
        expect(r.ok).toBe(true);
        expect(r.bytes).toBeGreaterThan(0);
        expect((r.details as { reads: number }).reads).toBeGreaterThan(0);
      });
    }
  }

  it('splits scatterlist entries at the device max segment size', () => {
    const { rig, dev } = setup({ coherent: true });
    dev.dma.maxSegmentSize = 4096;
    const host = ahciHostOf(dev)!;
    const buf = rig.core.pages.allocPagesExact(65536)!;
    const cmd = host.submit({ write: true, lba: 0, sectors: 128, segments: [{ phys: buf, len: 65536 }] });
    expect(typeof cmd).not.toBe('number');
    if (typeof cmd === 'number') return;
    expect(cmd.sgl.length).toBe(16);
    expect(host.waitIdle()).toBe(0);
    expect(cmd.status).toBe('ok');
  });

  it('a descriptor with an unmapped IOVA faults behind the IOMMU, fails the request, and the port recovers', () => {
    const { rig, dev, iommu } = setup({ coherent: false, iommu: true });
    injectDmaFault(dev, 1);
    const r = calxedaSataModel.runWorkload!(rig.wctx, { kind: 'disk-io', device: 'sata', requests: 40, blockSize: 4096, segments: 2, readPercent: 0 });
    expect(iommu!.faults.length).toBeGreaterThan(0);
    expect(r.ok).toBe(false);
    expect(r.errors).toBeGreaterThanOrEqual(1);
    const log = rig.core.log.format().join('\n');
    expect(log).toContain('ata1: hard resetting link');
    expect(log).toContain('failed command: WRITE DMA EXT');
    // after EH the port works again
    const again = calxedaSataModel.runWorkload!(rig.wctx, { kind: 'disk-io', device: 'sata', requests: 40, blockSize: 4096, segments: 2, readPercent: 50 });
    expect(again.ok).toBe(true);
    expect(ahciHostOf(dev)!.resets).toBe(1);
  });
});
