import { type BusType, type Device, type PhandleArgs, type PlatformDevice, type PlatformDriver } from '@dmasim/bus';
import {
  EFAULT,
  EINVAL,
  ENODEV,
  ENOMEM,
  ENXIO,
  EPROBE_DEFER,
  ETIMEDOUT,
  GFP_DMA32,
  type IrqController,
  type IrqReturn,
  type KernelLog,
  type MmioBus,
  type PageAllocator,
  type PhysicalMemory,
} from '@dmasim/core';
import {
  IOMMU_FAULT_READ,
  IOMMU_FAULT_WRITE,
  IOMMU_READ,
  IOMMU_WRITE,
  IommuDevice,
  devIommuPrivGet,
  devIommuPrivSet,
  reportIommuFault,
  type IommuCore,
  type IommuDomain,
  type IommuDomainOps,
  type IommuDomainType,
  type IommuGroup,
  type IommuOps,
  type IommuProfile,
  type MappedOut,
} from '@dmasim/iommu-core';
import {
  rkDescAddress,
  rkDteIsPtValid,
  rkIovaDteIndex,
  rkIovaPageOffset,
  rkIovaPteIndex,
  rkMkDte,
  rkMkPte,
  rkMkPteInvalid,
  rkPteFlags,
  rkPteIsPageValid,
  RK_IOMMU_PGSIZE_BITMAP,
  SPAGE_SIZE,
} from '../format';
import {
  DTE_ADDR_DUMMY,
  RK_MMU_CMD_DISABLE_PAGING,
  RK_MMU_CMD_DISABLE_STALL,
  RK_MMU_CMD_ENABLE_PAGING,
  RK_MMU_CMD_ENABLE_STALL,
  RK_MMU_CMD_FORCE_RESET,
  RK_MMU_CMD_PAGE_FAULT_DONE,
  RK_MMU_CMD_ZAP_CACHE,
  RK_MMU_COMMAND,
  RK_MMU_DTE_ADDR,
  RK_MMU_INT_CLEAR,
  RK_MMU_INT_MASK,
  RK_MMU_INT_STATUS,
  RK_MMU_IRQ_BUS_ERROR,
  RK_MMU_IRQ_MASK,
  RK_MMU_IRQ_PAGE_FAULT,
  RK_MMU_PAGE_FAULT_ADDR,
  RK_MMU_STATUS,
  RK_MMU_STATUS_PAGE_FAULT_IS_WRITE,
  RK_MMU_STATUS_PAGING_ENABLED,
  RK_MMU_STATUS_STALL_ACTIVE,
  RK_MMU_ZAP_ONE_LINE,
} from '../hw/regs';
import { RkIommuDomain } from './domain';
import { altHex, pad } from './printk';
import { RkIommu } from './rk-iommu-device';

export const RK_IOMMU_DRIVER_NAME = 'rk_iommu';
/** EADDRINUSE (include/uapi/asm-generic/errno.h): the IOVA already has a mapping. */
export const EADDRINUSE = 98;
/** rk_iommu_dt_ids (the RK3288-style v1 block). */
export const RK_IOMMU_OF_MATCH = [{ compatible: 'rockchip,iommu' }] as const;

export interface RkIommuServices {
  readonly log: KernelLog;
  readonly mmio: MmioBus;
  readonly irqs: IrqController;
  readonly memory: PhysicalMemory;
  readonly pages: PageAllocator;
  readonly iommu: IommuCore;
}

export interface RkIommuDriverOptions {
  /** Which kernel generation to behave like; defaults to the IommuCore's profile. */
  readonly profile?: IommuProfile;
}

/**
 * The rk_iommu driver of one machine (drivers/iommu/rockchip-iommu.c), in both generations:
 * - `linux-4.2`: the driver sets the platform bus's ops (bus_set_iommu) before registering;
 *   add_device groups every platform device with an `iommus` property and finds its IOMMU
 *   through it; only UNMANAGED domains; the fault interrupt is requested at attach.
 * - `linux-6.x`: each probed instance registers with the IOMMU core (iommu_device_register);
 *   masters come through of_xlate / probe_device, one group per instance; paging domains of any
 *   kind (DMA for the DMA API) and an identity domain that turns translation off.
 * The driver talks to the hardware only through its registers and its interrupt.
 */
export class RkIommuDriver {
  readonly ops: IommuOps;
  readonly domainOps: IommuDomainOps;
  readonly profile: IommuProfile;
  /** Probed instances in probe order. */
  readonly instances: RkIommu[] = [];
  private readonly log: KernelLog;
  private readonly liveDomains = new Set<RkIommuDomain>();
  private nextDomainId = 1;
  /** The bus the platform driver registered on (of_find_device_by_node looks there). */
  private platformBus: BusType | null = null;

  constructor(
    private readonly services: RkIommuServices,
    options: RkIommuDriverOptions = {},
  ) {
    this.log = services.log;
    this.profile = options.profile ?? services.iommu.profile;
    const legacy = this.profile === 'linux-4.2';
    this.domainOps = {
      attachDev: (d, dev) => (d.type === 'IDENTITY' ? this.identityAttach(dev) : this.attachDevice(d as RkIommuDomain, dev)),
      ...(legacy ? { detachDev: (d: IommuDomain, dev: Device) => this.detachDevice(d as RkIommuDomain, dev) } : {}),
      mapPages: (d, iova, paddr, pgsize, _pgcount, prot, out) => this.map(d as RkIommuDomain, iova, paddr, pgsize, prot, out),
      unmapPages: (d, iova, pgsize) => this.unmap(d as RkIommuDomain, iova, pgsize),
      iovaToPhys: (d, iova) => this.iovaToPhys(d as RkIommuDomain, iova),
      free: (d) => this.domainFree(d as RkIommuDomain),
    };
    this.ops = {
      owner: RK_IOMMU_DRIVER_NAME,
      pgsizeBitmap: RK_IOMMU_PGSIZE_BITMAP,
      domainAlloc: (type) => this.domainAlloc(type),
      ...(legacy
        ? { addDevice: (dev: Device) => this.addDevice(dev), removeDevice: (dev: Device) => this.removeDevice(dev) }
        : {
            probeDevice: (dev: Device) => this.probeDevice(dev),
            releaseDevice: (dev: Device) => this.releaseDevice(dev),
            deviceGroup: (dev: Device) => this.services.iommu.genericSingleDeviceGroup(dev),
            ofXlate: (dev: Device, args: PhandleArgs) => this.ofXlate(dev, args),
          }),
    };
  }

  /** struct platform_driver rk_iommu_driver, on `bus`. */
  platformDriver(bus: BusType): PlatformDriver {
    this.platformBus = bus;
    return { name: RK_IOMMU_DRIVER_NAME, bus, ofMatchTable: RK_IOMMU_OF_MATCH, probe: (pdev) => this.probe(pdev) };
  }

  /** Domains allocated and not yet freed. */
  get domains(): readonly RkIommuDomain[] {
    return [...this.liveDomains];
  }

  instanceByFwnode(fwnode: string): RkIommu | undefined {
    return this.instances.find((i) => i.fwnode === fwnode);
  }

  // ---- probe -----------------------------------------------------------------------------------

  /** rk_iommu_probe. */
  private probe(pdev: PlatformDevice): number {
    const res = pdev.resources[0];
    if (res === undefined) return -ENODEV;
    const irq = pdev.fwnode.get('interrupts')?.[0];
    if (irq === undefined) {
      this.log.devErr(pdev, `Failed to get IRQ, ${-ENXIO}`);
      return -ENXIO;
    }
    const iommu = new RkIommu(pdev, this.services.mmio, res.start, irq, pdev.fwnode.get('rockchip,disable-mmu-reset') === true);
    pdev.driverData = iommu;
    if (this.profile !== 'linux-4.2') {
      // later kernels take the (shared) fault interrupt at probe and register the instance
      const err = this.services.irqs.line(irq).request(pdev.name, () => this.irqHandler(iommu), true);
      if (err !== 0) return err;
      iommu.irqName = pdev.name;
      iommu.iommu = new IommuDevice(this.ops, iommu.fwnode, pdev.name);
      this.instances.push(iommu);
      const ret = this.services.iommu.iommuDeviceRegister(iommu.iommu);
      if (ret !== 0) {
        this.instances.pop();
        return ret;
      }
      return 0;
    }
    this.instances.push(iommu);
    return 0;
  }

  // ---- masters ---------------------------------------------------------------------------------

  /** The instance serving a master: its group's iommudata (2015) or its dev_iommu priv (later). */
  private fromDev(dev: Device): RkIommu | null {
    if (this.profile === 'linux-4.2') {
      const data = this.services.iommu.iommuGroupGet(dev);
      if (data === null) return null;
      const name = data.iommuData;
      this.services.iommu.iommuGroupPut(data);
      return typeof name === 'string' ? (this.instanceByFwnode(name) ?? null) : null;
    }
    const priv = devIommuPrivGet(dev);
    return priv instanceof RkIommu ? priv : null;
  }

  /**
   * 2015 rk_iommu_add_device: any platform device with an `iommus` property is taken for a master
   * (whatever IOMMU the phandle names); it gets its own group, whose iommudata is the IOMMU's
   * device, found by the node of its single-cell-free specifier.
   */
  private addDevice(dev: Device): number {
    const specs = dev.fwnode.get('iommus');
    if (specs === undefined || specs.length === 0) return -ENODEV;
    const core = this.services.iommu;
    let group: IommuGroup | null = core.iommuGroupGet(dev);
    group ??= core.iommuGroupAlloc();
    let ret = core.iommuGroupAddDevice(group, dev);
    if (ret === 0) {
      ret = this.groupSetIommudata(group, dev, specs[0]!);
      if (ret !== 0) core.iommuGroupRemoveDevice(dev);
    }
    core.iommuGroupPut(group);
    return ret;
  }

  /** rk_iommu_group_set_iommudata. */
  private groupSetIommudata(group: IommuGroup, dev: Device, spec: PhandleArgs): number {
    if (spec.args.length !== 0) {
      this.log.devErr(dev, `incorrect number of iommu params found for ${spec.node} (found ${spec.args.length}, expected 0)`);
      return -EINVAL;
    }
    // of_find_device_by_node: the IOMMU's platform device, once it is on the bus
    let found: Device | undefined;
    for (const d of this.platformDevices()) if (d.fwnode.name === spec.node) found = d;
    if (found === undefined) {
      this.log.devErr(dev, `iommu ${spec.node} not found`);
      return -EPROBE_DEFER;
    }
    group.iommuData = found.fwnode.name;
    return 0;
  }

  private platformDevices(): Iterable<Device> {
    return this.platformBus?.devices ?? [];
  }

  private removeDevice(dev: Device): void {
    if (dev.fwnode.get('iommus') === undefined) return;
    this.services.iommu.iommuGroupRemoveDevice(dev);
  }

  /** rk_iommu_of_xlate: the master's instance is the one its `iommus` phandle names. */
  private ofXlate(dev: Device, args: PhandleArgs): number {
    const iommu = this.instanceByFwnode(args.node);
    if (iommu === undefined) return -ENODEV;
    devIommuPrivSet(dev, iommu);
    return 0;
  }

  /** rk_iommu_probe_device. */
  private probeDevice(dev: Device): IommuDevice | number {
    const iommu = this.fromDev(dev);
    if (iommu?.iommu == null) return -ENODEV;
    return iommu.iommu;
  }

  private releaseDevice(dev: Device): void {
    for (const d of this.liveDomains) d.devices.delete(dev);
  }

  // ---- domains ---------------------------------------------------------------------------------

  /**
   * rk_iommu_domain_alloc (2015: UNMANAGED only) / rk_iommu_domain_alloc_paging and the identity
   * domain (later): a zeroed directory page from ZONE_DMA32, since the walker takes 32-bit addresses.
   */
  private domainAlloc(type: IommuDomainType): IommuDomain | null {
    const legacy = this.profile === 'linux-4.2';
    if (legacy && type !== 'UNMANAGED') return null;
    if (type === 'BLOCKED') return null;
    const d = new RkIommuDomain(this.domainOps, type, this.nextDomainId++, !legacy);
    d.pgsizeBitmap = RK_IOMMU_PGSIZE_BITMAP;
    if (type !== 'IDENTITY') {
      const dt = this.allocTable();
      if (dt === null) return null;
      d.dt = dt;
    }
    this.liveDomains.add(d);
    return d;
  }

  /** A zeroed 4 KiB table page. The walker does not snoop: the page goes to memory directly. */
  private allocTable(): number | null {
    const page = this.services.pages.allocPages(0, GFP_DMA32);
    if (page === null) return null;
    this.services.memory.fill(page, SPAGE_SIZE, 0);
    return page;
  }

  /** rk_iommu_domain_free. */
  private domainFree(domain: RkIommuDomain): void {
    if (domain.iommus.length > 0) this.log.warn('drivers/iommu/rockchip-iommu.c rk_iommu_domain_free', 'domain freed while IOMMUs are attached');
    for (const pt of domain.pageTables) this.services.pages.freePages(pt, 0);
    domain.pageTables.clear();
    if (domain.dt !== null) this.services.pages.freePages(domain.dt, 0);
    domain.dt = null;
    this.liveDomains.delete(domain);
  }

  private readEntry(table: number, index: number): number {
    return this.services.memory.readU32(table + 4 * index);
  }

  private writeEntry(table: number, index: number, value: number): void {
    this.services.memory.writeU32(table + 4 * index, value);
  }

  /** rk_dte_get_page_table: the page table under `iova`'s DTE, allocated on first use. */
  private dteGetPageTable(domain: RkIommuDomain, iova: number): number {
    if (domain.dt === null) return -EINVAL;
    const idx = rkIovaDteIndex(iova);
    const dte = this.readEntry(domain.dt, idx);
    if (rkDteIsPtValid(dte)) return rkDescAddress(dte);
    const pt = this.allocTable();
    if (pt === null) return -ENOMEM;
    domain.pageTables.add(pt);
    this.writeEntry(domain.dt, idx, rkMkDte(pt));
    return pt;
  }

  /**
   * rk_iommu_map: one chunk of `size` bytes (at most one page table's worth, as the page-size
   * bitmap guarantees): write the PTEs, then zap the first and last IOVA on every attached IOMMU,
   * the only ones whose DTE or PTE line an older mapping may have left in the IOTLB.
   */
  private map(domain: RkIommuDomain, iova: number, paddr: number, size: number, prot: number, out: MappedOut): number {
    const pt = this.dteGetPageTable(domain, iova);
    if (pt < 0) return pt;
    const first = rkIovaPteIndex(iova);
    const total = size / SPAGE_SIZE;
    const read = protHas(prot, IOMMU_READ);
    const write = protHas(prot, IOMMU_WRITE);
    for (let n = 0; n < total; n++) {
      const pte = this.readEntry(pt, first + n);
      if (rkPteIsPageValid(pte)) {
        this.unmapPtes(pt, first, n);
        this.log.err(`iova: ${pad(iova + n * SPAGE_SIZE)} already mapped to ${pad(rkDescAddress(pte))} cannot remap to phys: ${pad(paddr + n * SPAGE_SIZE)} prot: ${altHex(prot, 0)}`);
        return -EADDRINUSE;
      }
      this.writeEntry(pt, first + n, rkMkPte(paddr + n * SPAGE_SIZE, read, write));
    }
    this.zapIova(domain, iova, SPAGE_SIZE);
    if (size > SPAGE_SIZE) this.zapIova(domain, iova + size - SPAGE_SIZE, SPAGE_SIZE);
    out.mapped += size;
    return 0;
  }

  /** rk_iommu_unmap_iova: clears valid PTEs from `first` on, up to `count`; returns how many. */
  private unmapPtes(pt: number, first: number, count: number): number {
    let n = 0;
    for (; n < count; n++) {
      const pte = this.readEntry(pt, first + n);
      if (!rkPteIsPageValid(pte)) break;
      this.writeEntry(pt, first + n, rkMkPteInvalid(pte));
    }
    return n;
  }

  /** rk_iommu_unmap: the bytes unmapped (0 at a hole), then shoot them down on every attached IOMMU. */
  private unmap(domain: RkIommuDomain, iova: number, size: number): number {
    if (domain.dt === null) return 0;
    const dte = this.readEntry(domain.dt, rkIovaDteIndex(iova));
    if (!rkDteIsPtValid(dte)) return 0;
    const unmapped = this.unmapPtes(rkDescAddress(dte), rkIovaPteIndex(iova), size / SPAGE_SIZE) * SPAGE_SIZE;
    this.zapIova(domain, iova, unmapped);
    return unmapped;
  }

  /** rk_iommu_iova_to_phys: 0 when nothing is mapped there. */
  private iovaToPhys(domain: RkIommuDomain, iova: number): number {
    if (domain.dt === null) return 0;
    const dte = this.readEntry(domain.dt, rkIovaDteIndex(iova));
    if (!rkDteIsPtValid(dte)) return 0;
    const pte = this.readEntry(rkDescAddress(dte), rkIovaPteIndex(iova));
    if (!rkPteIsPageValid(pte)) return 0;
    return rkDescAddress(pte) + rkIovaPageOffset(iova);
  }

  /** rk_iommu_zap_iova: ZAP_ONE_LINE for each page, on every IOMMU attached to the domain. */
  private zapIova(domain: RkIommuDomain, iova: number, size: number): void {
    for (const iommu of domain.iommus) for (let a = iova; a < iova + size; a += SPAGE_SIZE) iommu.write(RK_MMU_ZAP_ONE_LINE, a);
  }

  // ---- attach ----------------------------------------------------------------------------------

  /**
   * rk_iommu_attach_device. A device without an instance (a virtual device such as the DRM master)
   * attaches trivially. 2015: stall, reset, take the fault interrupt in the master's name, point
   * DTE_ADDR at the directory, zap, unmask, enable paging. Later kernels first detach the old
   * domain (identity attach), then enable the same way.
   */
  private attachDevice(domain: RkIommuDomain, dev: Device): number {
    const iommu = this.fromDev(dev);
    if (iommu === null) return 0;
    if (this.profile === 'linux-4.2') {
      let ret = this.enableStall(iommu);
      if (ret !== 0) return ret;
      ret = this.forceReset(iommu);
      if (ret !== 0) return ret;
      iommu.domain = domain;
      ret = this.services.irqs.line(iommu.irq).request(dev.name, () => this.irqHandler(iommu), true);
      if (ret !== 0) return ret;
      iommu.irqName = dev.name;
      iommu.write(RK_MMU_DTE_ADDR, domain.dt ?? 0);
      iommu.write(RK_MMU_COMMAND, RK_MMU_CMD_ZAP_CACHE);
      iommu.write(RK_MMU_INT_MASK, RK_MMU_IRQ_MASK);
      ret = this.enablePaging(iommu);
      if (ret !== 0) return ret;
      domain.iommus.push(iommu);
      domain.devices.add(dev);
      this.log.devDbg(dev, 'Attached to iommu domain');
      this.disableStall(iommu);
      return 0;
    }
    this.log.devDbg(dev, 'Attaching to iommu domain');
    if (iommu.domain === domain) {
      domain.devices.add(dev);
      return 0;
    }
    this.identityAttach(dev);
    iommu.domain = domain;
    domain.iommus.push(iommu);
    domain.devices.add(dev);
    return this.enable(iommu);
  }

  /** rk_iommu_enable (later kernels). */
  private enable(iommu: RkIommu): number {
    let ret = this.enableStall(iommu);
    if (ret === 0) ret = this.forceReset(iommu);
    if (ret === 0) {
      iommu.write(RK_MMU_DTE_ADDR, iommu.domain?.dt ?? 0);
      iommu.write(RK_MMU_COMMAND, RK_MMU_CMD_ZAP_CACHE);
      iommu.write(RK_MMU_INT_MASK, RK_MMU_IRQ_MASK);
      ret = this.enablePaging(iommu);
    }
    this.disableStall(iommu);
    return ret;
  }

  /** rk_iommu_disable: paging off, interrupts masked, no directory. */
  private disable(iommu: RkIommu): void {
    this.enableStall(iommu);
    this.disablePaging(iommu);
    iommu.write(RK_MMU_INT_MASK, 0);
    iommu.write(RK_MMU_DTE_ADDR, 0);
    this.disableStall(iommu);
  }

  /** rk_iommu_identity_attach: leave the current domain; translation off. */
  private identityAttach(dev: Device): number {
    const iommu = this.fromDev(dev);
    if (iommu === null) return -ENODEV;
    const old = iommu.domain;
    this.log.devDbg(dev, 'Detaching from iommu domain');
    if (old === null) return 0;
    iommu.domain = null;
    old.iommus.splice(old.iommus.indexOf(iommu), 1);
    old.devices.delete(dev);
    this.disable(iommu);
    return 0;
  }

  /** 2015 rk_iommu_detach_device. */
  private detachDevice(domain: RkIommuDomain, dev: Device): void {
    const iommu = this.fromDev(dev);
    if (iommu === null) return;
    const i = domain.iommus.indexOf(iommu);
    if (i >= 0) domain.iommus.splice(i, 1);
    domain.devices.delete(dev);
    this.disable(iommu);
    if (iommu.irqName !== null) this.services.irqs.line(iommu.irq).free(iommu.irqName);
    iommu.irqName = null;
    iommu.domain = null;
    this.log.devDbg(dev, 'Detached from iommu domain');
  }

  // ---- commands --------------------------------------------------------------------------------

  private statusHas(iommu: RkIommu, bit: number): boolean {
    return protHas(iommu.read(RK_MMU_STATUS), bit);
  }

  /** rk_iommu_enable_stall: only while paging is on; the hardware stalls at once here. */
  private enableStall(iommu: RkIommu): number {
    if (this.statusHas(iommu, RK_MMU_STATUS_STALL_ACTIVE)) return 0;
    if (!this.statusHas(iommu, RK_MMU_STATUS_PAGING_ENABLED)) return 0;
    iommu.write(RK_MMU_COMMAND, RK_MMU_CMD_ENABLE_STALL);
    return this.waitFor(iommu, () => this.statusHas(iommu, RK_MMU_STATUS_STALL_ACTIVE), 'Enable stall request timed out');
  }

  private disableStall(iommu: RkIommu): number {
    if (!this.statusHas(iommu, RK_MMU_STATUS_STALL_ACTIVE)) return 0;
    iommu.write(RK_MMU_COMMAND, RK_MMU_CMD_DISABLE_STALL);
    return this.waitFor(iommu, () => !this.statusHas(iommu, RK_MMU_STATUS_STALL_ACTIVE), 'Disable stall request timed out');
  }

  private enablePaging(iommu: RkIommu): number {
    if (this.statusHas(iommu, RK_MMU_STATUS_PAGING_ENABLED)) return 0;
    iommu.write(RK_MMU_COMMAND, RK_MMU_CMD_ENABLE_PAGING);
    return this.waitFor(iommu, () => this.statusHas(iommu, RK_MMU_STATUS_PAGING_ENABLED), 'Enable paging request timed out');
  }

  private disablePaging(iommu: RkIommu): number {
    if (!this.statusHas(iommu, RK_MMU_STATUS_PAGING_ENABLED)) return 0;
    iommu.write(RK_MMU_COMMAND, RK_MMU_CMD_DISABLE_PAGING);
    return this.waitFor(iommu, () => !this.statusHas(iommu, RK_MMU_STATUS_PAGING_ENABLED), 'Disable paging request timed out');
  }

  /** The register poll of rk_wait_for / readx_poll_timeout: the model answers at once or never. */
  private waitFor(iommu: RkIommu, done: () => boolean, what: string): number {
    if (done()) return 0;
    this.log.devErr(iommu.dev, `${what}, status: ${altHex(iommu.read(RK_MMU_STATUS), 8)}`);
    return -ETIMEDOUT;
  }

  /**
   * rk_iommu_force_reset: check that DTE_ADDR holds what is written (its upper 20 bits), then
   * FORCE_RESET and wait for DTE_ADDR to read 0. Skipped with rockchip,disable-mmu-reset.
   */
  private forceReset(iommu: RkIommu): number {
    if (iommu.resetDisabled && this.profile !== 'linux-4.2') return 0;
    iommu.write(RK_MMU_DTE_ADDR, DTE_ADDR_DUMMY);
    if (iommu.read(RK_MMU_DTE_ADDR) !== rkDescAddress(DTE_ADDR_DUMMY)) {
      this.log.devErr(iommu.dev, 'Error during raw reset. MMU_DTE_ADDR is not functioning');
      return -EFAULT;
    }
    iommu.write(RK_MMU_COMMAND, RK_MMU_CMD_FORCE_RESET);
    if (iommu.read(RK_MMU_DTE_ADDR) !== 0) {
      this.log.devErr(iommu.dev, 'FORCE_RESET command timed out');
      return -ETIMEDOUT;
    }
    return 0;
  }

  // ---- faults ----------------------------------------------------------------------------------

  /** rk_iommu_irq: print and report a page fault, zap, let the master go on; clear the cause. */
  private irqHandler(iommu: RkIommu): IrqReturn {
    const intStatus = iommu.read(RK_MMU_INT_STATUS);
    if (intStatus === 0) return 'none';
    const iova = iommu.read(RK_MMU_PAGE_FAULT_ADDR);
    if (protHas(intStatus, RK_MMU_IRQ_PAGE_FAULT)) {
      const isWrite = protHas(iommu.read(RK_MMU_STATUS), RK_MMU_STATUS_PAGE_FAULT_IS_WRITE);
      this.log.devErr(iommu.dev, `Page fault at ${pad(iova)} of type ${isWrite ? 'write' : 'read'}`);
      this.logIova(iommu, iova);
      if (iommu.domain !== null) reportIommuFault(iommu.domain, iommu.dev, iova, isWrite ? IOMMU_FAULT_WRITE : IOMMU_FAULT_READ);
      else this.log.devErr(iommu.dev, 'Page fault while iommu not attached to domain?');
      iommu.write(RK_MMU_COMMAND, RK_MMU_CMD_ZAP_CACHE);
      iommu.write(RK_MMU_COMMAND, RK_MMU_CMD_PAGE_FAULT_DONE);
    }
    if (protHas(intStatus, RK_MMU_IRQ_BUS_ERROR)) this.log.devErr(iommu.dev, `BUS_ERROR occurred at ${pad(iova)}`);
    iommu.write(RK_MMU_INT_CLEAR, intStatus);
    return 'handled';
  }

  /** log_iova: the walk of the faulting IOVA through the tables DTE_ADDR points at. */
  private logIova(iommu: RkIommu, iova: number): void {
    const dteIndex = rkIovaDteIndex(iova);
    const pteIndex = rkIovaPteIndex(iova);
    const pageOffset = rkIovaPageOffset(iova);
    const mmuDteAddr = iommu.read(RK_MMU_DTE_ADDR);
    const dteAddr = mmuDteAddr + 4 * dteIndex;
    const dte = Math.max(0, this.services.memory.readU32(dteAddr));
    let pteAddr = 0;
    let pte = 0;
    let pageAddr = 0;
    let flags = 0;
    if (rkDteIsPtValid(dte)) {
      pteAddr = rkDescAddress(dte) + 4 * pteIndex;
      pte = Math.max(0, this.services.memory.readU32(pteAddr));
      if (rkPteIsPageValid(pte)) {
        pageAddr = rkDescAddress(pte) + pageOffset;
        flags = rkPteFlags(pte);
      }
    }
    this.log.devErr(iommu.dev, `iova = ${pad(iova)}: dte_index: ${altHex(dteIndex, 3)} pte_index: ${altHex(pteIndex, 3)} page_offset: ${altHex(pageOffset, 3)}`);
    this.log.devErr(
      iommu.dev,
      `mmu_dte_addr: ${pad(mmuDteAddr)} dte@${pad(dteAddr)}: ${altHex(dte, 8)} valid: ${rkDteIsPtValid(dte) ? 1 : 0} pte@${pad(pteAddr)}: ${altHex(pte, 8)} valid: ${rkPteIsPageValid(pte) ? 1 : 0} page@${pad(pageAddr)} flags: ${altHex(flags, 3)}`,
    );
  }
}

/** A flag test on small flag words (prot bits, register fields): never on an address. */
function protHas(v: number, bit: number): boolean {
  return Math.floor(v / bit) % 2 === 1;
}

