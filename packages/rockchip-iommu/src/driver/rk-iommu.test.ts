import { describe, expect, it } from 'vitest';
import { createBusServices, FwNode, type PlatformDriver } from '@dmasim/bus';
import { createCoreServices, MiB } from '@dmasim/core';
import { busNotifierHostOf, IOMMU_READ, IOMMU_WRITE, IommuCore, iommuIovaToPhys, iommuMap, iommuUnmap, type IommuProfile } from '@dmasim/iommu-core';
import { RK_MMU_DTE_ADDR, RK_MMU_STATUS } from '../hw/regs';
import { RkIommuHardware } from '../hw/rk-iommu-hw';
import { RkIommuDriver } from './rk-iommu';

const BASE = 0xff930300;
const hex8 = (v: number): string => `0x${v.toString(16).padStart(8, '0')}`;

/** A machine-less rig: core, bus, IOMMU core, one Rockchip IOMMU and its master. */
function rig(profile: IommuProfile) {
  const core = createCoreServices({ memory: [{ base: 0, size: 64 * MiB }] });
  const bus = createBusServices({ log: core.log, sched: core.sched, mmio: core.mmio });
  const iommu = new IommuCore({ log: core.log }, { profile });
  const host = busNotifierHostOf(bus.platform);
  iommu.iommuSubsysInit([host]);
  if (profile === 'linux-6.x') bus.core.dmaConfigure.add('of_iommu_configure', (dev) => iommu.iommuDmaConfigure(dev));
  const hw = new RkIommuHardware({ name: 'vopb_mmu', memory: core.memory, irq: core.irqs.line(47) });
  hw.mapInto(core.mmio, BASE);
  const driver = new RkIommuDriver({ log: core.log, mmio: core.mmio, irqs: core.irqs, memory: core.memory, pages: core.pages, iommu }, { profile });
  const pdrv = driver.platformDriver(bus.platform);
  const masterDriver: PlatformDriver = { name: 'test-master', bus: bus.platform, ofMatchTable: [{ compatible: 'test,master' }], probe: () => 0 };
  bus.core.driverRegister(masterDriver);
  const mmuDev = bus.platform.createDevice(new FwNode('vopb_mmu', { compatible: ['rockchip,iommu'], reg: [BASE, 0x100], interrupts: [47], '#iommu-cells': 0 }), null, 'vopb_mmu');
  const master = bus.platform.createDevice(new FwNode('vop', { compatible: ['test,master'], iommus: [{ node: 'vopb_mmu', args: [] }] }), null, 'vop');
  const lines = () => core.log.lines.filter((l) => l.level !== 'debug').map((l) => l.text);
  return { core, bus, iommu, host, hw, driver, pdrv, mmuDev, master, lines };
}

describe('rk_iommu driver, later kernels', () => {
  it('registers the instance, gives its master a DMA default domain and turns paging on for it', () => {
    const { core, bus, iommu, hw, driver, pdrv, mmuDev, master } = rig('linux-6.x');
    bus.core.driverRegister(pdrv);
    bus.core.deviceAdd(mmuDev);
    bus.core.deviceAdd(master);
    core.sched.runUntilIdle();
    const domain = iommu.iommuGetDomainForDev(master);
    expect(domain?.type).toBe('DMA');
    expect(driver.domains).toHaveLength(1);
    expect(hw.pagingEnabled).toBe(true);
    expect(core.mmio.readl(BASE + RK_MMU_DTE_ADDR)).toBe(driver.domains[0]!.dt);
    expect(driver.domains[0]!.dt).not.toBeNull();
    expect(domain!.geometry).toMatchObject({ apertureStart: 0, apertureEnd: 0xffffffff, forceAperture: true });
  });

  it('maps through a page table in memory that the hardware walks, and unmaps with a shootdown', () => {
    const { core, bus, iommu, hw, pdrv, mmuDev, master } = rig('linux-6.x');
    bus.core.driverRegister(pdrv);
    bus.core.deviceAdd(mmuDev);
    bus.core.deviceAdd(master);
    const domain = iommu.iommuGetDomainForDev(master)!;
    expect(iommuMap(domain, 0x10000000, 0x200000, 0x3000, IOMMU_READ | IOMMU_WRITE)).toBe(0);
    expect(iommuIovaToPhys(domain, 0x10002010)).toBe(0x202010);
    expect(hw.translate(0x10001008, 'write')).toMatchObject({ ok: true, phys: 0x201008 });
    expect(iommuMap(domain, 0x10001000, 0x500000, 0x1000, IOMMU_READ)).toBeLessThan(0);
    expect(core.log.lines.some((l) => l.text === 'iova: 0x10001000 already mapped to 0x00201000 cannot remap to phys: 0x00500000 prot: 0x1')).toBe(true);
    expect(iommuUnmap(domain, 0x10000000, 0x3000)).toBe(0x3000);
    expect(hw.translate(0x10001008, 'read')).toEqual({ ok: false, kind: 'page-fault' });
  });

  it('prints the page fault and the walk of the faulting IOVA, then lets the master go on', () => {
    const { core, bus, iommu, hw, pdrv, mmuDev, master, lines } = rig('linux-6.x');
    bus.core.driverRegister(pdrv);
    bus.core.deviceAdd(mmuDev);
    bus.core.deviceAdd(master);
    const domain = iommu.iommuGetDomainForDev(master)!;
    iommuMap(domain, 0x10000000, 0x200000, 0x1000, IOMMU_READ);
    const dt = core.mmio.readl(BASE + RK_MMU_DTE_ADDR);
    // the page table the first map allocated: the DTE for 0x10000000 (index 0x40) points at it
    const pt = core.memory.readU32(dt + 0x100) - 1;
    const before = lines().length;
    expect(hw.translate(0x10000040, 'write').ok).toBe(false);
    core.sched.runUntilIdle();
    expect(lines().slice(before)).toEqual([
      'rk_iommu vopb_mmu: Page fault at 0x10000040 of type write',
      'rk_iommu vopb_mmu: iova = 0x10000040: dte_index: 0x40 pte_index: 000 page_offset: 0x40',
      `rk_iommu vopb_mmu: mmu_dte_addr: ${hex8(dt)} dte@${hex8(dt + 0x100)}: 0x${(pt + 1).toString(16).padStart(6, '0')} valid: 1 pte@${hex8(pt)}: 0x200003 valid: 1 page@0x00200040 flags: 0x2`,
    ]);
    // PAGE_FAULT_DONE: the master's next transaction is translated again
    expect(hw.translate(0x10000040, 'read')).toMatchObject({ ok: true, phys: 0x200040 });
    expect(core.mmio.readl(BASE + RK_MMU_STATUS) % 4).toBe(1);
  });
});

describe('rk_iommu driver, 2015', () => {
  it('sets the platform bus ops once: a second IOMMU driver gets -EBUSY', () => {
    const { iommu, host, driver } = rig('linux-4.2');
    expect(iommu.busSetIommu(host, driver.ops)).toBe(0);
    expect(iommu.busSetIommu(host, { ...driver.ops, owner: 'arm-smmu' })).toBe(-16);
  });

  it('groups a master by its iommus property and refuses one whose specifier carries ids', () => {
    const { core, bus, iommu, host, driver, pdrv, mmuDev, master } = rig('linux-4.2');
    bus.core.deviceAdd(mmuDev);
    iommu.busSetIommu(host, driver.ops);
    bus.core.driverRegister(pdrv);
    bus.core.deviceAdd(master);
    expect(iommu.devIommuGroup(master)).not.toBeNull();
    const other = bus.platform.createDevice(new FwNode('usb', { compatible: ['test,master'], iommus: [{ node: 'smmu0', args: [3] }] }), null, 'usb');
    bus.core.deviceAdd(other);
    expect(iommu.devIommuGroup(other)).toBeNull();
    expect(core.log.lines.map((l) => l.text)).toContain('platform usb: incorrect number of iommu params found for smmu0 (found 1, expected 0)');
    // UNMANAGED only, as the 2015 driver
    expect(driver.ops.domainAlloc('DMA')).toBeNull();
    expect(driver.ops.domainAlloc('UNMANAGED')).not.toBeNull();
  });
});
