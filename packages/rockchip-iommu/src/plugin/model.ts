import { FwNode, type Device } from '@dmasim/bus';
import { busNotifierHostOf, type IommuBoardEntry, type IommuDriverContext, type IommuDriverPlugin, type IommuHardware, type IommuHardwareContext, type IommuKeyProblem, type IommuModel } from '@dmasim/iommu-core';
import { hex } from '@dmasim/core';
import { RK_MMU_DTE_ADDR, RK_MMU_REGS_SIZE, RK_MMU_STATUS, RK_MMU_STATUS_PAGING_ENABLED } from '../hw/regs';
import { RkIommuHardware } from '../hw/rk-iommu-hw';
import { RkIommuDriver, RK_IOMMU_OF_MATCH } from '../driver/rk-iommu';
import { RkIommuHop } from './hop';

const KEYS = [
  {
    key: 'disableMmuReset',
    description: 'Rockchip IOMMU: rockchip,disable-mmu-reset: the driver skips the FORCE_RESET before enabling (default false)',
    example: true,
    schema: { type: 'boolean', default: false },
  },
] as const;

/**
 * The Rockchip IOMMU (RK3288 style, `rockchip,iommu`) as an IOMMU model plugin: one instance per
 * master, no ids in the masters' `iommus` (#iommu-cells = 0), a 0x100-byte register window and one
 * fault interrupt; the rk_iommu driver registered as the profile's kernel did.
 */
export const rockchipIommuModel: IommuModel = {
  name: 'rockchip-iommu',
  compatibles: RK_IOMMU_OF_MATCH.map((m) => m.compatible),
  descriptions: { 'rockchip,iommu': 'Rockchip IOMMU (RK3288 style, rk_iommu driver): one per master, two-level 4 KiB page table' },
  iommuCells: 0,
  boardKeys: KEYS,
  checkBoardKeys: checkKeys,
  createHardware,
  createDriver,
};

function checkKeys(keys: Readonly<Record<string, unknown>>, entry: IommuBoardEntry): IommuKeyProblem[] {
  const out: IommuKeyProblem[] = [];
  for (const k of Object.keys(keys)) if (k !== 'disableMmuReset') out.push({ key: k, message: `unknown key for a ${entry.compatible}; expected disableMmuReset` });
  if (keys.disableMmuReset !== undefined && typeof keys.disableMmuReset !== 'boolean') out.push({ key: 'disableMmuReset', message: 'expected true or false', found: JSON.stringify(keys.disableMmuReset) });
  if (entry.masters.length > 0) out.push({ key: 'masters', message: `a ${entry.compatible} has no mmu-masters binding: give each master an iommus entry` });
  return out;
}

function createHardware(ctx: IommuHardwareContext, entry: IommuBoardEntry): IommuHardware {
  if (entry.size < RK_MMU_REGS_SIZE) ctx.fail('size', `a ${entry.compatible} has ${hex(RK_MMU_REGS_SIZE)} bytes of registers`, hex(entry.size));
  const irq = ctx.takeIrq(entry.irq);
  const hw = new RkIommuHardware({ name: entry.name, memory: ctx.core.memory, irq: ctx.core.irqs.line(irq) });
  hw.mapInto(ctx.core.mmio, entry.base);
  const fwnode = new FwNode(entry.name, {
    compatible: [entry.compatible],
    reg: [entry.base, RK_MMU_REGS_SIZE],
    interrupts: [irq],
    '#iommu-cells': 0,
    ...(entry.keys.disableMmuReset === true ? { 'rockchip,disable-mmu-reset': true } : {}),
  });
  // with paging off the IOMMU passes every transaction through untranslated
  return { fwnode, hop: (master) => new RkIommuHop(hw, master), route: () => (hw.pagingEnabled ? 'translated' : 'bypass') };
}

/**
 * The rk_iommu driver of one machine. 2015 (subsys_initcall rk_iommu_init): when the tree has a
 * Rockchip IOMMU, set the platform bus's ops and, only if that worked, register the platform
 * driver; a bus whose single ops slot another IOMMU driver took (-EBUSY) leaves the Rockchip
 * IOMMUs without a driver. Later kernels: builtin_platform_driver, each instance registering itself.
 */
function createDriver(ctx: IommuDriverContext): IommuDriverPlugin {
  const { bus, core, iommu, profile } = ctx;
  const driver = new RkIommuDriver({ log: core.log, mmio: core.mmio, irqs: core.irqs, memory: core.memory, pages: core.pages, iommu }, { profile });
  const pdrv = driver.platformDriver(bus.platform);
  const initcalls =
    profile === 'linux-4.2'
      ? [
          {
            level: 'subsys' as const,
            name: 'rk_iommu_init',
            run: () => {
              if (ctx.entries.length === 0) return;
              const err = iommu.busSetIommu(busNotifierHostOf(bus.platform), driver.ops);
              // the initcall's error is not printed (no initcall_debug): only its absence shows
              if (err !== 0) {
                core.log.debug(`initcall rk_iommu_init returned ${err}`);
                return;
              }
              bus.core.driverRegister(pdrv);
            },
          },
        ]
      : [{ level: 'device' as const, name: 'rk_iommu_driver_init', run: () => void bus.core.driverRegister(pdrv) }];
  return {
    initcalls,
    domainOf: (dev: Device) => {
      const d = driver.domains.find((x) => x.devices.has(dev));
      return d === undefined ? null : { id: d.id, type: d.type, contextBank: null };
    },
    report: (entry, nameOf) => {
      const inst = driver.instanceByFwnode(entry.name);
      const status = inst === undefined ? 0 : inst.read(RK_MMU_STATUS);
      const domains = driver.domains
        .filter((d) => inst !== undefined && d.iommus.includes(inst) && d.devices.size > 0)
        .map((d) => ({ id: d.id, type: d.type, contextBank: null, devices: [...d.devices].map(nameOf) }))
        .sort((a, b) => a.id - b.id);
      return {
        name: entry.name,
        driver: inst === undefined ? null : 'rk_iommu',
        paging: Math.floor(status / RK_MMU_STATUS_PAGING_ENABLED) % 2 === 1,
        dteAddr: inst === undefined ? null : hex(inst.read(RK_MMU_DTE_ADDR)),
        domains,
      };
    },
    stateKeys: () => driver.instances.map((i) => `${i.fwnode}:${i.domain === null ? 'off' : i.domain.type}`),
  };
}
