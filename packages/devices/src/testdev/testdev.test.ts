import { EIO } from '@dmasim/core';
import { describe, expect, it } from 'vitest';
import type { DeviceModel } from '../model';
import { addDevice, makeIommu, makeRig, registerModel } from '../testing/rig';
import { BoundaryCheckedPort, DMA_ENGINE_BOUNDARY, crossesBoundary } from './burst-boundary';
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
    expect(rig.core.log.format().join('\n')).toMatch(/dmasim dma-selftest \S+: bus error at 0x1000/);
    // a dmasim test step, never dressed as a driver's dev_err line
    expect(rig.core.log.format().join('\n')).not.toContain('testdev: DMA self-test');
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

describe('the engine burst limit (64 KiB boundary)', () => {
  it('refuses a burst that crosses a boundary with a bus error where it would cross, and passes the rest on', () => {
    const rig = makeRig();
    registerModel(rig, genericEhciModel);
    const { dev } = addDevice(rig, genericEhciModel, { name: 'usb0', compatible: 'generic-ehci', base: 0x7ffc0000, irq: 101 });
    const eng = dmaEngineOf(dev)!;
    const block = rig.core.pages.allocPages(5)!; // 128 KiB, 128 KiB aligned
    const inside = eng.transfer(block, block + DMA_ENGINE_BOUNDARY, DMA_ENGINE_BOUNDARY);
    expect(inside.rc).toBe(0);
    const across = eng.transfer(block + 12 * 1024, block + DMA_ENGINE_BOUNDARY, DMA_ENGINE_BOUNDARY);
    expect(across).toEqual({ rc: -EIO, faultAddr: block + DMA_ENGINE_BOUNDARY });
  });

  it('crossesBoundary looks at the first and last byte only', () => {
    expect(crossesBoundary(0, 64 * 1024, 64 * 1024)).toBe(false);
    expect(crossesBoundary(1, 64 * 1024, 64 * 1024)).toBe(true);
    expect(crossesBoundary(2 ** 40 - 4096, 4096, 64 * 1024)).toBe(false);
    expect(crossesBoundary(2 ** 40 - 4096, 4097, 64 * 1024)).toBe(true);
    expect(crossesBoundary(5, 0, 64 * 1024)).toBe(false);
  });

  it('refuses through the port without touching memory', () => {
    const writes: number[] = [];
    const inner = { read: () => ({ ok: true as const }), write: (a: number) => (writes.push(a), { ok: true as const }) };
    const port = new BoundaryCheckedPort(inner, 64 * 1024);
    expect(port.write(0x1f000, new Uint8Array(0x2000))).toEqual({ ok: false, fault: 'bus-error', addr: 0x20000 });
    expect(port.write(0x1e000, new Uint8Array(0x2000))).toEqual({ ok: true });
    expect(writes).toEqual([0x1e000]);
  });
});

describe('dma-selftest with a driver bug (direct DMA, non-coherent)', () => {
  const setup = () => {
    const rig = makeRig();
    registerModel(rig, genericOhciModel);
    addDevice(rig, genericOhciModel, { name: 'usb1', compatible: 'generic-ohci', base: 0x7ffb0000, irq: 102, coherent: false });
    return rig;
  };

  it('sync-sg-mapped-nents: dma-direct never merges, so the mapped count covers every entry and no byte is stale', () => {
    const rig = setup();
    const r = genericOhciModel.runWorkload!(rig.wctx, { kind: 'dma-selftest', device: 'usb1', rounds: 2, bug: 'sync-sg-mapped-nents' });
    expect(r).toMatchObject({ ok: true, errors: 0, bytes: 2 * 4 * 4096 });
    expect(r.details).toMatchObject({ entries: 8, mappedSegments: 8, staleEntries: 0 });
  });

  it('sg-boundary: physically aligned blocks never cross; both segments are copied and checked', () => {
    const rig = setup();
    const r = genericOhciModel.runWorkload!(rig.wctx, { kind: 'dma-selftest', device: 'usb1', rounds: 1, bug: 'sg-boundary' });
    expect(r).toMatchObject({ ok: true, errors: 0, bytes: 76 * 1024 });
    expect(r.details).toMatchObject({ segments: 2, crossingSegments: 0 });
  });

  it('double-unmap: the copy is checked and the second unmap is counted (dma-direct does not notice it)', () => {
    const rig = setup();
    const r = genericOhciModel.runWorkload!(rig.wctx, { kind: 'dma-selftest', device: 'usb1', rounds: 3, bug: 'double-unmap' });
    expect(r).toMatchObject({ bytes: 3 * 4096 });
    expect(r.details).toMatchObject({ doubleUnmaps: 3 });
    expect(r.ok).toBe(r.errors === 0);
  });

  it('an unknown bug is a host-level error', () => {
    const rig = setup();
    expect(() => genericOhciModel.runWorkload!(rig.wctx, { kind: 'dma-selftest', device: 'usb1', bug: 'use-after-free' })).toThrow(/bug must be one of/);
  });
});
