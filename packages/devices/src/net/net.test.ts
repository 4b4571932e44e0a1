import { describe, expect, it } from 'vitest';
import { injectDmaFault } from '../common/fault-inject';
import type { DeviceModel } from '../model';
import { addDevice, makeIommu, makeRig, registerModel } from '../testing/rig';
import { netDevOf } from './ring-nic-driver';
import { sky2NicModel } from './sky2-model';
import { calxedaXgmacModel } from './xgmac-model';

const models: [DeviceModel, string, { compatible?: string; pciId?: string }][] = [
  [calxedaXgmacModel, 'xgmac0', { compatible: 'calxeda,hb-xgmac' }],
  [sky2NicModel, 'nic', { pciId: '11ab:4380' }],
];

function setup(model: DeviceModel, name: string, id: { compatible?: string; pciId?: string }, coherent: boolean, withIommu: boolean) {
  const rig = makeRig();
  registerModel(rig, model);
  const iommu = withIommu ? makeIommu(rig) : undefined;
  const { dev } = addDevice(rig, model, { name, ...id, base: 0xfff50000, irq: 77, coherent, ...(iommu ? { iommu } : {}) });
  return { rig, dev, iommu };
}

describe('ring NICs (xgmac, sky2)', () => {
  for (const [model, name, id] of models) {
    for (const coherent of [true, false]) {
      for (const withIommu of [false, true]) {
        it(`${model.name}: net-loopback payloads intact (coherent=${coherent}, iommu=${withIommu})`, () => {
          const { rig, dev } = setup(model, name, id, coherent, withIommu);
          expect(dev.state).toBe('bound');
          const r = model.runWorkload!(rig.wctx, { kind: 'net-loopback', device: name, packets: 300, size: 1514, inflight: 32 });
          expect(r.errors).toBe(0);
          expect(r.ok).toBe(true);
          expect(r.bytes).toBe(300 * 1514);
        });
      }
    }
  }

  it('xgmac keeps `inflight` TX mappings live', () => {
    const { rig, dev, iommu } = setup(calxedaXgmacModel, 'xgmac0', { compatible: 'calxeda,hb-xgmac' }, true, true);
    const nd = netDevOf(dev)!;
    nd.txKeep = 100;
    for (let i = 0; i < 150; i++) nd.xmit(new Uint8Array(1000).fill(i));
    rig.core.sched.runUntilIdle();
    expect(nd.txOutstanding).toBe(100);
    // 100 TX frames + 64 RX buffers + 2 ring allocations (4 pages each... rings are 16 KiB and 1 KiB)
    expect(iommu!.livePages).toBe(100 + 64 + 4 + 1);
    nd.reclaim(0);
    expect(iommu!.livePages).toBe(64 + 4 + 1);
  });

  it('mapping failures (IOVA space exhausted by live mappings) are counted as errors, not a crash', () => {
    const rig = makeRig();
    registerModel(rig, calxedaXgmacModel);
    // IOVA space for the rings, the 64 RX buffers and 10 more pages: 32 live TX frames cannot fit
    const iommu = makeIommu(rig, (16 + 5 + 64 + 10) * 4096);
    addDevice(rig, calxedaXgmacModel, { name: 'xgmac0', compatible: 'calxeda,hb-xgmac', base: 0xfff50000, irq: 77, coherent: true, iommu });
    const r = calxedaXgmacModel.runWorkload!(rig.wctx, { kind: 'net-loopback', device: 'xgmac0', packets: 200, size: 1514, inflight: 32 });
    expect(r.ok).toBe(false);
    expect(r.errors).toBeGreaterThan(0);
    expect((r.details as { txMapErrors: number }).txMapErrors).toBeGreaterThan(0);
    // what did go through came back intact
    expect((r.details as { damaged: number }).damaged).toBe(0);
    expect(r.bytes).toBeGreaterThan(0);
  });

  it('a frame with an unmapped IOVA makes the MAC report a fatal bus error; the driver resets and carries on', () => {
    const { rig, dev, iommu } = setup(calxedaXgmacModel, 'xgmac0', { compatible: 'calxeda,hb-xgmac' }, false, true);
    injectDmaFault(dev, 1);
    const r = calxedaXgmacModel.runWorkload!(rig.wctx, { kind: 'net-loopback', device: 'xgmac0', packets: 50, size: 600, inflight: 8 });
    expect(iommu!.faults.length).toBeGreaterThan(0);
    expect(r.ok).toBe(false);
    expect(rig.core.log.format().join('\n')).toMatch(/calxedaxgmac xgmac0: eth0: fatal bus error at 0x1000, resetting/);
    const again = calxedaXgmacModel.runWorkload!(rig.wctx, { kind: 'net-loopback', device: 'xgmac0', packets: 50, size: 600, inflight: 8 });
    expect(again.ok).toBe(true);
  });
});
