import { FwNode, type Device } from '@dmasim/bus';
import type { IommuBoardEntry, IommuDriverContext, IommuDriverPlugin, IommuHardware, IommuHardwareContext, IommuModel } from '@dmasim/iommu-core';
import type { SmmuModel } from '../hw/params';
import { SmmuHardware } from '../hw/smmu';
import { register } from '../register';
import { checkSmmuKeys, SMMU_BOARD_KEYS, SMMU_MODELS, smmuDevicetreeKeys, smmuKeys, smmuStreamWarnings } from './board-keys';
import { SmmuHop } from './hop';

/** SMMUv2 parts need one context interrupt per context bank; v1 parts may share one line. */
const SMMU_V2 = new Set<SmmuModel>(['mmu-500', 'smmu-v2']);

/**
 * The ARM SMMU (v1/v2: MMU-400, MMU-401, MMU-500) as an IOMMU model plugin: `SmmuHardware` on the
 * MMIO bus with a global and per-context interrupts, and the arm-smmu driver with its initcalls.
 */
export const armSmmuModel: IommuModel = {
  name: 'arm-smmu',
  compatibles: Object.keys(SMMU_MODELS),
  descriptions: {
    'arm,mmu-400': 'ARM CoreLink MMU-400 (SMMUv1, arm-smmu driver), up to 8 context banks',
    'arm,mmu-401': 'ARM CoreLink MMU-401 (SMMUv1, arm-smmu driver), up to 8 context banks',
    'arm,mmu-500': 'ARM CoreLink MMU-500 (SMMUv2, arm-smmu driver), up to 128 context banks',
    'arm,smmu-v1': 'generic ARM SMMUv1 (arm-smmu driver)',
    'arm,smmu-v2': 'generic ARM SMMUv2 (arm-smmu driver)',
  },
  iommuCells: 1,
  // CONFIG_ARM_SMMU=y in the kernels dmasim models: its initcalls run on every board
  alwaysBuiltIn: true,
  boardKeys: SMMU_BOARD_KEYS,
  checkBoardKeys: (keys, entry) => checkSmmuKeys(entry.compatible, keys),
  boardWarnings: (entry, ids) => smmuStreamWarnings(entry.keys, entry.name, ids),
  devicetreeKeys: smmuDevicetreeKeys,
  createHardware: buildSmmu,
  createDriver,
};

function buildSmmu(ctx: IommuHardwareContext, entry: IommuBoardEntry): IommuHardware {
  const model = SMMU_MODELS[entry.compatible];
  if (model === undefined) ctx.fail('compatible', 'not an SMMU model');
  const keys = smmuKeys(entry.keys);
  const { core } = ctx;
  const globalIrq = ctx.takeIrq(entry.irq);
  const ctxIrqs = SMMU_V2.has(model) ? Array.from({ length: keys.contextBanks }, () => ctx.takeIrq()) : [globalIrq];
  const hw = new SmmuHardware({
    model,
    name: entry.name,
    memory: core.memory,
    cache: core.cache,
    numContextBanks: keys.contextBanks,
    numStreamMatchRegisters: keys.streamMatchRegisters,
    coherentWalk: keys.coherentWalk,
    globalIrqs: [core.irqs.line(globalIrq)],
    contextIrqs: ctxIrqs.map((n) => core.irqs.line(n)),
  });
  if (hw.size > entry.size) ctx.fail('size', `this ${entry.compatible} with ${keys.contextBanks} context banks has ${hw.size} bytes of registers`, String(entry.size));
  hw.mapInto(core.mmio, entry.base);
  const fwnode = new FwNode(entry.name, {
    compatible: [entry.compatible],
    reg: [entry.base, hw.size],
    interrupts: [globalIrq, ...ctxIrqs],
    '#global-interrupts': 1,
    '#iommu-cells': 1,
    'dma-coherent': keys.coherentWalk,
  });
  if (entry.masters.length > 0) fwnode.set('mmu-masters', entry.masters.map((m) => ({ node: m.device, streamIds: m.ids })));
  return {
    fwnode,
    hop: (master) => new SmmuHop(hw, master),
    // as the hop: the first stream id; a master without one passes untranslated
    route: (ids) => {
      const sid = ids?.[0];
      if (sid === undefined) return 'bypass';
      const r = hw.streamRoute(sid);
      return r.kind === 'translate' ? 'translated' : r.kind === 'bypass' ? 'bypass' : 'blocked';
    },
  };
}

/**
 * The arm-smmu driver of one machine. It registers early (its IOMMU_OF_DECLARE-era init), so an
 * SMMU probes as soon as its platform device is added; in 2015 the same initcall sets the ops of
 * every bus, later kernels only do that for the legacy binding, at late initcall time.
 */
function createDriver(ctx: IommuDriverContext): IommuDriverPlugin {
  const { profile, bus } = ctx;
  // each SMMU's disableBypass key, when the board sets it, overrides the profile's default
  const disableBypassOf = (smmuDev: Device): boolean | undefined => ctx.entries.find((e) => e.name === smmuDev.fwnode.name)?.keys.disableBypass as boolean | undefined;
  const driver = register(ctx.container, { profile, registerPlatformDriver: false, disableBypassOf });
  const hosts = [bus.platform, bus.pci];
  return {
    initcalls: [
      {
        level: 'core',
        name: 'arm_smmu_init',
        run: () => {
          bus.core.driverRegister(driver.platformDriver(bus.platform));
          // arm_smmu_init plays nice with systems without an SMMU: no SMMU node, no bus ops
          if (profile === 'linux-4.2' && ctx.entries.length > 0) driver.busInit(hosts);
        },
      },
      {
        level: 'late',
        name: 'arm_smmu_legacy_bus_init',
        run: () => {
          if (profile !== 'linux-4.2') driver.busInit(hosts);
        },
      },
    ],
    domainOf: (dev: Device) => driver.domains.find((d) => d.devices.has(dev)) ?? null,
    report: (entry, nameOf) => {
      const inst = driver.instanceByFwnode(entry.name);
      const domains = driver.domains
        .filter((d) => inst !== undefined && d.smmu === inst && d.devices.size > 0)
        .map((d) => ({ id: d.id, type: d.type, contextBank: d.contextBank, devices: [...d.devices].map(nameOf) }))
        .sort((a, b) => a.id - b.id);
      return { name: entry.name, contextBanks: smmuKeys(entry.keys).contextBanks, contextBanksUsed: inst?.contextBanksUsed ?? 0, domains };
    },
    stateKeys: () => driver.instances.map((s) => `${s.fwnode}:${s.contextBanksUsed}`),
  };
}
