import { describe, expect, it } from 'vitest';
import type { DeviceModel } from '../model';
import { addDevice, makeIommu, makeRig, registerModel } from '../testing/rig';
import { dmaEngineOf } from './dma-selftest';
import { genericEhciModel, genericOhciModel, pciTestdevModel } from './models';

const cases: [DeviceModel, { compatible?: string; pciId?: string }, string][] = [
  [pciTestdevModel, { pciId: '1b36:0005' }, 'pci-testdev'],
  [genericEhciModel, { compatible: 'generic-ehci' }, 'ehci-platform'],
  [genericOhciModel, { compatible: 'generic-ohci' }, 'ohci-platform'],
];

describe('DMA-engine devices (pci-testdev, ehci/ohci-platform)', () => {
  for (const [model, id, driver] of cases) {
    for (const coherent of [true, false]) {
      for (const withIommu of [false, true]) {
        it(`${model.name}: probe self-test and dma-selftest rounds pass (coherent=${coherent}, iommu=${withIommu})`, () => {
          const rig = makeRig();
          registerModel(rig, model);
          const iommu = withIommu ? makeIommu(rig) : undefined;
          const { dev } = addDevice(rig, model, { name: 'usb0', ...id, base: 0x7ffc0000, irq: 101, coherent, ...(iommu ? { iommu } : {}) });
          expect(dev.state).toBe('bound');
          expect(dev.driver?.name).toBe(driver);
          const r = model.runWorkload!(rig.wctx, { kind: 'dma-selftest', device: 'usb0', rounds: 8 });
          expect(r.ok).toBe(true);
          expect(r.bytes).toBe(8 * 4096);
          if (iommu) expect(iommu.ptes.size).toBeGreaterThan(0);
        });
      }
    }
  }

  it('ehci logs the kernel probe lines', () => {
    const rig = makeRig();
    registerModel(rig, genericEhciModel);
    addDevice(rig, genericEhciModel, { name: '7ffc0000.usb', compatible: 'generic-ehci', base: 0x7ffc0000, irq: 101 });
    const log = rig.core.log.format().join('\n');
    expect(log).toContain('ehci-platform 7ffc0000.usb: EHCI Host Controller');
    expect(log).toContain('ehci-platform 7ffc0000.usb: new USB bus registered, assigned bus number 1');
  });

  it('a self-test from an unmapped IOVA faults and is reported; the next one passes', () => {
    const rig = makeRig();
    registerModel(rig, pciTestdevModel);
    const iommu = makeIommu(rig);
    const { dev } = addDevice(rig, pciTestdevModel, { name: 'testdev', pciId: '1b36:0005', base: 0x50000000, irq: 40, iommu });
    const r = pciTestdevModel.runWorkload!(rig.wctx, { kind: 'dma-selftest', device: 'testdev', rounds: 4, injectFault: 1 });
    expect(r.errors).toBe(1);
    expect(iommu.faults).toHaveLength(1);
    expect(rig.core.log.format().join('\n')).toContain('DMA self-test: bus error at 0x1000');
    expect(dmaEngineOf(dev)!.selftest(99)).toBe(0);
  });

  it('a device whose buffer lies beyond its bus window fails its probe self-test', () => {
    const rig = makeRig({ ram: 2 * 1024 ** 3 });
    registerModel(rig, genericOhciModel);
    // window covering only 16 MiB..32 MiB of CPU memory: the coherent buffer (low memory) is unreachable
    const { dev } = addDevice(rig, genericOhciModel, { name: 'usb1', compatible: 'generic-ohci', base: 0x7ffb0000, irq: 102, dmaRanges: [{ bus: 0xc0000000 + 16 * 1024 * 1024, cpu: 16 * 1024 * 1024, size: 16 * 1024 * 1024 }] });
    expect(dev.state).not.toBe('bound');
  });
});
