/**
 * The IOMMU core of one machine (drivers/iommu/iommu.c and the IOMMU half of drivers/iommu/of_iommu.c):
 * registered IOMMU instances, per-bus ops, groups and their default domains, attach rules, and
 * both ways IOMMUs meet devices:
 *
 * - 2015 (`busSetIommu`): ops are set once per bus; the core registers its own bus notifier at
 *   priority 0 that calls the driver's `addDevice` on ADD_DEVICE, and adds the devices already
 *   present. Groups come from the driver; in the `linux-4.2` profile the core only groups PCI
 *   devices, so platform devices get no default domain (what seed 002 works around).
 * - later kernels (`iommuDeviceRegister` + `iommuProbeDevice`): each device is probed through its
 *   fwspec once the IOMMU instance its firmware names is registered; until then `ofIommuConfigure`
 *   (the bus dmaConfigure hook) returns -EPROBE_DEFER, and registering the instance probes the
 *   devices already present (bus_iommu_probe).
 *
 * Default domains are allocated per group, or (policy `per-iommu`, argued for in the seed 002
 * review for SMMUs with few context banks) one shared DMA domain per IOMMU instance.
 */
import type { Device } from '@dmasim/bus';
import { EBUSY, EINVAL, ENODEV, ENOMEM, EPROBE_DEFER, errnoName, EventEmitter, type KernelLog } from '@dmasim/core';
import type { IommuEvents } from './events';
import type { BusNotifierBlock, BusNotifierHost, BusNotifyAction } from './bus-host';
import type { IommuDomain } from './domain';
import {
  DEV_IOMMU_GROUP_SLOT,
  DEV_IOMMU_SLOT,
  devIommuFree,
  devIommuFwspecGet,
  devIommuGet,
  iommuFwspecFree,
  ofMapId,
} from './fwspec';
import { IdAllocator, IommuGroup } from './group';
import type { IommuDevice, IommuOps } from './ops';
import { pciDeviceGroup } from './pci-group';
import type { PciTopology } from './pci';
import { pciForEachDmaAlias } from './pci';
import type { IommuCap, IommuDomainType } from './types';
import {
  IOMMU_BUS_NOTIFY_PRIORITY,
  NOTIFY_DONE,
  NOTIFY_OK,
  iommuDomainTypeStr,
  isDmaDomainType,
} from './types';

/** Which kernel generation the core behaves like (see the README's profile table). */
export type IommuProfile = 'linux-4.2' | 'linux-6.x';

/** Where default DMA domains come from. */
export type DefaultDomainPolicy = 'per-group' | 'per-iommu';

export interface IommuCoreOptions {
  /** iommu.passthrough: IDENTITY, or DMA (translated; DMA_FQ when not strict). Default DMA. */
  readonly defaultDomainType?: 'DMA' | 'IDENTITY';
  /** `per-group` (the kernel's) or `per-iommu` (one shared DMA domain per IOMMU instance). */
  readonly defaultDomainPolicy?: DefaultDomainPolicy;
  /** iommu.strict: invalidate the IOTLB on every unmap. Default true (arm64's default). */
  readonly strict?: boolean;
  readonly profile?: IommuProfile;
}

/** What the core needs from the rest of the machine. */
export interface IommuCoreServices {
  readonly log: KernelLog;
  /** PCI topology for grouping and `iommu-map`; absent on machines without PCI. */
  readonly pci?: PciTopology | null;
  /**
   * driver_deferred_probe_check_state(): what a missing IOMMU means for a device. -EPROBE_DEFER
   * while initcalls run; the driver core may answer -ENODEV or -ETIMEDOUT later.
   */
  readonly deferredProbeCheckState?: (dev: Device) => number;
}

/** The kernel's numeric domain types, for messages that print them with %u. */
const DOMAIN_TYPE_NUMBER: Record<IommuDomainType, number> = { BLOCKED: 0, UNMANAGED: 1, DMA: 3, IDENTITY: 4, DMA_FQ: 11 };

interface SharedDomain {
  readonly domain: IommuDomain;
  users: number;
}

export class IommuCore {
  readonly log: KernelLog;
  /** Attach, map, unmap and IOTLB invalidation, for traces (observational only). */
  readonly events = new EventEmitter<IommuEvents>();
  readonly profile: IommuProfile;
  readonly policy: DefaultDomainPolicy;
  readonly strict: boolean;
  /** iommu_def_domain_type. */
  readonly defDomainType: IommuDomainType;
  pci: PciTopology | null;
  deferredProbeCheckState: (dev: Device) => number;

  private readonly iommuList: IommuDevice[] = [];
  /** iommu_buses[]: buses the core probes and watches (later kernels). */
  private readonly buses: BusNotifierHost[] = [];
  /** bus->iommu_ops (2015). */
  private readonly busOps = new Map<string, { bus: BusNotifierHost; ops: IommuOps; nb: BusNotifierBlock }>();
  private readonly groupIds = new IdAllocator();
  private readonly liveGroups = new Set<IommuGroup>();
  private readonly shared = new Map<IommuDevice, SharedDomain>();

  constructor(services: IommuCoreServices, options: IommuCoreOptions = {}) {
    this.log = services.log;
    this.pci = services.pci ?? null;
    this.deferredProbeCheckState = services.deferredProbeCheckState ?? (() => -EPROBE_DEFER);
    this.profile = options.profile ?? 'linux-6.x';
    this.policy = options.defaultDomainPolicy ?? 'per-group';
    this.strict = options.strict ?? true;
    const base = options.defaultDomainType ?? 'DMA';
    this.defDomainType = base === 'IDENTITY' ? 'IDENTITY' : this.strict ? 'DMA' : 'DMA_FQ';
  }

  // ---------------------------------------------------------------------------------------------
  // Boot

  /**
   * iommu_subsys_init(): prints the default domain type and TLB policy, and (later kernels)
   * registers the core's bus notifier on each of `buses` so devices added later are probed.
   */
  iommuSubsysInit(buses: readonly BusNotifierHost[]): void {
    if (this.profile === 'linux-6.x') {
      this.log.info(`iommu: Default domain type: ${iommuDomainTypeStr(this.defDomainType)}`);
      if (this.defDomainType !== 'IDENTITY') {
        this.log.info(`iommu: DMA domain TLB invalidation policy: ${this.strict ? 'strict' : 'lazy'} mode`);
      }
    }
    for (const bus of buses) {
      if (this.buses.includes(bus)) continue;
      this.buses.push(bus);
      if (this.profile === 'linux-6.x') {
        bus.registerNotifier({
          name: 'iommu_bus_notifier',
          priority: IOMMU_BUS_NOTIFY_PRIORITY,
          notifierCall: (action, dev) => this.iommuBusNotifier(action, dev),
        });
      }
    }
  }

  private iommuBusNotifier(action: BusNotifyAction, dev: Device): number {
    if (action === 'ADD_DEVICE') return this.iommuProbeDevice(dev) !== 0 ? NOTIFY_DONE : NOTIFY_OK;
    if (action === 'REMOVED_DEVICE') {
      this.iommuReleaseDevice(dev);
      return NOTIFY_OK;
    }
    return NOTIFY_DONE;
  }

  // ---------------------------------------------------------------------------------------------
  // IOMMU instances

  /**
   * iommu_device_register(): make `iommu` findable by its firmware node and (later kernels) probe
   * the devices already on the buses (bus_iommu_probe). In the linux-4.2 profile this is
   * of_iommu_set_ops(): it only records the instance.
   */
  iommuDeviceRegister(iommu: IommuDevice): number {
    this.iommuList.push(iommu);
    if (this.profile === 'linux-4.2') {
      iommu.ready = true;
      return 0;
    }
    let err = 0;
    for (const bus of this.buses) {
      err = this.busIommuProbe(bus);
      if (err !== 0) break;
    }
    if (err !== 0) this.iommuDeviceUnregister(iommu);
    else iommu.ready = true;
    return err;
  }

  /** iommu_device_unregister(): release the devices it probed and forget it. */
  iommuDeviceUnregister(iommu: IommuDevice): void {
    for (const bus of this.buses) {
      const devs: Device[] = [];
      bus.forEachDevice((dev) => {
        if (dev.getSlot(DEV_IOMMU_SLOT)?.iommuDev === iommu) devs.push(dev);
        return 0;
      });
      for (const dev of devs) this.iommuReleaseDevice(dev);
    }
    const i = this.iommuList.indexOf(iommu);
    if (i >= 0) this.iommuList.splice(i, 1);
    if (iommu.singletonGroup !== null) {
      this.iommuGroupPut(iommu.singletonGroup);
      iommu.singletonGroup = null;
    }
  }

  /** iommu_from_fwnode(). */
  iommuFromFwnode(fwnode: string): IommuDevice | null {
    return this.iommuList.find((i) => i.fwnode === fwnode) ?? null;
  }

  /** iommu_ops_from_fwnode(). */
  iommuOpsFromFwnode(fwnode: string): IommuOps | null {
    return this.iommuFromFwnode(fwnode)?.ops ?? null;
  }

  get iommus(): readonly IommuDevice[] {
    return this.iommuList;
  }

  /** Groups that currently exist, by id. */
  get groups(): IommuGroup[] {
    return [...this.liveGroups].sort((a, b) => a.id - b.id);
  }

  /** The ops that handle `dev`: its probed instance, its fwspec, or its bus's (2015). */
  devIommuOps(dev: Device): IommuOps | null {
    const param = dev.getSlot(DEV_IOMMU_SLOT);
    return param?.iommuDev?.ops ?? param?.fwspec?.ops ?? this.busOpsFor(dev);
  }

  /** The IOMMU instance that claimed `dev`, if any. */
  devIommuDevice(dev: Device): IommuDevice | null {
    return dev.getSlot(DEV_IOMMU_SLOT)?.iommuDev ?? null;
  }

  private busOpsFor(dev: Device): IommuOps | null {
    const name = dev.bus?.name;
    return name === undefined ? null : (this.busOps.get(name)?.ops ?? null);
  }

  // ---------------------------------------------------------------------------------------------
  // fwspec and OF configuration

  /** iommu_fwspec_init(): bind `dev` to the IOMMU named by `fwnode`. */
  iommuFwspecInit(dev: Device, fwnode: string): number {
    const iommu = this.iommuFromFwnode(fwnode);
    if (iommu === null) return this.deferredProbeCheckState(dev);
    if (dev.getSlot(DEV_IOMMU_SLOT) === undefined && !iommu.ready) return -EPROBE_DEFER;
    const fwspec = devIommuFwspecGet(dev);
    if (fwspec !== null) return fwspec.ops === iommu.ops ? 0 : -EINVAL;
    devIommuGet(dev).fwspec = { iommuFwnode: fwnode, ops: iommu.ops, ids: [] };
    return 0;
  }

  private ofIommuXlate(dev: Device, node: string, args: readonly number[]): number {
    const ops = this.iommuOpsFromFwnode(node);
    if (ops !== null && ops.ofXlate === undefined) return -ENODEV;
    const ret = this.iommuFwspecInit(dev, node);
    if (ret !== 0) return ret;
    if (ops === null) return this.deferredProbeCheckState(dev);
    return ops.ofXlate ? ops.ofXlate(dev, { node, args }) : -ENODEV;
  }

  /** Builds the device's fwspec from `iommus` or, for PCI, the host bridge's `iommu-map`. */
  private ofIommuConfigureDevice(dev: Device): number {
    const pdev = this.pci?.lookup(dev) ?? null;
    if (pdev !== null) {
      const np = this.pci?.hostBridgeNode?.(dev) ?? null;
      if (np === null || !np.has('iommu-map')) return -ENODEV;
      const mapErr = np.readError('iommu-map') ?? 0; // a malformed map fails to parse (-EINVAL)
      if (mapErr !== 0) return mapErr;
      // Every requester id the device's DMA may carry gets its own stream id.
      return pciForEachDmaAlias(pdev, (_fn, alias) => {
        const m = ofMapId(np, alias, this.log);
        if (m.ret !== 0) return m.ret;
        if (m.target === null) return -ENODEV;
        return this.ofIommuXlate(dev, m.target, [m.idOut]);
      });
    }
    const parseErr = dev.fwnode.readError('iommus') ?? 0; // of_parse_phandle_with_args on malformed cells: -EINVAL
    if (parseErr !== 0) return parseErr;
    const specs = dev.fwnode.get('iommus');
    if (specs === undefined || specs.length === 0) return -ENODEV;
    for (const spec of specs) {
      const err = this.ofIommuXlate(dev, spec.node, spec.args);
      if (err !== 0) return err;
    }
    return 0;
  }

  /**
   * of_iommu_configure(): give `dev` its fwspec and probe it into the IOMMU core. Returns 0,
   * -ENODEV when no IOMMU is described, -EPROBE_DEFER while the named IOMMU is not registered.
   */
  ofIommuConfigure(dev: Device): number {
    if (devIommuFwspecGet(dev) !== null) return 0;
    let err = this.ofIommuConfigureDevice(dev);
    if (err !== 0) iommuFwspecFree(dev);
    if (err === 0 && dev.bus !== null) err = this.iommuProbeDevice(dev);
    if (err !== 0 && err !== -EPROBE_DEFER) this.log.devDbg(dev, `Adding to IOMMU failed: ${err}`);
    return err;
  }

  /**
   * The IOMMU part of of_dma_configure(), usable as the bus `dmaConfigure` hook: defers the probe
   * while the IOMMU is missing, otherwise carries on (with or without an IOMMU).
   */
  iommuDmaConfigure(dev: Device): number {
    const ret = this.ofIommuConfigure(dev);
    if (ret === -EPROBE_DEFER) return ret;
    if (ret === -ENODEV) this.log.devDbg(dev, 'device is not behind an iommu');
    else if (ret !== 0) this.log.devErr(dev, `iommu configuration for device failed with -${errnoName(ret)}`);
    return 0;
  }

  /**
   * 2015 of_iommu_configure(): parse `iommus` through the driver's ofXlate and return the ops for
   * arch_setup_dma_ops, or null. No probing: the device is not on its bus yet.
   */
  ofIommuConfigureLegacy(dev: Device): IommuOps | null {
    const specs = dev.fwnode.get('iommus');
    if (specs === undefined || specs.length === 0) return null;
    let result: IommuOps | null = null;
    for (const spec of specs) {
      const iommu = this.iommuFromFwnode(spec.node);
      if (iommu === null || iommu.ops.ofXlate === undefined) return null;
      const param = devIommuGet(dev);
      if (param.fwspec === null) param.fwspec = { iommuFwnode: spec.node, ops: iommu.ops, ids: [] };
      if (iommu.ops.ofXlate(dev, spec) !== 0) return null;
      result = iommu.ops;
    }
    return result;
  }

  // ---------------------------------------------------------------------------------------------
  // Per-device probe (later kernels)

  /** iommu_probe_device(): 0 when the device is in a group (now or already), else -errno. */
  iommuProbeDevice(dev: Device): number {
    const ret = this.probeDeviceInto(dev, null);
    if (ret !== 0) return ret;
    this.devIommuOps(dev)?.probeFinalize?.(dev);
    return 0;
  }

  private initDevice(dev: Device): number {
    const param = devIommuGet(dev);
    // The firmware parsing lives in the dma_configure path; run it here for devices not bound yet.
    if (param.fwspec === null && dev.driver === null) {
      if (this.ofIommuConfigureDevice(dev) !== 0) iommuFwspecFree(dev);
    }
    const ops = param.fwspec?.ops ?? null;
    if (ops === null || ops.probeDevice === undefined) {
      devIommuFree(dev);
      return -ENODEV;
    }
    const iommuDev = ops.probeDevice(dev);
    if (typeof iommuDev === 'number') {
      devIommuFree(dev);
      return iommuDev < 0 ? iommuDev : -ENODEV;
    }
    param.iommuDev = iommuDev;
    const group = ops.deviceGroup ? ops.deviceGroup(dev) : this.genericDeviceGroup(dev);
    if (typeof group === 'number') {
      ops.releaseDevice?.(dev);
      param.iommuDev = null;
      devIommuFree(dev);
      return group < 0 ? group : -EINVAL;
    }
    dev.setSlot(DEV_IOMMU_GROUP_SLOT, group);
    return 0;
  }

  private probeDeviceInto(dev: Device, groupList: IommuGroup[] | null): number {
    if (dev.getSlot(DEV_IOMMU_GROUP_SLOT) !== undefined) return 0;
    const ret = this.initDevice(dev);
    if (ret !== 0) return ret;
    const group = dev.getSlot(DEV_IOMMU_GROUP_SLOT) as IommuGroup;
    if (dev.driver !== null) this.log.warn('drivers/iommu/iommu.c __iommu_probe_device', `late IOMMU probe at driver bind, something fishy here!`, dev); // dev_WARN: driver (or bus) and device name
    group.devices.push(dev);
    this.logGroupAdd(dev, group);
    let err = 0;
    if (group.domain !== null) {
      err = this.attachOne(group.domain, dev);
    } else if (group.defaultDomain === null && groupList === null) {
      err = this.iommuSetupDefaultDomain(group);
    } else if (group.defaultDomain === null && !group.pendingDefaultDomain) {
      // bus_iommu_probe sets every group up once all its devices are in.
      group.pendingDefaultDomain = true;
      groupList?.push(group);
    }
    if (err !== 0) {
      this.removeFromGroup(dev, group, false);
      this.deinitDevice(dev, group);
      this.iommuGroupPut(group);
      return err;
    }
    return 0;
  }

  /** bus_iommu_probe(): probe every device on `bus`, then set up the new groups' default domains. */
  busIommuProbe(bus: BusNotifierHost): number {
    const groupList: IommuGroup[] = [];
    const ret = bus.forEachDevice((dev) => {
      const r = this.probeDeviceInto(dev, groupList);
      return r === -ENODEV ? 0 : r;
    });
    if (ret !== 0) return ret;
    for (const group of groupList) {
      group.pendingDefaultDomain = false;
      const err = this.iommuSetupDefaultDomain(group);
      if (err !== 0) return err;
      for (const dev of group.devices) this.devIommuOps(dev)?.probeFinalize?.(dev);
    }
    return 0;
  }

  /** iommu_release_device(): take `dev` out of its group and let its driver forget it. */
  iommuReleaseDevice(dev: Device): void {
    const group = dev.getSlot(DEV_IOMMU_GROUP_SLOT);
    if (group !== undefined) {
      this.removeFromGroup(dev, group, false);
      if (dev.getSlot(DEV_IOMMU_SLOT)?.iommuDev) this.deinitDevice(dev, group);
      else dev.clearSlot(DEV_IOMMU_GROUP_SLOT);
      this.iommuGroupPut(group);
    }
    if (dev.getSlot(DEV_IOMMU_SLOT) !== undefined) devIommuFree(dev);
  }

  private deinitDevice(dev: Device, group: IommuGroup): void {
    const ops = this.devIommuOps(dev);
    ops?.releaseDevice?.(dev);
    if (group.devices.length === 0) this.dropGroupDomains(group);
    dev.clearSlot(DEV_IOMMU_GROUP_SLOT);
    devIommuFree(dev);
  }

  private dropGroupDomains(group: IommuGroup): void {
    if (group.defaultDomain !== null) this.putDefaultDomain(group.defaultDomain);
    if (group.blockingDomain !== null) this.iommuDomainFree(group.blockingDomain);
    group.defaultDomain = null;
    group.blockingDomain = null;
    group.domain = null;
  }

  // ---------------------------------------------------------------------------------------------
  // 2015: per-bus ops

  /**
   * bus_set_iommu(): set the IOMMU ops of `bus` (once: -EBUSY after), register the core's bus
   * notifier at priority 0 and offer the devices already on the bus to `ops.addDevice`.
   */
  busSetIommu(bus: BusNotifierHost, ops: IommuOps): number {
    if (this.busOps.has(bus.name)) return -EBUSY;
    const nb: BusNotifierBlock = {
      name: 'iommu_bus_notifier',
      priority: IOMMU_BUS_NOTIFY_PRIORITY,
      notifierCall: (action, dev) => this.legacyBusNotifier(ops, action, dev),
    };
    this.busOps.set(bus.name, { bus, ops, nb });
    let err = bus.registerNotifier(nb);
    if (err !== 0) return err;
    err = bus.forEachDevice((dev) => {
      if (ops.addDevice === undefined) return 0;
      if (dev.getSlot(DEV_IOMMU_GROUP_SLOT) !== undefined) this.log.warn('drivers/iommu/iommu.c add_iommu_group');
      const ret = ops.addDevice(dev);
      // -ENODEV only says the device is not behind this IOMMU.
      return ret === -ENODEV ? 0 : ret;
    });
    if (err !== 0) {
      bus.forEachDevice((dev) => {
        if (ops.removeDevice && dev.getSlot(DEV_IOMMU_GROUP_SLOT) !== undefined) ops.removeDevice(dev);
        return 0;
      });
      bus.unregisterNotifier(nb);
    }
    return err;
  }

  /** The ops `busSetIommu` set for a bus, if any (bus->iommu_ops). */
  busIommuOps(bus: BusNotifierHost | string): IommuOps | null {
    return this.busOps.get(typeof bus === 'string' ? bus : bus.name)?.ops ?? null;
  }

  /**
   * The 2015 iommu_bus_notifier. Like the kernel of the time it returns `addDevice`'s result
   * as the notifier value: a negative errno has NOTIFY_STOP_MASK set, so it ends the chain.
   */
  private legacyBusNotifier(ops: IommuOps, action: BusNotifyAction, dev: Device): number {
    if (action === 'ADD_DEVICE') return ops.addDevice ? ops.addDevice(dev) : NOTIFY_DONE;
    if (action === 'DEL_DEVICE') {
      if (ops.removeDevice && dev.getSlot(DEV_IOMMU_GROUP_SLOT) !== undefined) ops.removeDevice(dev);
      return NOTIFY_DONE;
    }
    return NOTIFY_DONE;
  }

  // ---------------------------------------------------------------------------------------------
  // Groups

  /** iommu_group_alloc(): a new group holding one reference for the caller. */
  iommuGroupAlloc(): IommuGroup {
    const group = new IommuGroup(this.groupIds.alloc());
    this.liveGroups.add(group);
    this.log.debug(`iommu: Allocated group ${group.id}`);
    return group;
  }

  /** iommu_group_get(): the device's group with a new reference, or null. */
  iommuGroupGet(dev: Device): IommuGroup | null {
    const group = dev.getSlot(DEV_IOMMU_GROUP_SLOT) ?? null;
    if (group !== null) group.refs++;
    return group;
  }

  /** iommu_group_ref_get(). */
  iommuGroupRefGet(group: IommuGroup): IommuGroup {
    group.refs++;
    return group;
  }

  /** iommu_group_put(): drop a reference; the last one releases the group and its id. */
  iommuGroupPut(group: IommuGroup | null): void {
    if (group === null) return;
    group.refs--;
    if (group.refs > 0) return;
    this.log.debug(`iommu: Releasing group ${group.id}`);
    if (group.defaultDomain !== null || group.blockingDomain !== null) {
      this.log.warn('drivers/iommu/iommu.c iommu_group_release');
      this.dropGroupDomains(group);
    }
    this.groupIds.free(group.id);
    this.liveGroups.delete(group);
  }

  /** iommu_group_id(). */
  iommuGroupId(group: IommuGroup): number {
    return group.id;
  }

  /** The device's group without taking a reference (dev->iommu_group). */
  devIommuGroup(dev: Device): IommuGroup | null {
    return dev.getSlot(DEV_IOMMU_GROUP_SLOT) ?? null;
  }

  private logGroupAdd(dev: Device, group: IommuGroup): void {
    if (this.profile === 'linux-4.2') this.log.info(`iommu: Adding device ${dev.name} to group ${group.id}`);
    else this.log.devInfo(dev, `Adding to iommu group ${group.id}`);
  }

  /**
   * iommu_group_add_device(): a driver puts `dev` in `group` (taking a reference). In the
   * linux-4.2 profile the device is attached to the group's current domain at once.
   */
  iommuGroupAddDevice(group: IommuGroup, dev: Device): number {
    group.refs++;
    dev.setSlot(DEV_IOMMU_GROUP_SLOT, group);
    group.devices.push(dev);
    if (this.profile === 'linux-4.2' && group.domain !== null) this.attachOne(group.domain, dev);
    this.logGroupAdd(dev, group);
    return 0;
  }

  /** iommu_group_remove_device(). */
  iommuGroupRemoveDevice(dev: Device): void {
    const group = dev.getSlot(DEV_IOMMU_GROUP_SLOT);
    if (group === undefined) return;
    if (this.profile === 'linux-4.2') this.log.info(`iommu: Removing device ${dev.name} from group ${group.id}`);
    else this.log.devInfo(dev, `Removing from iommu group ${group.id}`);
    this.removeFromGroup(dev, group, true);
    dev.clearSlot(DEV_IOMMU_GROUP_SLOT);
    this.iommuGroupPut(group);
  }

  private removeFromGroup(dev: Device, group: IommuGroup, detach: boolean): void {
    const i = group.devices.indexOf(dev);
    if (i < 0) return;
    if (detach && group.domain?.ops.detachDev) group.domain.ops.detachDev(group.domain, dev);
    group.devices.splice(i, 1);
  }

  /** generic_device_group(): one group per device. */
  genericDeviceGroup(_dev: Device): IommuGroup {
    return this.iommuGroupAlloc();
  }

  /** generic_single_device_group(): one group for every device of the instance. */
  genericSingleDeviceGroup(dev: Device): IommuGroup | number {
    const iommu = this.devIommuDevice(dev);
    if (iommu === null) return -ENODEV;
    iommu.singletonGroup ??= this.iommuGroupAlloc();
    return this.iommuGroupRefGet(iommu.singletonGroup);
  }

  /** pci_device_group(): group by requester id, DMA aliases and ACS isolation. */
  pciDeviceGroup(dev: Device): IommuGroup | number {
    if (this.pci === null) return -EINVAL;
    return pciDeviceGroup(this, this.pci, dev);
  }

  /**
   * iommu_group_get_for_dev() (2015; drivers call it from addDevice): find or make the group,
   * give it a DMA default domain if the driver can allocate one, and add the device. The caller
   * owns one reference on the returned group. In the linux-4.2 profile only PCI devices can be
   * grouped here (-EINVAL for the rest: their drivers made groups themselves).
   */
  iommuGroupGetForDev(dev: Device): IommuGroup | number {
    const existing = this.iommuGroupGet(dev);
    if (existing !== null) return existing;
    const ops = this.devIommuOps(dev);
    const isPci = this.pci?.lookup(dev) != null;
    let group: IommuGroup | number = -EINVAL;
    if (this.profile === 'linux-4.2') {
      if (isPci) group = this.pciDeviceGroup(dev);
    } else if (ops?.deviceGroup) {
      group = ops.deviceGroup(dev);
    } else {
      group = isPci ? this.pciDeviceGroup(dev) : this.genericDeviceGroup(dev);
    }
    if (typeof group === 'number') return group;
    if (group.defaultDomain === null && ops !== null) {
      group.defaultDomain = this.allocSharedOrOwn(ops, this.devIommuDevice(dev), 'DMA');
      group.domain ??= group.defaultDomain;
    }
    const ret = this.iommuGroupAddDevice(group, dev);
    if (ret !== 0) {
      this.iommuGroupPut(group);
      return ret;
    }
    return group;
  }

  // ---------------------------------------------------------------------------------------------
  // Domains

  private domainInit(domain: IommuDomain, type: IommuDomainType, ops: IommuOps): IommuDomain {
    domain.type = type;
    domain.owner = ops;
    domain.log = this.log;
    domain.events = this.events;
    if (domain.pgsizeBitmap === 0) domain.pgsizeBitmap = ops.pgsizeBitmap;
    return domain;
  }

  private allocOfType(ops: IommuOps, type: IommuDomainType): IommuDomain | null {
    let domain = ops.domainAlloc(type);
    // Drivers that only know DMA get a flush-queue domain by retagging (the kernel allocates a
    // paging domain and sets the type itself).
    if (domain === null && type === 'DMA_FQ') domain = ops.domainAlloc('DMA');
    return domain === null ? null : this.domainInit(domain, type, ops);
  }

  /** A default DMA domain: the instance's shared one under the per-iommu policy, else a new one. */
  private allocSharedOrOwn(ops: IommuOps, iommu: IommuDevice | null, type: IommuDomainType): IommuDomain | null {
    if (this.policy === 'per-iommu' && iommu !== null && isDmaDomainType(type)) {
      const s = this.shared.get(iommu);
      if (s !== undefined && s.domain.type === type) {
        s.users++;
        return s.domain;
      }
      const domain = this.allocOfType(ops, type);
      if (domain !== null) this.shared.set(iommu, { domain, users: 1 });
      return domain;
    }
    return this.allocOfType(ops, type);
  }

  private putDefaultDomain(domain: IommuDomain): void {
    for (const [iommu, s] of this.shared) {
      if (s.domain !== domain) continue;
      if (--s.users > 0) return;
      this.shared.delete(iommu);
      break;
    }
    this.iommuDomainFree(domain);
  }

  /** The shared default domain of an instance under the per-iommu policy. */
  sharedDefaultDomain(iommu: IommuDevice): IommuDomain | null {
    return this.shared.get(iommu)?.domain ?? null;
  }

  /** iommu_domain_alloc(bus) (2015 API): an UNMANAGED domain from the bus's ops, or null. */
  iommuDomainAlloc(bus: BusNotifierHost | string): IommuDomain | null {
    const ops = this.busIommuOps(bus);
    return ops === null ? null : this.allocOfType(ops, 'UNMANAGED');
  }

  /** iommu_paging_domain_alloc(dev): an UNMANAGED domain from the device's IOMMU, or -errno. */
  iommuPagingDomainAlloc(dev: Device): IommuDomain | number {
    const ops = this.devIommuOps(dev);
    if (ops === null) return -ENODEV;
    return this.allocOfType(ops, 'UNMANAGED') ?? -ENOMEM;
  }

  /** iommu_domain_free(): release the cookie, then the driver's state. */
  iommuDomainFree(domain: IommuDomain): void {
    if (domain.freed) return;
    if (domain.cookieRelease !== null) domain.cookieRelease(domain);
    domain.clearCookie();
    domain.ops.free?.(domain);
    domain.freed = true;
  }

  /** Combines the drivers' defDomainType over the group (iommu_get_default_domain_type). */
  private groupDefDomainType(group: IommuGroup): IommuDomainType | 0 {
    let cur: IommuDomainType | 0 = 0;
    for (const dev of group.devices) {
      const type = this.devIommuOps(dev)?.defDomainType?.(dev) ?? 0;
      if (type === 0 || cur === type) continue;
      if (cur === 0) {
        cur = type;
        continue;
      }
      this.log.ratelimited(
        'iommu_get_def_domain_type',
        'err',
        `${dev.driverName ?? dev.busName ?? ''} ${dev.name}: IOMMU driver error, requesting conflicting def_domain_type, ${iommuDomainTypeStr(cur)} and ${iommuDomainTypeStr(type)}, for devices in group ${group.id}.`.trimStart(),
      );
      if (type === 'IDENTITY') cur = type;
    }
    return cur;
  }

  /**
   * iommu_setup_default_domain(): pick the type (driver's wish, else the machine default, falling
   * back to DMA), allocate it (shared per instance under the per-iommu policy) and attach the group.
   */
  iommuSetupDefaultDomain(group: IommuGroup): number {
    const first = group.devices[0];
    if (first === undefined) return -EINVAL;
    const ops = this.devIommuOps(first);
    if (ops === null) return -ENODEV;
    const iommu = this.devIommuDevice(first);
    const reqType = this.groupDefDomainType(group);
    let dom: IommuDomain | null;
    if (reqType !== 0) {
      dom = this.allocSharedOrOwn(ops, iommu, reqType);
    } else {
      dom = this.allocSharedOrOwn(ops, iommu, this.defDomainType);
      if (dom === null && this.defDomainType !== 'DMA') {
        dom = this.allocSharedOrOwn(ops, iommu, 'DMA');
        if (dom !== null) {
          this.log.warning(
            `iommu: Failed to allocate default IOMMU domain of type ${DOMAIN_TYPE_NUMBER[this.defDomainType]} for group ${group.name ?? '(null)'} - Falling back to IOMMU_DOMAIN_DMA`,
          );
        }
      }
    }
    if (dom === null) return reqType !== 0 ? -EINVAL : -ENOMEM;
    const old = group.defaultDomain;
    const firstAttach = group.domain === null;
    group.defaultDomain = dom;
    const ret = this.groupSetDomain(group, dom);
    if (ret !== 0) {
      // drivers may not fail the first attach of a default domain (IOMMU_SET_DOMAIN_MUST_SUCCEED):
      // iommu_setup_default_domain's WARN_ON(ret), at device add and again at bind
      if (firstAttach && this.profile === 'linux-6.x') this.log.warn('drivers/iommu/iommu.c iommu_setup_default_domain');
      group.defaultDomain = old;
      this.putDefaultDomain(dom);
      return ret;
    }
    if (old !== null && old !== dom) this.putDefaultDomain(old);
    return 0;
  }

  // ---------------------------------------------------------------------------------------------
  // Attach

  private attachOne(domain: IommuDomain, dev: Device): number {
    domain.log ??= this.log;
    domain.events ??= this.events;
    const ret = domain.ops.attachDev(domain, dev);
    if (ret !== 0) return ret;
    if (this.events.listenerCount('attach') > 0) this.events.emit('attach', { domain, device: dev });
    const param = dev.getSlot(DEV_IOMMU_SLOT);
    if (param) param.attachDeferred = false;
    return 0;
  }

  /** __iommu_group_set_domain(): attach every device, reverting all of them if one fails. */
  private groupSetDomain(group: IommuGroup, domain: IommuDomain): number {
    if (group.domain === domain) return 0;
    for (let i = 0; i < group.devices.length; i++) {
      const ret = this.attachOne(domain, group.devices[i] as Device);
      if (ret === 0) continue;
      const prev = group.domain;
      if (prev !== null) for (let j = 0; j <= i; j++) this.attachOne(prev, group.devices[j] as Device);
      return ret;
    }
    group.domain = domain;
    return 0;
  }

  private attachGroupChecked(domain: IommuDomain, group: IommuGroup): number {
    if (group.domain !== null && group.domain !== group.defaultDomain && group.domain !== group.blockingDomain) return -EBUSY;
    const first = group.devices[0];
    if (first === undefined) return -EINVAL;
    const ops = this.devIommuOps(first);
    if (ops === null || (domain.owner !== null && domain.owner !== ops)) return -EINVAL;
    return this.groupSetDomain(group, domain);
  }

  /**
   * iommu_attach_device(): attach the group of `dev` to `domain`, refused (-EINVAL) when the group
   * holds other devices too, -EBUSY when a non-default domain is attached already, -ENODEV without
   * a group (the linux-4.2 profile attaches a group-less device directly, as the kernel then did).
   */
  iommuAttachDevice(domain: IommuDomain, dev: Device): number {
    const group = dev.getSlot(DEV_IOMMU_GROUP_SLOT);
    if (group === undefined) return this.profile === 'linux-4.2' ? this.attachOne(domain, dev) : -ENODEV;
    if (group.devices.length !== 1) return -EINVAL;
    return this.attachGroupChecked(domain, group);
  }

  /** iommu_detach_device(): back to the default (core-owned) domain. */
  iommuDetachDevice(domain: IommuDomain, dev: Device): void {
    const group = dev.getSlot(DEV_IOMMU_GROUP_SLOT);
    if (group === undefined) {
      domain.ops.detachDev?.(domain, dev);
      return;
    }
    if (domain !== group.domain || group.devices.length !== 1) {
      this.log.warn('drivers/iommu/iommu.c iommu_detach_device');
      return;
    }
    this.setCoreDomain(group);
  }

  /** iommu_attach_group(). */
  iommuAttachGroup(domain: IommuDomain, group: IommuGroup): number {
    return this.attachGroupChecked(domain, group);
  }

  /** iommu_detach_group(). */
  iommuDetachGroup(_domain: IommuDomain, group: IommuGroup): void {
    this.setCoreDomain(group);
  }

  private setCoreDomain(group: IommuGroup): void {
    const target = group.defaultDomain;
    if (target === null) {
      // No default domain (2015 platform groups): the devices are simply detached.
      const cur = group.domain;
      if (cur !== null) for (const dev of group.devices) cur.ops.detachDev?.(cur, dev);
      group.domain = null;
      return;
    }
    if (this.groupSetDomain(group, target) !== 0) this.log.warn('drivers/iommu/iommu.c __iommu_group_set_domain_nofail');
  }

  /** iommu_get_domain_for_dev(): the domain the device is attached to now. */
  iommuGetDomainForDev(dev: Device): IommuDomain | null {
    return dev.getSlot(DEV_IOMMU_GROUP_SLOT)?.domain ?? null;
  }

  /** iommu_get_dma_domain(): the device's default (DMA API) domain. */
  iommuGetDmaDomain(dev: Device): IommuDomain | null {
    return dev.getSlot(DEV_IOMMU_GROUP_SLOT)?.defaultDomain ?? null;
  }

  /** device_iommu_capable(). */
  deviceIommuCapable(dev: Device, cap: IommuCap): boolean {
    const ops = this.devIommuOps(dev);
    return ops?.capable?.(dev, cap) ?? false;
  }
}
