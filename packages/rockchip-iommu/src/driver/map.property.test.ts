import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { createBusServices, FwNode, type PlatformDriver } from '@dmasim/bus';
import { createCoreServices, MiB } from '@dmasim/core';
import { IOMMU_READ, IOMMU_WRITE, IommuCore, iommuIovaToPhys, iommuMap, iommuUnmap, type IommuDomain } from '@dmasim/iommu-core';
import { RK_MMU_CMD_PAGE_FAULT_DONE, RK_MMU_COMMAND } from '../hw/regs';
import { RkIommuHardware } from '../hw/rk-iommu-hw';
import { RkIommuDriver } from './rk-iommu';

const BASE = 0xff930300;
const PAGE = 0x1000;

/** A master attached to a DMA domain on one Rockchip IOMMU (later kernels), hardware and driver. */
function attached(): { domain: IommuDomain; hw: RkIommuHardware } {
  const core = createCoreServices({ memory: [{ base: 0, size: 64 * MiB }] });
  const bus = createBusServices({ log: core.log, sched: core.sched, mmio: core.mmio });
  const iommu = new IommuCore({ log: core.log }, { profile: 'linux-6.x' });
  iommu.iommuSubsysInit([]);
  bus.core.dmaConfigure.add('of_iommu_configure', (dev) => iommu.iommuDmaConfigure(dev));
  const hw = new RkIommuHardware({ name: 'mmu', memory: core.memory, irq: core.irqs.line(47) });
  hw.mapInto(core.mmio, BASE);
  const driver = new RkIommuDriver({ log: core.log, mmio: core.mmio, irqs: core.irqs, memory: core.memory, pages: core.pages, iommu });
  bus.core.driverRegister(driver.platformDriver(bus.platform));
  const master: PlatformDriver = { name: 'm', bus: bus.platform, ofMatchTable: [{ compatible: 'test,m' }], probe: () => 0 };
  bus.core.driverRegister(master);
  bus.core.deviceAdd(bus.platform.createDevice(new FwNode('mmu', { compatible: ['rockchip,iommu'], reg: [BASE, 0x100], interrupts: [47] }), null, 'mmu'));
  const dev = bus.platform.createDevice(new FwNode('m', { compatible: ['test,m'], iommus: [{ node: 'mmu', args: [] }] }), null, 'm');
  bus.core.deviceAdd(dev);
  return { domain: iommu.iommuGetDomainForDev(dev)!, hw };
}

// an op: map `pages` pages at page slot `slot` (IOVA slot * 4 KiB, crossing page-table boundaries),
// or unmap what was mapped at a slot
const opArb = fc.oneof(
  fc.record({ kind: fc.constant('map' as const), slot: fc.integer({ min: 0, max: 3000 }), pages: fc.integer({ min: 1, max: 40 }), write: fc.boolean() }),
  fc.record({ kind: fc.constant('unmap' as const), pick: fc.nat() }),
);

describe('rk_iommu map/unmap against a reference model', () => {
  it('the driver’s iova_to_phys and the hardware walk agree with what was mapped, page for page', () => {
    fc.assert(
      fc.property(fc.array(opArb, { minLength: 1, maxLength: 30 }), (ops) => {
        const { domain, hw } = attached();
        const ref = new Map<number, { phys: number; write: boolean }>(); // IOVA page → mapping
        const live: { iova: number; size: number }[] = [];
        let nextPhys = 0x1000000;
        for (const op of ops) {
          if (op.kind === 'map') {
            const iova = 0x10000000 + op.slot * PAGE;
            const size = op.pages * PAGE;
            const clash = [...Array(op.pages).keys()].some((i) => ref.has(iova + i * PAGE));
            const ret = iommuMap(domain, iova, nextPhys, size, IOMMU_READ | (op.write ? IOMMU_WRITE : 0));
            if (clash) {
              expect(ret).toBeLessThan(0);
              continue;
            }
            expect(ret).toBe(0);
            for (let i = 0; i < op.pages; i++) ref.set(iova + i * PAGE, { phys: nextPhys + i * PAGE, write: op.write });
            live.push({ iova, size });
            nextPhys += size;
          } else if (live.length > 0) {
            const [r] = live.splice(op.pick % live.length, 1);
            expect(iommuUnmap(domain, r!.iova, r!.size)).toBe(r!.size);
            for (let a = r!.iova; a < r!.iova + r!.size; a += PAGE) ref.delete(a);
          }
        }
        for (let slot = 0; slot < 3040; slot += 7) {
          const iova = 0x10000000 + slot * PAGE + 0x18;
          const want = ref.get(iova - 0x18);
          expect(iommuIovaToPhys(domain, iova)).toBe(want === undefined ? 0 : want.phys + 0x18);
          const t = hw.translate(iova, 'read');
          if (want === undefined) {
            expect(t.ok).toBe(false);
            hw.write32(RK_MMU_COMMAND, RK_MMU_CMD_PAGE_FAULT_DONE); // so the next transaction is walked again
          } else expect(t).toMatchObject({ ok: true, phys: want.phys + 0x18 });
        }
      }),
      { numRuns: 40 },
    );
  });
});
