import {
  EBUSY,
  EEXIST,
  EINVAL,
  ENODEV,
  ENOMEM,
  ENXIO,
  EPROBE_DEFER,
  ETIMEDOUT,
  EventEmitter,
  errnoName,
  type InitcallLevel,
  type KernelLog,
  type Scheduler,
} from '@dmasim/core';
import {
  BUS_NOTIFY_ADD_DEVICE,
  BUS_NOTIFY_BIND_DRIVER,
  BUS_NOTIFY_BOUND_DRIVER,
  BUS_NOTIFY_DEL_DEVICE,
  BUS_NOTIFY_DRIVER_NOT_BOUND,
  BUS_NOTIFY_REMOVED_DEVICE,
  BUS_NOTIFY_UNBIND_DRIVER,
  BUS_NOTIFY_UNBOUND_DRIVER,
  type BusNotifierBlock,
  type BusNotifyAction,
  BusType,
  busNotifyName,
} from './bus-type';
import { DeferredProbe, type DeferredProbeOptions } from './deferred';
import type { Device } from './device';
import type { DeviceDriver } from './driver';
import type { DeferSource, DriverCoreEvents } from './events';
import { HookList, type ConfigureHook, type TeardownHook } from './hooks';
import { NotifierChain, type NotifierCallRecord } from './notifier';

export interface DriverCoreOptions {
  readonly deferredProbe?: DeferredProbeOptions;
  /** Probe drivers without a forced type asynchronously (the `driver_async_probe=*` parameter). */
  readonly asyncProbe?: boolean;
  /** Print dev_dbg / pr_debug lines (dynamic debug on). Off by default, as in a production kernel. */
  readonly debug?: boolean;
  /** Queue `deferred_probe_initcall` at the late initcall level (default true). */
  readonly queueLateInitcall?: boolean;
}

/** Scheduler decision points of the driver core. */
export const DEVICE_ADD_POINT = 'device-add';
export const ASYNC_PROBE_POINT = 'async-probe';

/** Host-level misuse of the driver core (a device on a bus that was never registered, ...). */
export class DriverCoreError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'DriverCoreError';
  }
}

interface AsyncWork {
  readonly dev: Device;
  /** null: __device_attach_async_helper (try every async driver); else __driver_attach_async_helper. */
  readonly drv: DeviceDriver | null;
}

/**
 * drivers/base of one machine: the buses, device add and removal, driver registration, the probe
 * path with its DMA-configure hooks, deferred and asynchronous probe, and the bus notifiers, each
 * at the point where the kernel calls them. Every ordering choice is a scheduler decision.
 */
export class DriverCore extends EventEmitter<DriverCoreEvents> {
  readonly buses = new Map<string, BusType>();
  /** Every registered device by dev_name (the devices kset). */
  readonly devices = new Map<string, Device>();
  readonly deferred: DeferredProbe;
  /** bus->dma_configure, filled by higher layers (OF/IORT DMA setup, IOMMU probe). Runs before BIND_DRIVER. */
  readonly dmaConfigure = new HookList<ConfigureHook>('dma_configure');
  /** bus->dma_cleanup: undoes the default-domain claim when a bound or binding driver goes away. */
  readonly dmaCleanup = new HookList<TeardownHook>('dma_cleanup');
  /** arch_teardown_dma_ops / dma_deconfigure: on every unbind and every probe failure after configure. */
  readonly dmaDeconfigure = new HookList<TeardownHook>('dma_deconfigure');
  /**
   * DMA setup at device creation, before the device is on its bus: the 2015 of_platform path
   * (of_dma_configure called from of_platform_device_create_pdata). See `createAndAddDevice`.
   */
  readonly deviceCreate = new HookList<TeardownHook>('of_dma_configure at creation');
  /** of_dma_deconfigure: undoes `deviceCreate` when adding the created device fails. */
  readonly deviceCreateUndo = new HookList<TeardownHook>('of_dma_deconfigure');
  /** defer_all_probes (device_block_probing). */
  deferAllProbes = false;
  private readonly bound = new Map<DeviceDriver, Set<Device>>();
  private asyncQueue: AsyncWork[] = [];
  private asyncEvent: { cancel(): void } | null = null;
  private readonly asyncPending = new Set<Device>();
  private readonly deferSource = new Map<Device, DeferSource>();
  private readonly debug: boolean;
  private readonly asyncByDefault: boolean;
  /** The bus busOf last found registered (most devices of a machine sit on one bus). */
  private lastBus: BusType | null = null;

  constructor(
    readonly log: KernelLog,
    readonly sched: Scheduler,
    options: DriverCoreOptions = {},
  ) {
    super();
    this.debug = options.debug ?? false;
    this.asyncByDefault = options.asyncProbe ?? false;
    this.deferred = new DeferredProbe(sched, log, {
      reprobe: (dev) => this.busProbeDevice(dev),
      dbg: (dev, text) => this.dbg(dev, text),
      timedOut: (dev) => {
        dev.state = 'failed';
        dev.probeError = -ETIMEDOUT;
        this.emit('deferredTimeout', { device: dev, reason: dev.deferredProbeReason });
      },
    }, options.deferredProbe);
    if (options.queueLateInitcall ?? true) {
      sched.queueInitcall('late', 'deferred_probe_initcall', () => this.deferredProbeInitcall());
    }
  }

  // ---- buses and notifiers --------------------------------------------------------------------

  /** bus_register: 0, or -EEXIST when a bus of that name exists. */
  registerBus(bus: BusType): number {
    if (this.buses.has(bus.name)) return -EEXIST;
    this.buses.set(bus.name, bus);
    bus.notifier.observer = (r) => this.reportNotifierCall(r);
    return 0;
  }

  bus(name: string): BusType | undefined {
    return this.buses.get(name);
  }

  private busOf(dev: Device): BusType | null {
    const ref = dev.bus;
    if (ref === null) return null;
    // buses are never unregistered, so one found registered once stays so
    if (ref === this.lastBus) return this.lastBus;
    const bus = this.buses.get(ref.name);
    if (bus === undefined || bus !== ref) {
      throw new DriverCoreError(`device ${dev.name} is on bus '${ref.name}', which is not registered with this machine's driver core`);
    }
    this.lastBus = bus;
    return bus;
  }

  /** bus_notify: calls the device's bus notifier chain. */
  busNotify(dev: Device, action: BusNotifyAction): void {
    const bus = dev.bus;
    if (bus instanceof BusType) bus.notifier.call(action, dev);
  }

  /**
   * Offers BUS_NOTIFY_ADD_DEVICE to one callback for every device already on the bus, in bus
   * order. The kernel never does this on registration (that is what makes late notifiers miss
   * devices); subsystems that need it do it by hand, as this helper does. Returns how many devices.
   */
  replayAddDevice(bus: BusType, block: BusNotifierBlock): number {
    const chain = new NotifierChain<Device>(`${bus.name} bus notifier (replay)`, { log: this.log, observer: (r) => this.reportNotifierCall(r) });
    chain.register(block);
    const devs = [...bus.devices];
    for (const d of devs) chain.call(BUS_NOTIFY_ADD_DEVICE, d);
    return devs.length;
  }

  private reportNotifierCall(r: NotifierCallRecord<Device>): void {
    if (this.listenerCount('notifierCalled') === 0) return;
    this.emit('notifierCalled', {
      chain: r.chain,
      callback: r.callback,
      priority: r.priority,
      action: r.action,
      actionName: busNotifyName(r.action),
      device: r.data.name,
      result: r.result,
      ...(r.error === undefined ? {} : { error: r.error }),
    });
  }

  // ---- devices --------------------------------------------------------------------------------

  /** device_add: register, ADD_DEVICE notifiers, then probe. Returns 0 or a negative errno. */
  deviceAdd(dev: Device): number {
    const bus = this.busOf(dev);
    if (this.devices.has(dev.name)) {
      this.log.err(`sysfs: cannot create duplicate filename '/devices/${dev.parent ? `${dev.parent.name}/` : ''}${dev.name}'`);
      return -EEXIST;
    }
    this.devices.set(dev.name, dev);
    dev.dead = false;
    dev.state = 'added';
    bus?.devices.add(dev);
    if (this.listenerCount('deviceAdded') > 0) this.emit('deviceAdded', { device: dev, bus: bus?.name ?? null });
    if (bus !== null) {
      bus.notifier.call(BUS_NOTIFY_ADD_DEVICE, dev);
      this.busProbeDevice(dev);
    }
    return 0;
  }

  /**
   * of_platform_device_create_pdata as in 2015: the `deviceCreate` hooks run first (the device is
   * not on its bus yet, has no IOMMU group, no notifier has seen it), then deviceAdd; if the add
   * fails the `deviceCreateUndo` hooks run.
   */
  createAndAddDevice(dev: Device): number {
    this.runTeardown(this.deviceCreate, dev);
    const ret = this.deviceAdd(dev);
    if (ret !== 0) this.runTeardown(this.deviceCreateUndo, dev);
    return ret;
  }

  /** device_register is device_initialize + device_add; here the same as deviceAdd. */
  deviceRegister(dev: Device): number {
    return this.deviceAdd(dev);
  }

  /** device_del: DEL_DEVICE, unbind, leave the deferred list, REMOVED_DEVICE. */
  deviceDel(dev: Device): void {
    if (this.devices.get(dev.name) !== dev) return;
    const bus = this.busOf(dev);
    dev.dead = true;
    if (bus !== null) {
      bus.notifier.call(BUS_NOTIFY_DEL_DEVICE, dev);
      bus.devices.delete(dev);
      this.deviceReleaseDriver(dev);
    }
    this.deferred.del(dev);
    this.asyncPending.delete(dev);
    if (bus !== null) bus.notifier.call(BUS_NOTIFY_REMOVED_DEVICE, dev);
    this.devices.delete(dev.name);
    dev.state = 'removed';
    this.emit('deviceRemoved', { device: dev, bus: bus?.name ?? null });
  }

  deviceUnregister(dev: Device): void {
    this.deviceDel(dev);
  }

  /**
   * Adds devices that are ready together (one firmware population pass) in the order the scheduler
   * decides at `point`, parents before their children. Returns the number that failed to add.
   */
  addDevices(devs: readonly Device[], point: string = DEVICE_ADD_POINT): number {
    const ordered = this.sched.order(point, devs, (d) => d.name);
    const inBatch = new Set(devs);
    const added = new Set<Device>();
    const waiting = new Map<Device, Device[]>();
    let failed = 0;
    const add = (d: Device): void => {
      if (this.deviceAdd(d) !== 0) failed++;
      added.add(d);
      const kids = waiting.get(d);
      if (kids) {
        waiting.delete(d);
        for (const k of kids) add(k);
      }
    };
    for (const d of ordered) {
      const p = d.parent;
      if (p !== null && inBatch.has(p) && !added.has(p)) {
        const list = waiting.get(p);
        if (list) list.push(d);
        else waiting.set(p, [d]);
      } else {
        add(d);
      }
    }
    return failed;
  }

  // ---- drivers --------------------------------------------------------------------------------

  /** driver_register: adds the driver to its bus, then tries every device on the bus. */
  driverRegister(drv: DeviceDriver): number {
    const bus = this.buses.get(drv.bus.name);
    if (bus === undefined || bus !== drv.bus) {
      this.log.err(`Driver '${drv.name}' was unable to register with bus_type '${drv.bus.name}' because the bus was not initialized.`);
      return -EINVAL;
    }
    if (bus.findDriver(drv.name) !== undefined) {
      this.log.err(`Error: Driver '${drv.name}' is already registered, aborting...`);
      return -EBUSY;
    }
    bus.drivers.add(drv);
    this.bound.set(drv, new Set());
    if (this.debug) this.prDebug(`bus: '${bus.name}': add driver ${drv.name}`);
    this.emit('driverRegistered', { driver: drv.name, bus: bus.name });
    if (bus.driversAutoprobe) this.driverAttach(drv);
    return 0;
  }

  /** driver_unregister: off the bus first, then unbind its devices, last bound first. */
  driverUnregister(drv: DeviceDriver): void {
    const bus = drv.bus;
    if (!bus.drivers.delete(drv)) return;
    if (this.debug) this.prDebug(`bus: '${bus.name}': remove driver ${drv.name}`);
    const devs = [...(this.bound.get(drv) ?? [])].reverse();
    for (const d of devs) if (d.driver === drv) this.deviceReleaseDriver(d);
    this.bound.delete(drv);
    this.emit('driverUnregistered', { driver: drv.name, bus: bus.name });
  }

  /** Queues driver registration at an initcall level; its place in the level is a scheduler decision. */
  driverRegisterAt(level: InitcallLevel, drv: DeviceDriver): void {
    this.sched.queueInitcall(level, drv.name, () => {
      this.driverRegister(drv);
    });
  }

  /** Queues a device population pass (`of_platform_populate`-like) at an initcall level. */
  addDevicesAt(level: InitcallLevel, name: string, devs: readonly Device[]): void {
    this.sched.queueInitcall(level, name, () => {
      this.addDevices(devs);
    });
  }

  /** Devices currently bound to a driver, in bind order. */
  boundDevices(drv: DeviceDriver): Device[] {
    return [...(this.bound.get(drv) ?? [])];
  }

  // ---- matching and probing -------------------------------------------------------------------

  /** bus_probe_device: on device add and on every deferred retry. */
  private busProbeDevice(dev: Device): void {
    const bus = this.busOf(dev);
    if (bus === null || !bus.driversAutoprobe) return;
    this.deviceAttachInternal(dev, true);
  }

  /** device_attach: tries every driver synchronously. 1 when bound, 0 when none, or a negative errno. */
  deviceAttach(dev: Device): number {
    return this.deviceAttachInternal(dev, false);
  }

  /** __device_attach. */
  private deviceAttachInternal(dev: Device, allowAsync: boolean): number {
    if (dev.dead) return 0;
    if (dev.driver !== null) return this.isBound(dev) ? 1 : 0;
    const bus = this.busOf(dev);
    if (bus === null) return 0;
    const data = { haveAsync: false };
    let ret = 0;
    for (const drv of bus.drivers) {
      ret = this.deviceAttachDriver(dev, drv, allowAsync, false, data);
      if (ret !== 0) break;
    }
    if (ret === 0 && allowAsync && data.haveAsync) {
      this.dbg(dev, 'scheduling asynchronous probe');
      this.queueAsync({ dev, drv: null });
    }
    this.settle(dev);
    return ret;
  }

  /** __device_attach_driver: stops the walk over drivers when it returns non-zero. */
  private deviceAttachDriver(dev: Device, drv: DeviceDriver, checkAsync: boolean, wantAsync: boolean, data: { haveAsync: boolean }): number {
    const m = drv.bus.match(dev, drv);
    if (m === 0) return 0;
    if (m === -EPROBE_DEFER) {
      this.dbg(dev, 'Device match requests probe deferral');
      dev.canMatch = true;
      this.deferProbe(dev, null, 'match');
      return m;
    }
    if (m < 0) {
      if (this.debug) this.dbg(dev, `Bus failed to match device: ${m}`);
      return m;
    }
    const asyncAllowed = this.allowsAsync(drv);
    if (asyncAllowed) data.haveAsync = true;
    if (checkAsync && asyncAllowed !== wantAsync) return 0;
    // errors of ->probe (positive here) let the next driver try its luck
    const ret = this.driverProbeDevice(drv, dev);
    if (ret < 0) return ret;
    return ret === 0 ? 1 : 0;
  }

  /** driver_attach: tries a newly registered driver on every device of its bus, in bus order. */
  private driverAttach(drv: DeviceDriver): void {
    for (const dev of [...drv.bus.devices]) {
      this.driverAttachDevice(dev, drv);
      this.settle(dev);
    }
  }

  /** __driver_attach. */
  private driverAttachDevice(dev: Device, drv: DeviceDriver): void {
    const m = drv.bus.match(dev, drv);
    if (m === 0) return;
    if (m === -EPROBE_DEFER) {
      this.dbg(dev, 'Device match requests probe deferral');
      dev.canMatch = true;
      this.deferProbe(dev, null, 'match');
      return;
    }
    if (m < 0) {
      if (this.debug) this.dbg(dev, `Bus failed to match device: ${m}`);
      return;
    }
    if (this.allowsAsync(drv)) {
      if (dev.driver === null && !this.asyncPending.has(dev)) this.queueAsync({ dev, drv });
      return;
    }
    this.driverProbeDevice(drv, dev);
  }

  private allowsAsync(drv: DeviceDriver): boolean {
    switch (drv.probeType) {
      case 'prefer-async':
        return true;
      case 'force-sync':
        return false;
      default:
        return this.asyncByDefault;
    }
  }

  /**
   * driver_probe_device: 0 when bound; a positive errno when ->probe failed; a negative errno when
   * the probe never ran to the driver (device gone, busy, DMA configuration failed or deferred).
   * A deferral puts the device on the pending list, and re-triggers if a bind happened meanwhile.
   */
  private driverProbeDevice(drv: DeviceDriver, dev: Device): number {
    const triggerCount = this.deferred.triggerCount;
    const ret = this.driverProbeDeviceInner(drv, dev);
    if (ret === -EPROBE_DEFER || ret === EPROBE_DEFER) {
      this.deferProbe(dev, drv.name, this.deferSource.get(dev) ?? 'probe');
      if (triggerCount !== this.deferred.triggerCount && !this.deferAllProbes) this.deferred.trigger();
    }
    return ret;
  }

  /** __driver_probe_device. */
  private driverProbeDeviceInner(drv: DeviceDriver, dev: Device): number {
    if (dev.dead || this.devices.get(dev.name) !== dev) return -ENODEV;
    if (dev.driver !== null) return -EBUSY;
    dev.canMatch = true;
    if (this.debug) this.prDebug(`bus: '${drv.bus.name}': __driver_probe_device: matched device ${dev.name} with driver ${drv.name}`);
    return this.reallyProbe(dev, drv);
  }

  /**
   * really_probe: set the driver, DMA configuration (the hooks; may defer), BIND_DRIVER, the
   * driver's probe, then driver_bound. Failure paths undo in the kernel's order.
   */
  private reallyProbe(dev: Device, drv: DeviceDriver): number {
    this.deferSource.delete(dev);
    if (this.deferAllProbes) {
      if (this.debug) this.dbg(dev, `Driver ${drv.name} force probe deferral`);
      this.deferSource.set(dev, 'defer-all');
      return -EPROBE_DEFER;
    }
    if (this.debug) this.prDebug(`bus: '${drv.bus.name}': really_probe: probing driver ${drv.name} with device ${dev.name}`);
    dev.state = 'probing';
    dev.driver = drv;
    if (this.listenerCount('probeStarted') > 0) this.emit('probeStarted', { device: dev, driver: drv.name });

    let ret = this.runDmaConfigure(dev);
    if (ret !== 0) {
      if (ret === -EPROBE_DEFER) this.deferSource.set(dev, 'dma-configure');
      else this.noteFailure(dev, drv, ret);
      this.unbindCleanup(dev);
      return ret;
    }

    this.busNotify(dev, BUS_NOTIFY_BIND_DRIVER);
    ret = this.callDriverProbe(dev, drv);
    if (ret !== 0) {
      this.busNotify(dev, BUS_NOTIFY_DRIVER_NOT_BOUND);
      this.runTeardown(this.dmaCleanup, dev);
      this.unbindCleanup(dev);
      // probe errors go back as positive values so callers can tell them from their own
      return -ret;
    }
    this.driverBound(dev, drv);
    if (this.debug) this.prDebug(`bus: '${drv.bus.name}': really_probe: bound device ${dev.name} to driver ${drv.name}`);
    return 0;
  }

  private runDmaConfigure(dev: Device): number {
    for (const hook of this.dmaConfigure.list()) {
      const r = hook.fn(dev);
      if (r !== 0) return r;
    }
    return 0;
  }

  private runTeardown(list: HookList<TeardownHook>, dev: Device): void {
    for (const hook of list.list()) hook.fn(dev);
  }

  /** call_driver_probe with the kernel's log lines. */
  private callDriverProbe(dev: Device, drv: DeviceDriver): number {
    const ret = drv.bus.probe(dev, drv);
    switch (ret) {
      case 0:
        break;
      case -EPROBE_DEFER:
        if (this.debug) this.dbg(dev, `Driver ${drv.name} requests probe deferral`);
        this.deferSource.set(dev, 'probe');
        break;
      case -ENODEV:
      case -ENXIO:
        if (this.debug) this.dbg(dev, `probe with driver ${drv.name} rejects match ${ret}`);
        this.noteFailure(dev, drv, ret);
        break;
      default:
        this.log.devErr(dev, `probe with driver ${drv.name} failed with error ${ret}`);
        this.noteFailure(dev, drv, ret);
        break;
    }
    return ret;
  }

  private noteFailure(dev: Device, drv: DeviceDriver, err: number): void {
    dev.probeError = err;
    this.emit('probeFailed', { device: dev, driver: drv.name, error: err });
  }

  /** device_unbind_cleanup: arch teardown, forget the driver and its data. */
  private unbindCleanup(dev: Device): void {
    this.runTeardown(this.dmaDeconfigure, dev);
    dev.driver = null;
    dev.driverData = undefined;
  }

  /** driver_bound: leave the deferred list, retrigger every waiting device, BOUND_DRIVER. */
  private driverBound(dev: Device, drv: DeviceDriver): void {
    const set = this.bound.get(drv);
    if (set?.has(dev)) {
      this.log.warning(`driver_bound: device ${dev.name} already bound`);
      return;
    }
    if (this.debug) this.dbg(dev, `driver: '${drv.name}': driver_bound: bound to device '${dev.name}'`);
    if (set) set.add(dev);
    else this.bound.set(drv, new Set([dev]));
    this.deferred.del(dev);
    dev.deferredProbeReason = null;
    dev.probeError = 0;
    dev.state = 'bound';
    this.deferred.trigger();
    this.busNotify(dev, BUS_NOTIFY_BOUND_DRIVER);
    if (this.listenerCount('bound') > 0) this.emit('bound', { device: dev, driver: drv.name });
  }

  private isBound(dev: Device): boolean {
    const drv = dev.driver as DeviceDriver | null;
    return drv !== null && (this.bound.get(drv)?.has(dev) ?? false);
  }

  private deferProbe(dev: Device, driver: string | null, source: DeferSource): void {
    this.deferred.add(dev);
    this.deferSource.delete(dev);
    dev.state = 'deferred';
    this.emit('deferred', { device: dev, driver, source, reason: dev.deferredProbeReason });
  }

  /** The device's state after a pass of matching and probing. */
  private settle(dev: Device): void {
    if (dev.dead) return;
    if (dev.driver !== null && this.isBound(dev)) dev.state = 'bound';
    else if (this.deferred.has(dev)) dev.state = 'deferred';
    else if (this.asyncPending.has(dev)) dev.state = 'probing';
    else if (dev.probeError !== 0) dev.state = 'failed';
    else dev.state = dev.canMatch ? 'added' : 'no-driver';
  }

  // ---- unbinding ------------------------------------------------------------------------------

  /** device_release_driver: UNBIND_DRIVER, ->remove, DMA cleanup and teardown, UNBOUND_DRIVER. */
  deviceReleaseDriver(dev: Device): void {
    const drv = dev.driver as DeviceDriver | null;
    if (drv === null || !this.isBound(dev)) return;
    this.busNotify(dev, BUS_NOTIFY_UNBIND_DRIVER);
    drv.bus.remove(dev, drv);
    this.runTeardown(this.dmaCleanup, dev);
    this.unbindCleanup(dev);
    this.bound.get(drv)?.delete(dev);
    if (!dev.dead) dev.state = 'added';
    this.busNotify(dev, BUS_NOTIFY_UNBOUND_DRIVER);
    this.emit('unbound', { device: dev, driver: drv.name });
  }

  // ---- asynchronous probe ---------------------------------------------------------------------

  private queueAsync(work: AsyncWork): void {
    this.asyncQueue.push(work);
    this.asyncPending.add(work.dev);
    if (this.asyncEvent === null) {
      this.asyncEvent = this.sched.schedule(0, () => {
        this.asyncEvent = null;
        this.runAsync();
      }, 'async_probe');
    }
  }

  /** Runs the queued async probes; the order they complete in is a scheduler decision. */
  private runAsync(): void {
    while (this.asyncQueue.length > 0) {
      const batch = this.sched.order(ASYNC_PROBE_POINT, this.asyncQueue, (w) => w.dev.name);
      this.asyncQueue = [];
      for (const w of batch) {
        const dev = w.dev;
        this.asyncPending.delete(dev);
        if (dev.dead) continue;
        if (w.drv === null) {
          const bus = this.busOf(dev);
          if (bus !== null && dev.driver === null) {
            const data = { haveAsync: false };
            for (const drv of bus.drivers) if (this.deviceAttachDriver(dev, drv, true, true, data) !== 0) break;
          }
          this.dbg(dev, 'async probe completed');
        } else if (dev.driver === null) {
          const ret = this.driverProbeDevice(w.drv, dev);
          if (this.debug) this.dbg(dev, `driver ${w.drv.name} async attach completed: ${ret}`);
        }
        this.settle(dev);
      }
    }
  }

  /** wait_for_device_probe: flush deferred retries and async probes until nothing is left. */
  waitForDeviceProbe(): void {
    for (;;) {
      this.deferred.flush();
      if (this.asyncQueue.length === 0) break;
      this.asyncEvent?.cancel();
      this.asyncEvent = null;
      this.runAsync();
    }
  }

  // ---- deferred probe -------------------------------------------------------------------------

  /** deferred_probe_initcall (late_initcall); queued at construction unless disabled. */
  deferredProbeInitcall(): void {
    this.deferred.initcall();
  }

  /** driver_deferred_probe_check_state, for suppliers deciding whether to keep deferring. */
  deferredProbeCheckState(dev: Device): number {
    return this.deferred.checkState(dev);
  }

  /** device_set_deferred_probe_reason. */
  setDeferredProbeReason(dev: Device, reason: string): void {
    dev.deferredProbeReason = reason;
  }

  /**
   * dev_err_probe: records the reason of a deferral (and prints it only at debug level), prints
   * other errors except -ENOMEM, and returns err.
   */
  devErrProbe(dev: Device, err: number, text: string): number {
    if (err === -EPROBE_DEFER) {
      dev.deferredProbeReason = text;
      if (this.debug) this.dbg(dev, `error -${errnoName(err)}: ${text}`);
    } else if (err !== -ENOMEM) {
      this.log.devErr(dev, `error -${errnoName(err)}: ${text}`);
    }
    return err;
  }

  /** device_block_probing / device_unblock_probing. */
  blockProbing(): void {
    this.deferAllProbes = true;
    this.waitForDeviceProbe();
  }

  unblockProbing(): void {
    this.deferAllProbes = false;
    this.deferred.trigger();
  }

  // ---- logging --------------------------------------------------------------------------------

  // Callers building a message with a template test `this.debug` first, so nothing is formatted
  // for lines that are not printed (the probe path runs for every device of a machine).
  private dbg(dev: Device, text: string): void {
    if (this.debug) this.log.devDbg(dev, text);
  }

  private prDebug(text: string): void {
    if (this.debug) this.log.debug(text);
  }
}
