import { FwNode, type Device } from '@dmasim/bus';
import type { IommuBoardEntry, IommuDriverContext, IommuDriverPlugin, IommuHardware, IommuHardwareContext, IommuModel } from '@dmasim/iommu-core';
import { SmmuV3DmaHop } from '../hw/dma-hop';
import { REGION_SIZE } from '../hw/regs';
import { SmmuV3Hardware } from '../hw/smmu-v3';
import { register } from '../register';
import { checkSmmuV3Keys, SMMUV3_BOARD_KEYS, smmuV3Keys } from './board-keys';

/** The wired interrupts of QEMU virt's SMMUv3, in DT order. */
const IRQ_NAMES = ['eventq', 'priq', 'cmdq-sync', 'gerror'] as const;

/**
 * The ARM SMMUv3 as an IOMMU model plugin: `SmmuV3Hardware` on the MMIO bus with its four wired
 * interrupts (QEMU virt's layout), and the arm-smmu-v3 driver registered at device initcall time
 * (module_platform_driver), whose masters defer until it is up.
 *
 * The arm-smmu-v3 binding has no `mmu-masters`: masters listed in an entry's `masters` are wired to
 * the SMMU in hardware (their transactions carry those stream ids) but nothing tells the driver,
 * so no STE is ever written for them: the board form of a device tree that forgot a master's
 * `iommus`.
 */
export const armSmmuV3Model: IommuModel = {
  name: 'arm-smmu-v3',
  compatibles: ['arm,smmu-v3'],
  descriptions: { 'arm,smmu-v3': 'ARM SMMUv3 (arm-smmu-v3 driver): stream table, context descriptors, command and event queues; defaults are QEMU virt’s' },
  iommuCells: 1,
  boardKeys: SMMUV3_BOARD_KEYS,
  checkBoardKeys: (keys, entry) => checkSmmuV3Keys(entry.compatible, keys),
  // from a device tree: dma-coherent on the node is COHACC; the ID registers keep their defaults
  devicetreeKeys: (node) => ({ coherentWalk: node.dmaCoherent }),
  createHardware: buildSmmuV3,
  createDriver,
};

function buildSmmuV3(ctx: IommuHardwareContext, entry: IommuBoardEntry): IommuHardware {
  const keys = smmuV3Keys(entry.keys);
  const { core } = ctx;
  if (entry.size < REGION_SIZE) ctx.fail('size', `an arm,smmu-v3 has ${REGION_SIZE} bytes (two 64 KiB pages) of registers`, String(entry.size));
  const first = ctx.takeIrq(entry.irq);
  const irqs = [first, ...IRQ_NAMES.slice(1).map(() => ctx.takeIrq())];
  const line = (name: (typeof IRQ_NAMES)[number]): ReturnType<typeof core.irqs.line> => core.irqs.line(irqs[IRQ_NAMES.indexOf(name)]!);
  const hw = new SmmuV3Hardware({
    name: entry.name,
    memory: core.memory,
    cache: core.cache,
    sidBits: keys.streamIdBits,
    stage1: keys.stage1,
    stage2: keys.stage2,
    twoLevelStreamTable: keys.twoLevelStreamTable,
    oasBits: keys.oasBits,
    coherent: keys.coherentWalk,
    irqs: { eventq: line('eventq'), priq: line('priq'), cmdqSync: line('cmdq-sync'), gerror: line('gerror') },
  });
  hw.mapInto(core.mmio, entry.base);
  const fwnode = new FwNode(entry.name, {
    compatible: [entry.compatible],
    reg: [entry.base, REGION_SIZE],
    interrupts: irqs,
    'interrupt-names': [...IRQ_NAMES],
    '#iommu-cells': 1,
    'dma-coherent': keys.coherentWalk,
  });
  return {
    fwnode,
    hop: (master) =>
      new SmmuV3DmaHop(
        hw,
        () => master.ids()?.[0] ?? null,
        (f) => master.fault({ id: f.streamId, iova: f.iova, access: f.access, kind: f.kind }),
      ),
  };
}

/** The arm-smmu-v3 driver of one machine: one platform driver, bypass policy from the first entry. */
function createDriver(ctx: IommuDriverContext): IommuDriverPlugin {
  const { profile, bus } = ctx;
  const first = ctx.entries[0];
  const disableBypass = first === undefined ? true : smmuV3Keys(first.keys).disableBypass;
  const driver = register(ctx.container, { profile, disableBypass, registerPlatformDriver: false });
  return {
    initcalls: [{ level: 'device', name: 'arm_smmu_driver_init', run: () => bus.core.driverRegister(driver.platformDriver(bus.platform)) }],
    domainOf: (dev: Device) => {
      const d = driver.master(dev)?.domain;
      return d == null ? null : { id: d.id, type: d.type, contextBank: null };
    },
    report: (entry, nameOf) => {
      const inst = driver.instanceByFwnode(entry.name);
      const live = driver.domains.filter((d) => inst !== undefined && d.smmu === inst && d.devices.size > 0);
      const domains = live.map((d) => ({ id: d.id, type: d.type, contextBank: null, devices: [...d.devices].map((m) => nameOf(m.dev)) })).sort((a, b) => a.id - b.id);
      const streams = inst === undefined ? [] : [...inst.streams.keys()].sort((a, b) => a - b);
      const events = driver.events.filter((e) => e.smmu === inst?.name).length;
      return {
        name: entry.name,
        streamTable: inst?.strtabCfg?.l1Desc == null ? 'linear' : '2-level',
        streams,
        asidsUsed: live.filter((d) => d.stage === 's1').length,
        vmidsUsed: live.filter((d) => d.stage === 's2').length,
        events,
        domains,
      };
    },
    stateKeys: () => driver.instances.map((s) => `${s.fwnode}:${driver.domains.filter((d) => d.smmu === s && d.devices.size > 0).length}`),
  };
}
