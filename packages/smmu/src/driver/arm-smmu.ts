/**
 * The arm-smmu driver (drivers/iommu/arm/arm-smmu/arm-smmu.c): a platform driver for SMMUv1/v2
 * that probes the hardware through MMIO, and the IOMMU ops it gives the IOMMU core. One
 * ArmSmmuDriver is the module (its ops, module parameters and the probed instances).
 */
import { Slot, type BusType, type Device, type PhandleArgs, type PlatformDevice, type PlatformDriver } from '@dmasim/bus';
import {
  EINVAL,
  ENODEV,
  ENOMEM,
  ENOSPC,
  ENXIO,
  type IrqController,
  type IrqLine,
  type KernelLog,
  type MmioBus,
  type PageAllocator,
  type CpuCache,
  type PhysicalMemory,
} from '@dmasim/core';
import {
  ArmLpaeIoPgtable,
  IommuDevice,
  busNotifierHostOf,
  devIommuFwspecGet,
  devIommuGet,
  iommuFwspecAddIds,
  type BusNotifierHost,
  type IommuCap,
  type IommuCore,
  type IommuDomain,
  type IommuDomainOps,
  type IommuDomainType,
  type IommuGroup,
  type IommuOps,
  type IommuProfile,
  type IoPgtableEnv,
} from '@dmasim/iommu-core';
import * as R from '../hw/regs';
import { ArmSmmuDevice } from './arm-smmu-device';
import { armSmmuDeviceCfgProbe } from './cfg-probe';
import { armSmmuFlushOps, armSmmuInitContextBank, armSmmuTlbSyncContext, armSmmuTlbSyncGlobal, armSmmuWriteContextBank } from './context';
import { ArmSmmuDomain } from './domain';
import { contextFaultHandler, globalFaultHandler, type ArmSmmuFaultRecord } from './faults';
import { SmmuRegs } from './smmu-regs';
import { INVALID_SMENDX, StreamMap, fwidMask, fwidOf, fwidStreamId } from './stream-map';
import { ARM_SMMU_INVALID_IRPTNDX, ARM_SMMU_OF_MATCH, type ArmSmmuDriverOptions, type ArmSmmuMatchData } from './types';

/** struct arm_smmu_master_cfg: a master's SMMU and its stream map entry per fwspec id. */
export interface ArmSmmuMasterCfg {
  readonly smmu: ArmSmmuDevice;
  readonly fwids: readonly number[];
  readonly smendx: number[];
}

/** dev_iommu_priv (later kernels) / the group's iommudata (2015): the master's configuration. */
export const ARM_SMMU_MASTER_SLOT = new Slot<ArmSmmuMasterCfg>('smmu.arm-smmu-master');

/** The machine services the driver uses. */
export interface ArmSmmuServices {
  readonly log: KernelLog;
  readonly mmio: MmioBus;
  readonly irqs: IrqController;
  readonly memory: PhysicalMemory;
  readonly pages: PageAllocator;
  readonly iommu: IommuCore;
  /** The CPU cache, so new page-table pages drop stale lines (see IoPgtableEnv.cache). */
  readonly cache?: CpuCache;
}

const DRIVER_NAME = 'arm-smmu';

export class ArmSmmuDriver {
  readonly ops: IommuOps;
  readonly domainOps: IommuDomainOps;
  readonly profile: IommuProfile;
  readonly disableBypass: boolean;
  /** Probed SMMUs in probe order (arm_smmu_devices). */
  readonly instances: ArmSmmuDevice[] = [];
  /** Every fault a handler saw, in order (for reports and tests). */
  readonly faults: ArmSmmuFaultRecord[] = [];
  usingLegacyBinding = false;
  usingGenericBinding = false;
  private readonly env: IoPgtableEnv;
  private readonly log: KernelLog;
  /** arm_smmu_ops.pgsize_bitmap: starts unrestricted, then the union over probed SMMUs. */
  private pgsizeBitmap = 0;
  private readonly mappedScratch = { value: 0 };

  constructor(
    private readonly services: ArmSmmuServices,
    private readonly options: ArmSmmuDriverOptions = {},
  ) {
    this.log = services.log;
    this.profile = options.profile ?? services.iommu.profile;
    this.disableBypass = options.disableBypass ?? this.profile !== 'linux-4.2';
    this.env = { memory: services.memory, pages: services.pages, log: services.log, ...(services.cache !== undefined ? { cache: services.cache } : {}) };
    this.domainOps = {
      attachDev: (d, dev) => this.attachDev(d as ArmSmmuDomain, dev),
      detachDev: (d, dev) => this.detachDev(d as ArmSmmuDomain, dev),
      mapPages: (d, iova, paddr, pgsize, pgcount, prot, out) => {
        const pgtbl = (d as ArmSmmuDomain).pgtbl;
        if (pgtbl === null) return -ENODEV;
        const m = this.mappedScratch;
        m.value = 0;
        const ret = pgtbl.mapPages(iova, paddr, pgsize, pgcount, prot, m);
        out.mapped += m.value;
        return ret;
      },
      unmapPages: (d, iova, pgsize, pgcount, gather) => (d as ArmSmmuDomain).pgtbl?.unmapPages(iova, pgsize, pgcount, gather) ?? 0,
      iovaToPhys: (d, iova) => (d as ArmSmmuDomain).pgtbl?.iovaToPhys(iova) ?? 0,
      flushIotlbAll: (d) => {
        const dom = d as ArmSmmuDomain;
        if (dom.flushOps !== null) dom.flushOps.tlbFlushAll(dom);
      },
      iotlbSync: (d) => this.iotlbSync(d as ArmSmmuDomain),
      free: (d) => this.domainFree(d as ArmSmmuDomain),
    };
    const pgsizeOf = (): number => this.pgsizeBitmap;
    this.ops = {
      owner: DRIVER_NAME,
      // Restricted as SMMUs probe: the union of what every probed instance walks.
      get pgsizeBitmap() {
        return pgsizeOf();
      },
      capable: (dev, cap) => this.capable(dev, cap),
      domainAlloc: (type) => this.domainAlloc(type),
      addDevice: (dev) => this.addDevice(dev),
      removeDevice: (dev) => this.removeDevice(dev),
      probeDevice: (dev) => this.probeDevice(dev),
      releaseDevice: (dev) => this.releaseDevice(dev),
      deviceGroup: (dev) => this.deviceGroup(dev),
      ofXlate: (dev, args) => this.ofXlate(dev, args),
      defDomainType: () => (this.usingLegacyBinding && this.profile !== 'linux-4.2' ? 'IDENTITY' : 0),
    };
  }

  get iommuCore(): IommuCore {
    return this.services.iommu;
  }

  /** struct platform_driver arm_smmu_driver, on `bus`. */
  platformDriver(bus: BusType): PlatformDriver {
    return {
      name: DRIVER_NAME,
      bus,
      ofMatchTable: ARM_SMMU_OF_MATCH,
      probe: (pdev) => this.deviceProbe(pdev),
      remove: (pdev) => this.deviceRemove(pdev),
    };
  }

  /** The probed instance behind an `iommus` phandle target. */
  instanceByFwnode(fwnode: string): ArmSmmuDevice | undefined {
    return this.instances.find((s) => s.fwnode === fwnode);
  }

  // ---- probe -------------------------------------------------------------------------------------

  /** arm_smmu_device_probe. */
  deviceProbe(pdev: PlatformDevice): number {
    const log = this.log;
    const fw = pdev.fwnode;
    const numGlobalIrqs = fw.get('#global-interrupts');
    if (typeof numGlobalIrqs !== 'number') {
      log.devErr(pdev, 'missing #global-interrupts property');
      return -ENODEV;
    }
    const data = (pdev.ofMatch?.data ?? { version: 'v1', model: 'generic' }) as ArmSmmuMatchData;
    const legacy = fw.has('mmu-masters');
    if (legacy && !this.usingGenericBinding) {
      if (!this.usingLegacyBinding && this.profile !== 'linux-4.2') {
        log.notice('arm-smmu: deprecated "mmu-masters" DT property in use; DMA API support unavailable');
      }
      this.usingLegacyBinding = true;
    } else if (!legacy && !this.usingLegacyBinding) {
      this.usingGenericBinding = true;
    } else {
      log.devErr(pdev, 'not probing due to mismatched DT properties');
      return -ENODEV;
    }
    const res = pdev.resources[0];
    if (res === undefined) return -ENODEV;
    const regs = new SmmuRegs(this.services.mmio, res.start, res.size);

    const irqNums = fw.get('interrupts') ?? [];
    const numContextIrqs = Math.max(0, irqNums.length - numGlobalIrqs);
    if (numContextIrqs === 0) {
      log.devErr(pdev, `found ${irqNums.length} interrupts but expected at least ${numGlobalIrqs + 1}`);
      return -ENODEV;
    }
    const irqs: IrqLine[] = irqNums.map((n) => this.services.irqs.line(n));

    const cfg = armSmmuDeviceCfgProbe({
      regs, log, dev: pdev, version: data.version, cttwFw: fw.get('dma-coherent') === true, forceStage: this.options.forceStage ?? 0, legacy42: this.profile === 'linux-4.2',
    });
    if (typeof cfg === 'number') return cfg;
    let contextIrqs = numContextIrqs;
    if (data.version === 'v2') {
      if (cfg.numContextBanks > numContextIrqs) {
        log.devErr(pdev, `found only ${numContextIrqs} context irq(s) but ${cfg.numContextBanks} required`);
        return -ENODEV;
      }
      contextIrqs = cfg.numContextBanks;
    }
    // 2015 drivers kept one SMR per master; later ones share identical entries.
    const disableBypass = this.options.disableBypassOf?.(pdev) ?? this.disableBypass;
    const streamMap = new StreamMap(regs, cfg.numMappingGroups, cfg.features.streamMatch, disableBypass ? 'fault' : 'bypass', this.profile !== 'linux-4.2');
    const smmu = new ArmSmmuDevice(pdev, regs, log, data.version, data.model, cfg, streamMap, irqs, numGlobalIrqs, contextIrqs, disableBypass);

    // the 2015 probe counted the mmu-masters it registered, zero included
    if (this.profile === 'linux-4.2') log.dev('notice', pdev, `registered ${smmu.legacyMasters.length} master devices`);
    const onFault = (f: ArmSmmuFaultRecord): void => void this.faults.push(f);
    const irqName = `arm-smmu global fault ${pdev.name}`;
    // devm_request_irq: whatever was requested is released again when the probe fails
    const devmRelease = (upTo: number): void => {
      for (let j = 0; j < upTo; j++) irqs[j]?.free(irqName);
    };
    for (let i = 0; i < numGlobalIrqs; i++) {
      const line = irqs[i];
      if (line === undefined || line.request(irqName, globalFaultHandler(smmu, this.profile, onFault), true) !== 0) {
        log.devErr(pdev, `failed to request global IRQ ${i} (${line?.irq ?? -1})`);
        devmRelease(i);
        return -ENODEV;
      }
    }
    // arm_smmu_rmr_install_bypass_smr: no IORT RMRs on a DT system, but 6.x says so
    if (this.profile !== 'linux-4.2') log.dev('notice', pdev, '\tpreserved 0 boot mappings');
    this.pgsizeBitmap = this.pgsizeBitmap === 0 ? cfg.pgsizeBitmap : unionBitmaps(this.pgsizeBitmap, cfg.pgsizeBitmap);
    pdev.driverData = smmu;
    this.instances.push(smmu);
    smmu.reset();
    smmu.testSmrMasks();
    smmu.iommu = new IommuDevice(this.ops, smmu.fwnode, pdev.name);
    const err = this.services.iommu.iommuDeviceRegister(smmu.iommu);
    if (err !== 0) {
      log.devErr(pdev, 'Failed to register iommu');
      this.instances.splice(this.instances.indexOf(smmu), 1);
      // the hardware stays enabled (and blocks unmatched streams); only the handlers go
      devmRelease(numGlobalIrqs);
      pdev.driverData = undefined;
      return err;
    }
    return 0;
  }

  /** arm_smmu_device_remove. */
  deviceRemove(pdev: PlatformDevice): void {
    const smmu = pdev.driverData instanceof ArmSmmuDevice ? pdev.driverData : undefined;
    if (smmu === undefined) return;
    if (smmu.contextBanksUsed > 0) this.log.dev('notice', pdev, 'disabling translation');
    if (smmu.iommu !== null) this.services.iommu.iommuDeviceUnregister(smmu.iommu);
    smmu.disable();
    this.instances.splice(this.instances.indexOf(smmu), 1);
  }

  /**
   * Install the ops on buses the 2015 way (arm_smmu_init's bus_set_iommu), or, in later kernels,
   * only for the legacy `mmu-masters` binding (arm_smmu_legacy_bus_init at device_initcall_sync).
   */
  busInit(buses: readonly (BusType | BusNotifierHost)[]): number {
    if (this.profile !== 'linux-4.2' && !this.usingLegacyBinding) return 0;
    for (const bus of buses) {
      const host = 'notifier' in bus ? busNotifierHostOf(bus) : bus;
      if (this.services.iommu.busIommuOps(host) !== null) continue;
      const err = this.services.iommu.busSetIommu(host, this.ops);
      if (err !== 0) return err;
    }
    return 0;
  }

  // ---- masters -------------------------------------------------------------------------------

  /** The SMMU whose `mmu-masters` names the device (find_smmu_for_device). */
  private legacySmmuFor(dev: Device): { smmu: ArmSmmuDevice; ids: readonly number[] } | null {
    for (const smmu of this.instances) {
      const m = smmu.legacyMasterFor(dev.fwnode.name);
      if (m !== undefined) return { smmu, ids: m.streamIds.map((sid) => fwidOf(sid, 0)) };
    }
    return null;
  }

  /** Validates the ids, allocates stream map entries and hangs the master cfg on the device. */
  private registerMaster(dev: Device, smmu: ArmSmmuDevice, fwids: readonly number[]): number {
    for (const fwid of fwids) {
      const sid = fwidStreamId(fwid);
      const mask = fwidMask(fwid);
      if ((sid & ~smmu.streamidMask) !== 0) {
        this.log.devErr(dev, `stream ID 0x${sid.toString(16)} out of range for SMMU (0x${smmu.streamidMask.toString(16)})`);
        return -EINVAL;
      }
      if ((mask & ~smmu.smrMaskMask) !== 0) {
        this.log.devErr(dev, `SMR mask 0x${mask.toString(16)} out of range for SMMU (0x${smmu.smrMaskMask.toString(16)})`);
        return -EINVAL;
      }
    }
    const cfg: ArmSmmuMasterCfg = { smmu, fwids: [...fwids], smendx: fwids.map(() => INVALID_SMENDX) };
    // The 2015 driver took SMRs only when a master was attached to a domain (see attachDev).
    if (this.profile !== 'linux-4.2') {
      const ret = smmu.streamMap.allocSmes(cfg.fwids, cfg.smendx);
      if (ret !== 0) return ret;
    }
    dev.setSlot(ARM_SMMU_MASTER_SLOT, cfg);
    return 0;
  }

  private unregisterMaster(dev: Device): void {
    const cfg = dev.getSlot(ARM_SMMU_MASTER_SLOT);
    if (cfg === undefined) return;
    cfg.smmu.streamMap.freeSmes(cfg.smendx);
    dev.clearSlot(ARM_SMMU_MASTER_SLOT);
  }

  /** The master configuration of a device, if this driver claimed it. */
  masterCfg(dev: Device): ArmSmmuMasterCfg | undefined {
    return dev.getSlot(ARM_SMMU_MASTER_SLOT);
  }

  /**
   * 2015 add_device (bus notifier): masters named by `mmu-masters` (or with a fwspec from
   * `iommus`); PCI devices are grouped by the core, each platform device gets its own group.
   * Later kernels reach this only for the legacy binding: the fwspec is built from `mmu-masters`
   * and the device is probed the modern way.
   */
  private addDevice(dev: Device): number {
    const core = this.services.iommu;
    const fwspec = devIommuFwspecGet(dev);
    let found: { smmu: ArmSmmuDevice; ids: readonly number[] } | null = null;
    if (fwspec !== null && fwspec.ops === this.ops) {
      const smmu = this.instanceByFwnode(fwspec.iommuFwnode);
      if (smmu !== undefined) found = { smmu, ids: fwspec.ids };
    }
    found ??= this.legacySmmuFor(dev);
    if (found === null) return -ENODEV;
    if (this.profile !== 'linux-4.2') {
      const param = devIommuGet(dev);
      param.fwspec ??= { iommuFwnode: found.smmu.fwnode, ops: this.ops, ids: [...found.ids] };
      return core.iommuProbeDevice(dev);
    }
    const ret = this.registerMaster(dev, found.smmu, found.ids);
    if (ret !== 0) return ret;
    let group: IommuGroup | number;
    if (core.pci?.lookup(dev) != null) {
      group = core.iommuGroupGetForDev(dev);
      if (typeof group === 'number') {
        this.unregisterMaster(dev);
        return group;
      }
    } else {
      group = core.iommuGroupAlloc();
      const err = core.iommuGroupAddDevice(group, dev);
      if (err !== 0) {
        core.iommuGroupPut(group);
        this.unregisterMaster(dev);
        return err;
      }
    }
    core.iommuGroupPut(group);
    return 0;
  }

  private removeDevice(dev: Device): void {
    this.unregisterMaster(dev);
    this.services.iommu.iommuGroupRemoveDevice(dev);
  }

  /** arm_smmu_probe_device: claim a device whose fwspec names one of our SMMUs. */
  private probeDevice(dev: Device): IommuDevice | number {
    const fwspec = devIommuFwspecGet(dev);
    if (fwspec === null || fwspec.ops !== this.ops) return -ENODEV;
    const smmu = this.instanceByFwnode(fwspec.iommuFwnode);
    if (smmu?.iommu == null) return -ENODEV;
    const ret = this.registerMaster(dev, smmu, fwspec.ids);
    return ret !== 0 ? ret : smmu.iommu;
  }

  private releaseDevice(dev: Device): void {
    for (const d of this.liveDomains) d.devices.delete(dev);
    this.unregisterMaster(dev);
  }

  /** arm_smmu_device_group: devices sharing a stream map entry share a group. */
  private deviceGroup(dev: Device): IommuGroup | number {
    const cfg = dev.getSlot(ARM_SMMU_MASTER_SLOT);
    const core = this.services.iommu;
    if (cfg === undefined) return -ENODEV;
    const s2crs = cfg.smmu.streamMap.s2crs;
    let group: IommuGroup | null = null;
    for (let i = 0; i < cfg.smendx.length; i++) {
      const idx = cfg.smendx[i]!;
      const g = s2crs[idx]?.group ?? null;
      if (group !== null && g !== null && g !== group) {
        this.log.devErr(dev, `ID:${(cfg.fwids[i] ?? 0).toString(16)} IDX:${idx.toString(16)} is already in a group!`);
        return -EINVAL;
      }
      group = g ?? group;
    }
    let result: IommuGroup | number;
    if (group !== null) result = core.iommuGroupRefGet(group);
    else if (core.pci?.lookup(dev) != null) result = core.pciDeviceGroup(dev);
    else result = core.genericDeviceGroup(dev);
    if (typeof result === 'number') return result;
    for (const idx of cfg.smendx) {
      const s = s2crs[idx];
      if (s !== undefined) s.group = result;
    }
    return result;
  }

  /** arm_smmu_of_xlate: `iommus = <&smmu SID [MASK]>`, the mask defaulting to `stream-match-mask`. */
  private ofXlate(dev: Device, args: PhandleArgs): number {
    const sid = args.args[0] ?? 0;
    let mask = args.args[1];
    if (mask === undefined) {
      const prop = this.instanceByFwnode(args.node)?.dev.fwnode.get('stream-match-mask');
      mask = typeof prop === 'number' ? prop : 0;
    }
    return iommuFwspecAddIds(dev, [fwidOf(sid, mask)]);
  }

  // ---- domains -------------------------------------------------------------------------------

  private readonly liveDomains = new Set<ArmSmmuDomain>();
  /** Domain numbers of this driver instance (one per machine), for reports. */
  private nextDomainId = 1;

  /** Domains allocated and not yet freed. */
  get domains(): readonly ArmSmmuDomain[] {
    return [...this.liveDomains];
  }

  /**
   * arm_smmu_capable. DEFERRED_FLUSH (Linux 6.5 on): unmap posts its TLB invalidations and only the
   * domain's iotlb_sync waits for them, so a flush queue pays off and DMA_FQ domains stay lazy.
   */
  private capable(dev: Device | null, cap: IommuCap): boolean {
    if (cap === 'CACHE_COHERENCY') {
      // 2015: the SMMU can always send coherent requests; later: only a coherent walker, or a
      // natively coherent master
      if (this.profile === 'linux-4.2') return true;
      const smmu = dev === null ? undefined : this.masterCfg(dev)?.smmu;
      return (smmu?.cfg.features.coherentWalk ?? false) || dev?.dma.coherent === true;
    }
    return cap === 'NOEXEC' || cap === 'DEFERRED_FLUSH';
  }

  /** arm_smmu_domain_alloc: paging and identity domains; nothing is set up until attach. */
  private domainAlloc(type: IommuDomainType): IommuDomain | null {
    const allowed: readonly IommuDomainType[] = this.profile === 'linux-4.2' ? ['UNMANAGED', 'DMA'] : ['UNMANAGED', 'DMA', 'DMA_FQ', 'IDENTITY'];
    if (!allowed.includes(type)) return null;
    if ((type === 'DMA' || type === 'DMA_FQ') && this.usingLegacyBinding && this.profile !== 'linux-4.2') return null;
    const d = new ArmSmmuDomain(this.domainOps, type, this.nextDomainId++);
    this.liveDomains.add(d);
    return d;
  }

  /**
   * arm_smmu_init_domain_context: on first attach, pick the stage and format the SMMU offers,
   * take a context bank (-ENOSPC when none is left), build the page tables and program the bank.
   */
  private initDomainContext(domain: ArmSmmuDomain, smmu: ArmSmmuDevice): number {
    if (domain.smmu !== null) return 0;
    if (domain.type === 'IDENTITY') {
      domain.stage = 'bypass';
      domain.smmu = smmu;
      return 0;
    }
    const f = smmu.cfg.features;
    if (!f.transS1) domain.stage = 's2';
    if (!f.transS2) domain.stage = 's1';
    const cfg = domain.cfg;
    let fmt: 'aarch64' | 'aarch32-l' | null = null;
    if (f.fmtAarch32L) fmt = 'aarch32-l';
    if (f.fmtAarch64_4K || f.fmtAarch64_16K || f.fmtAarch64_64K) fmt = 'aarch64';
    if (fmt === null) return -EINVAL;
    cfg.fmt = fmt;
    let start: number;
    let ias: number;
    let oas: number;
    if (domain.stage === 's1') {
      cfg.cbar = R.CBAR_TYPE_S1_TRANS_S2_BYPASS;
      start = smmu.cfg.numS2ContextBanks;
      ias = smmu.cfg.vaSize;
      oas = smmu.cfg.ipaSize;
      if (fmt === 'aarch32-l') {
        ias = Math.min(ias, 32);
        oas = Math.min(oas, 40);
      }
    } else {
      cfg.cbar = R.CBAR_TYPE_S2_TRANS;
      start = 0;
      ias = smmu.cfg.ipaSize;
      oas = smmu.cfg.paSize;
      if (fmt === 'aarch32-l') {
        ias = Math.min(ias, 40);
        oas = Math.min(oas, 40);
      }
    }
    const stage1 = domain.stage === 's1';
    const cbndx = smmu.allocContextBank(start);
    if (cbndx < 0) return cbndx;
    domain.smmu = smmu;
    cfg.cbndx = cbndx;
    if (!smmu.v2) {
      smmu.irptndx++;
      cfg.irptndx = smmu.irptndx % smmu.numContextIrqs;
    } else {
      cfg.irptndx = cbndx;
    }
    if (stage1) cfg.asid = cbndx;
    else cfg.vmid = cbndx + 1;
    domain.tlb = { regs: smmu.regs, cfg, syncTimedOut: () => smmu.tlbSyncTimedOut() };
    domain.flushOps = armSmmuFlushOps(stage1, smmu.v2, () => domain.tlbTarget());
    const pgtbl = ArmLpaeIoPgtable.alloc(
      stage1 ? 's1' : 's2',
      { pgsizeBitmap: smmu.cfg.pgsizeBitmap, ias, oas, coherentWalk: f.coherentWalk, tlb: domain.flushOps, iommuDev: smmu.dev, splitBlocks: this.profile === 'linux-4.2' },
      domain,
      this.env,
    );
    if (pgtbl === null) {
      smmu.freeContextBank(cbndx);
      domain.smmu = null;
      domain.tlb = null;
      return -ENOMEM;
    }
    domain.pgtbl = pgtbl;
    domain.pgsizeBitmap = pgtbl.pgsizeBitmap;
    domain.geometry.apertureStart = 0;
    domain.geometry.apertureEnd = 2 ** ias - 1;
    domain.geometry.forceAperture = true;
    const cb = armSmmuInitContextBank(cfg, pgtbl);
    smmu.cbs[cbndx] = cb;
    armSmmuWriteContextBank(smmu.regs, smmu.v2, cbndx, cb);

    // The context interrupt last, so the handler never sees a half-made domain.
    const line = smmu.irqs[smmu.numGlobalIrqs + cfg.irptndx];
    const name = `arm-smmu-context-fault ${smmu.name}:cb${cbndx}`;
    const handler = contextFaultHandler(domain, this.profile, (rec) => void this.faults.push(rec));
    if (line === undefined || line.request(name, handler, true) !== 0) {
      this.log.devErr(smmu.dev, `failed to request context IRQ ${cfg.irptndx} (${line?.irq ?? 0})`);
      cfg.irptndx = ARM_SMMU_INVALID_IRPTNDX;
    } else {
      domain.irq = { line, name };
    }
    return 0;
  }

  /** arm_smmu_destroy_domain_context: disable the bank, drop its interrupt, free tables and bank. */
  private destroyDomainContext(domain: ArmSmmuDomain): void {
    const smmu = domain.smmu;
    if (smmu === null || domain.stage === 'bypass') return;
    const idx = domain.cfg.cbndx;
    smmu.cbs[idx] = null;
    armSmmuWriteContextBank(smmu.regs, smmu.v2, idx, null);
    if (domain.irq !== null) {
      domain.irq.line.free(domain.irq.name);
      domain.irq = null;
    }
    domain.pgtbl?.free();
    domain.pgtbl = null;
    smmu.freeContextBank(idx);
  }

  private domainFree(domain: ArmSmmuDomain): void {
    this.destroyDomainContext(domain);
    this.liveDomains.delete(domain);
  }

  /** arm_smmu_attach_dev: finalise the domain on the master's SMMU and route its streams to it. */
  private attachDev(domain: ArmSmmuDomain, dev: Device): number {
    const cfg = dev.getSlot(ARM_SMMU_MASTER_SLOT);
    if (cfg === undefined) {
      this.log.devErr(dev, 'cannot attach to SMMU, is it on the same bus?');
      return -ENXIO;
    }
    const smmu = cfg.smmu;
    const ret = this.initDomainContext(domain, smmu);
    if (ret < 0) return ret;
    if (domain.smmu !== smmu) {
      this.log.devErr(dev, `cannot attach to SMMU ${smmu.name} whilst already attached to domain on SMMU ${domain.smmu?.name ?? '(null)'}`);
      return -EINVAL;
    }
    if (this.profile === 'linux-4.2' && cfg.smendx.some((i) => i === INVALID_SMENDX)) {
      // arm_smmu_domain_add_master (2015): SMRs are taken at attach, after the context bank, one
      // per stream id with mask 0 and no sharing, so two masters with one id both match
      const err = smmu.streamMap.allocSmes(cfg.fwids, cfg.smendx);
      if (err !== 0) {
        if (err === -ENOSPC) this.log.devErr(smmu.dev, 'failed to allocate free SMR');
        return err;
      }
    }
    for (const d of this.liveDomains) if (d !== domain) d.devices.delete(dev);
    smmu.streamMap.route(cfg.smendx, domain.stage === 'bypass' ? 'bypass' : 'trans', domain.stage === 'bypass' ? 0 : domain.cfg.cbndx);
    domain.devices.add(dev);
    return 0;
  }

  /** 2015 detach_dev: the master's entries go back to what free entries do (and, in 2015, are freed). */
  private detachDev(domain: ArmSmmuDomain, dev: Device): void {
    const cfg = dev.getSlot(ARM_SMMU_MASTER_SLOT);
    domain.devices.delete(dev);
    if (cfg === undefined) return;
    // arm_smmu_domain_remove_master (2015): S2CRs back to bypass, then the SMRs are given back
    if (this.profile === 'linux-4.2') cfg.smmu.streamMap.freeSmes(cfg.smendx);
    else cfg.smmu.streamMap.unroute(cfg.smendx);
  }

  /** arm_smmu_iotlb_sync: complete the leaf invalidations unmap posted. */
  private iotlbSync(domain: ArmSmmuDomain): void {
    const smmu = domain.smmu;
    if (smmu === null || domain.tlb === null) return;
    if (smmu.v2 || domain.stage === 's1') armSmmuTlbSyncContext(domain.tlb);
    else armSmmuTlbSyncGlobal(smmu.regs, () => smmu.tlbSyncTimedOut());
  }
}

/** The union of two page-size bitmaps (sums of distinct powers of two), without bitwise operators. */
function unionBitmaps(a: number, b: number): number {
  let out = 0;
  for (let bit = 1; bit <= Math.max(a, b); bit *= 2) {
    if (Math.floor(a / bit) % 2 === 1 || Math.floor(b / bit) % 2 === 1) out += bit;
  }
  return out;
}
