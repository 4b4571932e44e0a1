import { describe, expect, it } from 'vitest';
import { injectDmaFault } from '../common/fault-inject';
import { iovaLinkApi } from '../common/iova-link';
import { addDevice, makeIommu, makeRig, registerModel } from '../testing/rig';
import { nvmeCtrlOf } from './nvme-driver';
import { nvmeModel } from './model';

function setup(coherent: boolean, withIommu: boolean) {
  const rig = makeRig();
  registerModel(rig, nvmeModel);
  const iommu = withIommu ? makeIommu(rig) : undefined;
  const { dev } = addDevice(rig, nvmeModel, { name: 'nvme', pciId: '1b36:0010', base: 0x50000000, irq: 40, coherent, ...(iommu ? { iommu } : {}) });
  return { rig, dev, iommu };
}

describe('NVMe 1b36:0010', () => {
  it('probes: queues created through the admin queue', () => {
    const { rig, dev } = setup(true, false);
    expect(dev.driver?.name).toBe('nvme');
    const log = rig.core.log.format().join('\n');
    expect(log).toMatch(/nvme nvme0: pci function [0-9a-f]{4}:00:00\.0/);
    expect(log).toContain('nvme nvme0: 1/0/0 default/read/poll queues');
  });

  for (const coherent of [true, false]) {
    for (const withIommu of [false, true]) {
      for (const unalignedFirst of [false, true]) {
        it(`nvme-io intact (coherent=${coherent}, iommu=${withIommu}, unalignedFirst=${unalignedFirst})`, () => {
          const { rig, dev } = setup(coherent, withIommu);
          const r = nvmeModel.runWorkload!(rig.wctx, { kind: 'nvme-io', device: 'nvme', requests: 120, blockSize: '16KiB', unalignedFirst });
          expect(r.errors).toBe(0);
          expect(r.ok).toBe(true);
          const d = r.details as { iovaRequests: number; sgRequests: number; reads: number; unverifiedReads: number };
          expect(d.reads - d.unverifiedReads).toBeGreaterThan(0);
          // behind an IOMMU every request used the two-step API; without one, map_sg
          expect(withIommu ? d.iovaRequests : d.sgRequests).toBe(120);
          expect(withIommu ? d.sgRequests : d.iovaRequests).toBe(0);
          if (withIommu) {
            // one IOVA allocation per request, one link per segment (5 pieces when unaligned, else 4)
            const api = iovaLinkApi(dev) as unknown as { allocs: number; links: number };
            expect(api.allocs).toBe(120);
            expect(api.links).toBe(120 * (unalignedFirst ? 5 : 4));
          }
        });
      }
    }
  }

  it('the two-step API keeps the first segment offset: PRP1 is unaligned, one allocation per request', () => {
    const { rig, dev } = setup(true, true);
    const api = iovaLinkApi(dev) as unknown as { allocs: number; links: number };
    const ctrl = nvmeCtrlOf(dev)!;
    const page = rig.core.pages.allocPages(0)!;
    const page2 = rig.core.pages.allocPages(0)!;
    const cmd = ctrl.submit({ write: true, lba: 8, sectors: 8, segments: [{ phys: page + 512, len: 3584 }, { phys: page2, len: 512 }] });
    expect(typeof cmd).not.toBe('number');
    if (typeof cmd === 'number') return;
    expect(cmd.mapping.kind).toBe('iova');
    if (cmd.mapping.kind === 'iova') expect(cmd.mapping.state.addr % 4096).toBe(512);
    expect(ctrl.waitIdle()).toBe(0);
    expect(cmd.status).toBe('ok');
    expect(api.allocs).toBe(1);
    expect(api.links).toBe(2);
  });

  it('a PRP with an unmapped IOVA completes with Data Transfer Error; later I/O works', () => {
    const { rig, dev, iommu } = setup(false, true);
    injectDmaFault(dev, 1);
    const r = nvmeModel.runWorkload!(rig.wctx, { kind: 'nvme-io', device: 'nvme', requests: 30, blockSize: 8192, readPercent: 0 });
    expect(iommu!.faults.length).toBe(1);
    expect(r.ok).toBe(false);
    expect(r.errors).toBe(1);
    const log = rig.core.log.format().join('\n');
    expect(log).toMatch(/nvme0n1: I\/O Cmd\(0x1\) @ LBA \d+, 16 blocks, Data Transfer Error \(sct 0x0 \/ sc 0x4\)/);
    expect(log).toContain('I/O error, dev nvme0n1');
    expect(nvmeModel.runWorkload!(rig.wctx, { kind: 'nvme-io', device: 'nvme', requests: 30, blockSize: 8192 }).ok).toBe(true);
  });
});
