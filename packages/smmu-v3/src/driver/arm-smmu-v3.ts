/**
 * The arm-smmu-v3 driver (drivers/iommu/arm/arm-smmu-v3/arm-smmu-v3.c, as of Linux 6.1): a platform
 * driver that probes the SMMU through MMIO, builds its queues and stream table in memory, resets
 * it, and gives the IOMMU core its ops. One ArmSmmuV3Driver is the module (ops, module parameters,
 * the global ASID space and the probed instances).
 */
import { Slot, type BusType, type Device, type PhandleArgs, type PlatformDevice, type PlatformDriver } from '@dmasim/bus';
import {
  EBUSY,
  EINVAL,
  ENODEV,
  ENOENT,
  ENOMEM,
  ENOSPC,
  ENXIO,
  ERANGE,
  hex,
  type CpuCache,
  type IrqController,
  type IrqLine,
  type IrqReturn,
  type KernelLog,
  type MmioBus,
  type PageAllocator,
  type PhysicalMemory,
} from '@dmasim/core';
import {
  ArmLpaeIoPgtable,
  IommuDevice,
  devIommuFwspecGet,
  iommuFwspecAddIds,
  iommuIotlbGatherAddRange,
  iommuIotlbGatherIsDisjoint,
  iommuIotlbSync,
  type IommuCap,
  type IommuCore,
  type IommuDomain,
  type IommuDomainOps,
  type IommuDomainType,
  type IommuFlushOps,
  type IommuGroup,
  type IommuIotlbGather,
  type IommuOps,
  type IommuProfile,
  type IoPgtableEnv,
} from '@dmasim/iommu-core';
import * as R from '../hw/regs';
import { ArmSmmuV3Device } from './arm-smmu-v3-device';
import { allocCoherent } from './strtab';
import { ArmSmmuV3Domain, type ArmSmmuMaster } from './domain';
import { armSmmuDeviceHwProbe } from './hw-probe';
import { evtqThread, gerrorHandler, type ArmSmmuV3EventRecord } from './irq';
import { armSmmuInitL2Strtab, armSmmuSidInRange } from './strtab';
import * as F from './types';

/** dev_iommu_priv: the master of a device probed by this driver. */
export const ARM_SMMU_V3_MASTER_SLOT = new Slot<ArmSmmuMaster>('smmu-v3.arm-smmu-master');

export interface ArmSmmuV3Services {
  readonly log: KernelLog;
  readonly mmio: MmioBus;
  readonly irqs: IrqController;
  readonly memory: PhysicalMemory;
  readonly pages: PageAllocator;
  readonly iommu: IommuCore;
  readonly cache?: CpuCache;
}

const DRIVER_NAME = 'arm-smmu-v3';
/** SZ_128K: the register space the driver needs (two 64 KiB pages). */
const ARM_SMMU_RESOURCE_SIZE = R.REGION_SIZE;

export class ArmSmmuV3Driver {
  readonly ops: IommuOps;
  readonly domainOps: IommuDomainOps;
  readonly profile: IommuProfile;
  readonly disableBypass: boolean;
  readonly instances: ArmSmmuV3Device[] = [];
  /** Every event the event queue handler took, in order. */
  readonly events: ArmSmmuV3EventRecord[] = [];
  /** arm_smmu_asid_xa: ASIDs are global to the module, shared by every SMMU (as for the CPU's mm). */
  private readonly asids = new Set<number>();
  private readonly liveDomains = new Set<ArmSmmuV3Domain>();
  private nextDomainId = 1;
  private pgsizeBitmap = 0;
  private readonly env: IoPgtableEnv;
  private readonly log: KernelLog;
  private readonly flushOps: IommuFlushOps;
  private readonly mappedScratch = { value: 0 };

  constructor(
    private readonly services: ArmSmmuV3Services,
    private readonly options: F.ArmSmmuV3DriverOptions = {},
  ) {
    this.log = services.log;
    this.profile = options.profile ?? services.iommu.profile;
    this.disableBypass = options.disableBypass ?? true;
    this.env = { memory: services.memory, pages: services.pages, log: services.log, ...(services.cache !== undefined ? { cache: services.cache } : {}) };
    this.flushOps = {
      tlbFlushAll: (cookie) => this.tlbInvContext(cookie as ArmSmmuV3Domain),
      tlbFlushWalk: (iova, size, granule, cookie) => (cookie as ArmSmmuV3Domain).smmu?.tlbInvRangeDomain(iova, size, granule, false, cookie as ArmSmmuV3Domain),
      tlbAddPage: (iova, granule, cookie) => this.tlbAddPage(cookie as ArmSmmuV3Domain, iova, granule),
    };
    this.domainOps = {
      attachDev: (d, dev) => this.attachDev(d as ArmSmmuV3Domain, dev),
      mapPages: (d, iova, paddr, pgsize, pgcount, prot, out) => {
        const pgtbl = (d as ArmSmmuV3Domain).pgtbl;
        if (pgtbl === null) return -ENODEV;
        const m = this.mappedScratch;
        m.value = 0;
        const ret = pgtbl.mapPages(iova, paddr, pgsize, pgcount, prot, m);
        out.mapped += m.value;
        return ret;
      },
      unmapPages: (d, iova, pgsize, pgcount, gather) => {
        const dom = d as ArmSmmuV3Domain;
        if (dom.pgtbl === null) return 0;
        dom.gather = gather;
        const ret = dom.pgtbl.unmapPages(iova, pgsize, pgcount, gather);
        dom.gather = null;
        return ret;
      },
      iovaToPhys: (d, iova) => (d as ArmSmmuV3Domain).pgtbl?.iovaToPhys(iova) ?? 0,
      flushIotlbAll: (d) => this.tlbInvContext(d as ArmSmmuV3Domain),
      iotlbSync: (d, gather) => this.iotlbSync(d as ArmSmmuV3Domain, gather),
      free: (d) => this.domainFree(d as ArmSmmuV3Domain),
    };
    const pgsizeOf = (): number => this.pgsizeBitmap;
    this.ops = {
      owner: DRIVER_NAME,
      get pgsizeBitmap() {
        return pgsizeOf();
      },
      capable: (dev, cap) => this.capable(dev, cap),
      domainAlloc: (type) => this.domainAlloc(type),
      probeDevice: (dev) => this.probeDevice(dev),
      releaseDevice: (dev) => this.releaseDevice(dev),
      deviceGroup: (dev) => this.deviceGroup(dev),
      ofXlate: (dev, args) => this.ofXlate(dev, args),
    };
  }

  get iommuCore(): IommuCore {
    return this.services.iommu;
  }

  /** struct platform_driver arm_smmu_driver. */
  platformDriver(bus: BusType): PlatformDriver {
    return { name: DRIVER_NAME, bus, ofMatchTable: F.ARM_SMMU_V3_OF_MATCH, probe: (pdev) => this.deviceProbe(pdev), remove: (pdev) => this.deviceRemove(pdev) };
  }

  instanceByFwnode(fwnode: string): ArmSmmuV3Device | undefined {
    return this.instances.find((s) => s.fwnode === fwnode);
  }

  /** The master of a device this driver probed. */
  master(dev: Device): ArmSmmuMaster | undefined {
    return dev.getSlot(ARM_SMMU_V3_MASTER_SLOT);
  }

  /** Domains allocated and not yet freed. */
  get domains(): readonly ArmSmmuV3Domain[] {
    return [...this.liveDomains];
  }

  // ---- probe -------------------------------------------------------------------------------------

  /** arm_smmu_device_probe. */
  deviceProbe(pdev: PlatformDevice): number {
    const log = this.log;
    const fw = pdev.fwnode;
    // arm_smmu_device_dt_probe: a bad binding leaves the SMMU in bypass rather than failing
    let dtRet = 0;
    const cells = fw.get('#iommu-cells');
    if (typeof cells !== 'number') {
      log.devErr(pdev, 'missing #iommu-cells property');
      dtRet = -ENODEV;
    } else if (cells !== 1) {
      log.devErr(pdev, `invalid #iommu-cells value (${cells})`);
      dtRet = -ENODEV;
    }
    const coherent = fw.get('dma-coherent') === true;
    const bypass = dtRet !== 0;
    const res = pdev.resources[0];
    if (res === undefined) return -EINVAL;
    if (res.size < ARM_SMMU_RESOURCE_SIZE) {
      log.devErr(pdev, `MMIO region too small ([mem ${hex(res.start, 8)}-${hex(res.start + res.size - 1, 8)}])`);
      return -EINVAL;
    }
    const lines = this.namedIrqs(pdev);
    const cfg = armSmmuDeviceHwProbe(this.services.mmio, res.start, coherent, log, pdev, this.options.disableMsipolling ?? false);
    if (typeof cfg === 'number') return cfg;
    let smmu: ArmSmmuV3Device | null = null;
    smmu = new ArmSmmuV3Device(pdev, res.start, cfg, this.services, this.disableBypass, () => {
      if (smmu !== null) gerrorHandler(smmu, log);
    });
    let ret = smmu.initStructures();
    if (ret !== 0) return ret;
    pdev.driverData = smmu;
    ret = this.deviceReset(smmu, lines, bypass);
    if (ret !== 0) return ret;
    this.pgsizeBitmap = this.pgsizeBitmap === 0 ? cfg.pgsizeBitmap : unionBitmaps(this.pgsizeBitmap, cfg.pgsizeBitmap);
    this.instances.push(smmu);
    smmu.iommu = new IommuDevice(this.ops, smmu.fwnode, pdev.name);
    ret = this.services.iommu.iommuDeviceRegister(smmu.iommu);
    if (ret !== 0) {
      log.devErr(pdev, 'Failed to register iommu');
      this.instances.splice(this.instances.indexOf(smmu), 1);
      return ret;
    }
    return 0;
  }

  /** arm_smmu_device_remove: unregister, then disable the SMMU (and leave streams to GBPA). */
  deviceRemove(pdev: PlatformDevice): void {
    const smmu = pdev.driverData instanceof ArmSmmuV3Device ? pdev.driverData : undefined;
    if (smmu === undefined) return;
    if (smmu.iommu !== null) this.services.iommu.iommuDeviceUnregister(smmu.iommu);
    smmu.deviceDisable();
    this.instances.splice(this.instances.indexOf(smmu), 1);
  }

  /** platform_get_irq_byname_optional for `combined`, `eventq`, `priq`, `gerror`. */
  private namedIrqs(pdev: PlatformDevice): { combined?: IrqLine; eventq?: IrqLine; gerror?: IrqLine } {
    const nums = pdev.fwnode.get('interrupts') ?? [];
    const namesProp = pdev.fwnode.get('interrupt-names');
    const names = Array.isArray(namesProp) ? (namesProp as readonly unknown[]).filter((n): n is string => typeof n === 'string') : [];
    const byName = (n: string): IrqLine | undefined => {
      const i = names.indexOf(n);
      const irq = i >= 0 ? nums[i] : undefined;
      return irq !== undefined ? this.services.irqs.line(irq) : undefined;
    };
    const combined = byName('combined');
    if (combined !== undefined) return { combined };
    const eventq = byName('eventq');
    const gerror = byName('gerror');
    return { ...(eventq ? { eventq } : {}), ...(gerror ? { gerror } : {}) };
  }

  /** arm_smmu_device_reset, with arm_smmu_setup_irqs between enabling the queues and the SMMU. */
  private deviceReset(smmu: ArmSmmuV3Device, lines: ReturnType<ArmSmmuV3Driver['namedIrqs']>, bypass: boolean): number {
    let ret = smmu.resetQueues();
    if (ret !== 0) return ret;
    ret = this.setupIrqs(smmu, lines);
    if (ret !== 0) {
      this.log.devErr(smmu.dev, 'failed to setup irqs');
      return ret;
    }
    return smmu.enable(bypass);
  }

  /** arm_smmu_setup_irqs / arm_smmu_setup_unique_irqs. */
  private setupIrqs(smmu: ArmSmmuV3Device, lines: ReturnType<ArmSmmuV3Driver['namedIrqs']>): number {
    const log = this.log;
    const dev = smmu.dev;
    let ret = smmu.writeRegSync(0, R.IRQ_CTRL, R.IRQ_CTRLACK);
    if (ret !== 0) {
      log.devErr(dev, 'failed to disable irqs');
      return ret;
    }
    const evtq = (): IrqReturn => evtqThread(smmu, log, (e) => void this.events.push(e));
    const gerr = (): IrqReturn => gerrorHandler(smmu, log);
    if (lines.combined !== undefined) {
      const handler = (): IrqReturn => { const a = evtq(); const b = gerr(); return a === 'handled' || b === 'handled' ? 'handled' : 'none'; };
      if (lines.combined.request('arm-smmu-v3-combined', handler, true) !== 0) log.devWarn(dev, 'failed to enable combined irq');
    } else {
      if (lines.eventq === undefined) log.devWarn(dev, 'no evtq irq - events will not be reported!');
      else if (lines.eventq.request('arm-smmu-v3-evtq', evtq, true) !== 0) log.devWarn(dev, 'failed to enable evtq irq');
      if (lines.gerror === undefined) log.devWarn(dev, 'no gerr irq - errors will not be reported!');
      else if (lines.gerror.request('arm-smmu-v3-gerror', gerr, true) !== 0) log.devWarn(dev, 'failed to enable gerror irq');
    }
    ret = smmu.writeRegSync(R.IRQ_CTRL_EVTQ_IRQEN | R.IRQ_CTRL_GERROR_IRQEN, R.IRQ_CTRL, R.IRQ_CTRLACK);
    if (ret !== 0) log.devWarn(dev, 'failed to enable irqs');
    return 0;
  }

  // ---- masters -------------------------------------------------------------------------------

  /** arm_smmu_probe_device: claim a device whose fwspec names one of our SMMUs, give each stream its STE slot. */
  private probeDevice(dev: Device): IommuDevice | number {
    const fwspec = devIommuFwspecGet(dev);
    if (fwspec === null || fwspec.ops !== this.ops) return -ENODEV;
    if (dev.getSlot(ARM_SMMU_V3_MASTER_SLOT) !== undefined) return -EBUSY;
    const smmu = this.instanceByFwnode(fwspec.iommuFwnode);
    if (smmu?.iommu == null) return -ENODEV;
    const master: ArmSmmuMaster = { dev, smmu, sids: [...fwspec.ids], domain: null, ssidBits: 0 };
    dev.setSlot(ARM_SMMU_V3_MASTER_SLOT, master);
    const ret = this.insertMaster(smmu, master);
    if (ret !== 0) {
      dev.clearSlot(ARM_SMMU_V3_MASTER_SLOT);
      return ret;
    }
    const pasid = dev.fwnode.get('pasid-num-bits');
    master.ssidBits = Math.min(smmu.cfg.ssidBits, typeof pasid === 'number' ? pasid : 0);
    if (!smmu.has(F.ARM_SMMU_FEAT_2_LVL_CDTAB)) master.ssidBits = Math.min(master.ssidBits, F.CTXDESC_LINEAR_CDMAX);
    return smmu.iommu;
  }

  /** arm_smmu_insert_master: each stream id must be in range and not yet owned; level-2 tables on demand. */
  private insertMaster(smmu: ArmSmmuV3Device, master: ArmSmmuMaster): number {
    const st = smmu.strtabCfg!;
    const added: number[] = [];
    const env = { log: this.log, dev: smmu.dev, pages: this.services.pages, memory: this.services.memory };
    for (const sid of master.sids) {
      let ret = armSmmuSidInRange(st, sid) ? 0 : -ERANGE;
      if (ret === 0) ret = armSmmuInitL2Strtab(env, st, sid, !this.disableBypass);
      if (ret === 0 && smmu.streams.has(sid) && smmu.streams.get(sid) !== master) {
        this.log.devWarn(master.dev, `stream ${sid} already in tree`);
        ret = -EINVAL;
      }
      if (ret !== 0) {
        for (const s of added) smmu.streams.delete(s);
        return ret;
      }
      if (!smmu.streams.has(sid)) added.push(sid);
      smmu.streams.set(sid, master);
    }
    return 0;
  }

  /** arm_smmu_release_device: detach (STEs back to abort/bypass) and forget the streams. */
  private releaseDevice(dev: Device): void {
    const master = dev.getSlot(ARM_SMMU_V3_MASTER_SLOT);
    if (master === undefined) return;
    this.detachDev(master);
    for (const sid of master.sids) if (master.smmu.streams.get(sid) === master) master.smmu.streams.delete(sid);
    dev.clearSlot(ARM_SMMU_V3_MASTER_SLOT);
  }

  /** arm_smmu_device_group: PCI functions by the PCI rules, anything else alone. */
  private deviceGroup(dev: Device): IommuGroup | number {
    const core = this.services.iommu;
    return core.pci?.lookup(dev) != null ? core.pciDeviceGroup(dev) : core.genericDeviceGroup(dev);
  }

  /** arm_smmu_of_xlate: one cell, the stream id. */
  private ofXlate(dev: Device, args: PhandleArgs): number {
    return iommuFwspecAddIds(dev, [args.args[0] ?? 0]);
  }

  /** arm_smmu_capable. DEFERRED_FLUSH as in Linux 6.5 on: unmap posts, iotlb_sync waits. */
  private capable(dev: Device | null, cap: IommuCap): boolean {
    if (cap === 'CACHE_COHERENCY') {
      const master = dev !== null ? dev.getSlot(ARM_SMMU_V3_MASTER_SLOT) : undefined;
      return master?.smmu.has(F.ARM_SMMU_FEAT_COHERENCY) ?? false;
    }
    return cap === 'NOEXEC' || cap === 'DEFERRED_FLUSH';
  }

  // ---- domains -------------------------------------------------------------------------------

  /** arm_smmu_domain_alloc: paging and identity domains, and the blocking domain of later kernels. */
  private domainAlloc(type: IommuDomainType): IommuDomain | null {
    const allowed: readonly IommuDomainType[] = ['UNMANAGED', 'DMA', 'DMA_FQ', 'IDENTITY', 'BLOCKED'];
    if (!allowed.includes(type)) return null;
    const d = new ArmSmmuV3Domain(this.domainOps, type, this.nextDomainId++);
    this.liveDomains.add(d);
    return d;
  }

  /** arm_smmu_domain_finalise: pick the stage, build the page tables, then the CD (stage 1) or VMID (stage 2). */
  private domainFinalise(domain: ArmSmmuV3Domain, master: ArmSmmuMaster): number {
    const smmu = master.smmu;
    if (domain.type === 'IDENTITY') {
      domain.stage = 'bypass';
      return 0;
    }
    if (domain.type === 'BLOCKED') {
      domain.stage = 'blocked';
      return 0;
    }
    if (!smmu.has(F.ARM_SMMU_FEAT_TRANS_S1)) domain.stage = 's2';
    if (!smmu.has(F.ARM_SMMU_FEAT_TRANS_S2)) domain.stage = 's1';
    let ias: number;
    let oas: number;
    if (domain.stage === 's1') {
      ias = Math.min(smmu.has(F.ARM_SMMU_FEAT_VAX) ? 52 : 48, F.VA_BITS);
      oas = smmu.cfg.ias;
    } else {
      ias = smmu.cfg.ias;
      oas = smmu.cfg.oas;
    }
    const pgtbl = ArmLpaeIoPgtable.alloc(
      domain.stage === 's1' ? 's1' : 's2',
      { pgsizeBitmap: smmu.cfg.pgsizeBitmap, ias, oas, coherentWalk: smmu.has(F.ARM_SMMU_FEAT_COHERENCY), tlb: this.flushOps, iommuDev: smmu.dev },
      domain,
      this.env,
    );
    if (pgtbl === null) return -ENOMEM;
    domain.pgsizeBitmap = pgtbl.pgsizeBitmap;
    domain.geometry.apertureStart = 0;
    domain.geometry.apertureEnd = 2 ** pgtbl.ias - 1;
    domain.geometry.forceAperture = true;
    const ret = domain.stage === 's1' ? this.finaliseS1(domain, master, pgtbl) : this.finaliseS2(domain, smmu, pgtbl);
    if (ret < 0) {
      pgtbl.free();
      return ret;
    }
    domain.pgtbl = pgtbl;
    return 0;
  }

  /** arm_smmu_domain_finalise_s1: an ASID from the global space, a linear CD table, and the CD written. */
  private finaliseS1(domain: ArmSmmuV3Domain, master: ArmSmmuMaster, pgtbl: ArmLpaeIoPgtable): number {
    const smmu = master.smmu;
    const asid = this.allocAsid(smmu.cfg.asidBits);
    if (asid < 0) return asid;
    const s1cdmax = master.ssidBits;
    // arm_smmu_alloc_cd_tables, linear form: one 64-byte CD per substream
    const cdtab = allocCoherent({ log: this.log, dev: smmu.dev, pages: this.services.pages, memory: this.services.memory }, 2 ** s1cdmax * R.CD_SIZE);
    if (cdtab === null) {
      this.log.devWarn(smmu.dev, 'failed to allocate context descriptor');
      this.asids.delete(asid);
      return -ENOMEM;
    }
    const s1 = pgtbl.armLpaeS1Cfg!;
    const t = s1.tcr;
    domain.s1Cfg = {
      cdtab,
      s1cdmax,
      cd: {
        asid,
        ttbr: s1.ttbr,
        tcrLo: (t.tsz | (t.tg << R.CD_0_TCR_TG0_SHIFT) | (t.irgn << R.CD_0_TCR_IRGN0_SHIFT) | (t.orgn << R.CD_0_TCR_ORGN0_SHIFT) | (t.sh << R.CD_0_TCR_SH0_SHIFT) | R.CD_0_TCR_EPD1) >>> 0,
        tcrHi: t.ips | R.CD_0_AA64_HI,
        mair: s1.mair,
      },
    };
    // the master is not on the domain's list yet, so this CFGI_CD reaches no stream: the STE is not installed
    return smmu.writeCtxDesc(domain, 0, domain.s1Cfg.cd);
  }

  /** arm_smmu_domain_finalise_s2: a VMID, and the VTCR the STE will carry. */
  private finaliseS2(domain: ArmSmmuV3Domain, smmu: ArmSmmuV3Device, pgtbl: ArmLpaeIoPgtable): number {
    let vmid = 1;
    while (smmu.vmidMap.has(vmid)) vmid++;
    if (vmid >= 2 ** smmu.cfg.vmidBits) return -ENOSPC;
    smmu.vmidMap.add(vmid);
    const s2 = pgtbl.armLpaeS2Cfg!;
    const v = s2.vtcr;
    const vtcr = v.tsz | (v.sl << R.VTCR_SL0_SHIFT) | (v.irgn << R.VTCR_IRGN0_SHIFT) | (v.orgn << R.VTCR_ORGN0_SHIFT) | (v.sh << R.VTCR_SH0_SHIFT) | (v.tg << R.VTCR_TG0_SHIFT) | (v.ps << R.VTCR_PS_SHIFT);
    domain.s2Cfg = { vmid, vttbr: s2.vttbr, vtcr };
    return 0;
  }

  /** xa_alloc(&arm_smmu_asid_xa, 1 .. 2^asid_bits - 1): the lowest free ASID, -EBUSY when none is. */
  private allocAsid(asidBits: number): number {
    for (let asid = 1; asid < 2 ** asidBits; asid++) {
      if (!this.asids.has(asid)) {
        this.asids.add(asid);
        return asid;
      }
    }
    return -EBUSY;
  }

  /** arm_smmu_domain_free: tables, then the CD table and ASID, or the VMID. */
  private domainFree(domain: ArmSmmuV3Domain): void {
    domain.pgtbl?.free();
    domain.pgtbl = null;
    if (domain.s1Cfg !== null) {
      this.asids.delete(domain.s1Cfg.cd.asid);
      domain.s1Cfg = null;
    }
    if (domain.s2Cfg !== null) {
      domain.smmu?.vmidMap.delete(domain.s2Cfg.vmid);
      domain.s2Cfg = null;
    }
    this.liveDomains.delete(domain);
  }

  /** arm_smmu_attach_dev: detach from the old domain, finalise the new one on first use, install the STEs. */
  private attachDev(domain: ArmSmmuV3Domain, dev: Device): number {
    if (devIommuFwspecGet(dev) === null) return -ENOENT;
    const master = dev.getSlot(ARM_SMMU_V3_MASTER_SLOT);
    if (master === undefined) return -ENOENT;
    const smmu = master.smmu;
    this.detachDev(master);
    if (domain.smmu === null) {
      domain.smmu = smmu;
      const ret = this.domainFinalise(domain, master);
      if (ret !== 0) {
        domain.smmu = null;
        return ret;
      }
    } else if (domain.smmu !== smmu) {
      this.log.devErr(dev, `cannot attach to SMMU ${domain.smmu.name} (upstream of ${smmu.name})`);
      return -ENXIO;
    } else if (domain.stage === 's1' && master.ssidBits !== domain.s1Cfg?.s1cdmax) {
      this.log.devErr(dev, `cannot attach to incompatible domain (${domain.s1Cfg?.s1cdmax ?? 0} SSID bits != ${master.ssidBits})`);
      return -EINVAL;
    }
    master.domain = domain;
    smmu.installSteForDev(master);
    domain.devices.add(master);
    return 0;
  }

  /** arm_smmu_detach_dev: the master leaves its domain and its STEs go back to abort (or bypass). */
  private detachDev(master: ArmSmmuMaster): void {
    const domain = master.domain;
    if (domain === null) return;
    domain.devices.delete(master);
    master.domain = null;
    master.smmu.installSteForDev(master);
  }

  // ---- TLB maintenance -----------------------------------------------------------------------

  private tlbInvContext(domain: ArmSmmuV3Domain): void {
    domain.smmu?.tlbInvContext(domain);
  }

  /** arm_smmu_tlb_inv_page_nosync → iommu_iotlb_gather_add_page: grow the gather, syncing first when it cannot grow. */
  private tlbAddPage(domain: ArmSmmuV3Domain, iova: number, granule: number): void {
    const gather = domain.gather;
    if (gather === null) {
      domain.smmu?.tlbInvRangeDomain(iova, granule, granule, true, domain);
      return;
    }
    if ((gather.pgsize !== 0 && gather.pgsize !== granule) || iommuIotlbGatherIsDisjoint(gather, iova, granule)) iommuIotlbSync(domain, gather);
    gather.pgsize = granule;
    iommuIotlbGatherAddRange(gather, iova, granule);
  }

  /** arm_smmu_iotlb_sync: one range invalidation for everything gathered, then CMD_SYNC. */
  private iotlbSync(domain: ArmSmmuV3Domain, gather: IommuIotlbGather): void {
    if (gather.pgsize === 0 || domain.smmu === null) return;
    domain.smmu.tlbInvRangeDomain(gather.start, gather.end - gather.start + 1, gather.pgsize, true, domain);
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
