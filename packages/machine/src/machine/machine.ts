import type { DependencyContainer } from 'tsyringe';
import { FwNode, pciBusAddOrder, register as registerBus, type BusServices, type Device, type PciDev, type PciHostBridge } from '@dmasim/bus';
import {
  createMachineContainer,
  dmaBitMask,
  hex,
  KernelOops,
  register as registerCore,
  type CoreServices,
  type Chooser,
  type Decision,
  type OrderPolicy,
} from '@dmasim/core';
import { register as registerDmaIommu, type DmaIommuServices } from '@dmasim/dma-iommu';
import { dmaDirectReach, register as registerDmaMapping, type DmaMappingContext } from '@dmasim/dma-mapping';
import { busNotifierHostOf, register as registerIommu, type IommuCore, type IommuDomainFacts, type IommuDriverPlugin, type IommuInstanceReport, type IommuModel } from '@dmasim/iommu-core';
import { register as registerSwiotlb, type Swiotlb } from '@dmasim/swiotlb';
import { DEVICE_RESOURCES_SLOT, type WorkloadResult } from '@dmasim/devices';
import type { LoadedBoard } from '../board/load';
import type { Board, BoardWorkload } from '../board/schema';
import { iommuBoardEntry } from '../board/models';
import { buildReport } from '../report/build';
import type { RunReport, WorkloadReport } from '../report/types';
import { buildHardware, iommusProperty, type BuiltHardware, type MachineDevice } from './hardware';
import { kmallocBounceOf, swiotlbPlan, zoneLimits } from './kernel-memory';
import { installArmLayer, installBaseDmaConfigure, installDmaDebugBusHooks, opsLayerOf, type OpsLayer } from './kernel';
import { boardIrqs, deviceCoherent, dmaParamsFromRanges, dmaRangesFor, IrqNumbers, parseBdf } from './layout';
import { MachinePciTopology } from './pci-topology';
import { PluginRegistry } from './plugins';

export interface MachineOptions {
  /** Seed of the run (default: the board's kernel.probe.seed). */
  readonly seed?: number;
  /** Ordering policy for items ready together (default: the board's kernel.probe.order). */
  readonly policy?: OrderPolicy;
  /** Decisions of an earlier run to replay exactly. */
  readonly replay?: readonly Decision[];
  /** Device and IOMMU models (default: the built-in ones). */
  readonly registry?: PluginRegistry;
  /** Drives every ordering choice (exploration); see Scheduler's chooser. */
  readonly chooser?: Chooser;
}

/** The policy a board's `kernel.probe` asks for. */
export function policyOf(board: Board, seed: number): OrderPolicy {
  const order = board.kernel.probe.order;
  if (Array.isArray(order)) return { kind: 'explicit', order };
  if (order === 'shuffle') return { kind: 'shuffle', seed };
  return { kind: order };
}

/**
 * One simulated machine: its own DI container with core, bus, IOMMU core, swiotlb, DMA mapping and
 * ops-layer services, plus the drivers of its IOMMU model plugins; the board's hardware; and the
 * kernel that boots on it. Two machines share nothing.
 */
export class Machine {
  readonly container: DependencyContainer;
  readonly board: Board;
  readonly seed: number;
  readonly layer: OpsLayer;
  readonly core: CoreServices;
  readonly bus: BusServices;
  readonly iommu: IommuCore;
  /** The IOMMU drivers in this kernel (built-in ones and those of the board's IOMMU models). */
  readonly iommuDrivers: readonly MachineIommuDriver[];
  readonly swiotlb: Swiotlb | null;
  readonly dma: DmaMappingContext;
  readonly dmaIommu: DmaIommuServices;
  readonly hw: BuiltHardware;
  readonly workloadResults: WorkloadReport[] = [];
  /** PCI functions the host bridge's iommu-map does not cover (their DMA bypasses the IOMMU). */
  readonly iommuMapGaps: { readonly device: string; readonly detail: string }[] = [];
  private pciFunctions: PciDev[] = [];
  private booted = false;

  constructor(
    readonly loaded: LoadedBoard,
    options: MachineOptions = {},
  ) {
    const board = loaded.board;
    this.board = board;
    this.seed = options.seed ?? board.kernel.probe.seed;
    this.layer = opsLayerOf(board.kernel);
    const registry = options.registry ?? new PluginRegistry();
    this.container = createMachineContainer();
    const c = this.container;
    const reserved = [...board.iommus.map((m) => ({ base: m.base, size: m.size }))];
    const zones = zoneLimits(board);
    this.core = registerCore(c, {
      memory: board.memory,
      pages: { ...zones, reserved: reserved.filter((r) => board.memory.some((m) => r.base >= m.base && r.base < m.base + m.size)) },
      scheduler: {
        seed: this.seed,
        policy: options.policy ?? policyOf(board, this.seed),
        ...(options.replay !== undefined ? { replay: options.replay } : {}),
        ...(options.chooser !== undefined ? { chooser: options.chooser } : {}),
      },
    });
    this.bus = registerBus(c);
    const profile = board.kernel.profile;
    const tlbOpts = board.kernel.swiotlb;
    const plan = swiotlbPlan(board, zones);
    this.swiotlb = plan === null ? null : registerSwiotlb(c, { ...plan, dynamic: tlbOpts.dynamic, perBufferOrder: tlbOpts.perBufferOrder, force: tlbOpts.force, reach: dmaDirectReach });
    this.dma = registerDmaMapping(c, { dmaDebug: board.kernel.dmaDebug ? { checkSg: board.kernel.dmaDebugSg } : false, swiotlbForce: tlbOpts.force, kmallocBounce: kmallocBounceOf(board) });
    this.iommu = registerIommu(c, { defaultDomainPolicy: board.kernel.defaultDomain, strict: board.kernel.strict, profile });
    this.iommu.pci = new MachinePciTopology(() => this.pciFunctions);
    this.iommu.deferredProbeCheckState = (dev) => this.bus.core.deferredProbeCheckState(dev);
    this.iommuDrivers = kernelIommuModels(registry, board).map((model) => ({
      model,
      driver: model.createDriver({
        container: c,
        core: this.core,
        bus: this.bus,
        iommu: this.iommu,
        profile,
        entries: board.iommus.filter((m) => registry.findIommuModel(m.compatible) === model).map(iommuBoardEntry),
      }),
    }));
    installBaseDmaConfigure(this.bus, this.dma);
    this.dmaIommu = registerDmaIommu(c, { profile, ...(this.layer === 'arm' ? {} : { arch: this.layer === 'arm64-2015' ? 'arm64' : 'generic' }) });
    installDmaDebugBusHooks(this.bus, this.dma);

    const irqNumbers = new IrqNumbers(boardIrqs(board));
    this.hw = buildHardware(board, loaded.file, this.core, registry, irqNumbers);
    if (this.layer === 'arm') {
      installArmLayer(this.bus, this.core, this.dma, this.iommu, (dev) => (this.deviceEntry(dev)?.iommu ?? null) !== null, board.kernel.armMapping);
    }
    this.queueKernel(registry);
  }

  /** The board device behind a kernel device, if any. */
  deviceEntry(dev: Device): MachineDevice | undefined {
    for (const e of this.hw.devices.values()) if (e.dev === dev) return e;
    return undefined;
  }

  /** The domain `dev` is attached to, as whichever IOMMU driver has it reports it. */
  iommuDomainOf(dev: Device): IommuDomainFacts | null {
    for (const d of this.iommuDrivers) {
      const dom = d.driver.domainOf(dev);
      if (dom !== null) return dom;
    }
    return null;
  }

  /** Each board IOMMU's report section, from its model's driver, in board order. */
  iommuReports(): IommuInstanceReport[] {
    const nameOf = (dev: Device): string => this.deviceEntry(dev)?.spec.name ?? dev.name;
    const out: IommuInstanceReport[] = [];
    for (const m of this.hw.iommus.values()) {
      const driver = this.iommuDrivers.find((d) => d.model === m.model)?.driver;
      if (driver !== undefined) out.push(driver.report(m.entry, nameOf));
    }
    return out;
  }

  /** The IOMMU drivers' part of the exploration state key: one entry per probed instance, sorted. */
  iommuStateKeys(): string[] {
    return this.iommuDrivers.flatMap((d) => d.driver.stateKeys()).sort();
  }

  /** The initcalls of this kernel: IOMMU core, IOMMU drivers, device population, drivers, PCI. */
  private queueKernel(registry: PluginRegistry): void {
    const { sched } = this.core;
    const { core: drivers, platform, pci } = this.bus;
    const profile = this.board.kernel.profile;
    const hosts = [platform, pci];

    sched.queueInitcall('core', 'iommu_subsys_init', () => {
      if (profile === 'linux-6.x') this.iommu.iommuSubsysInit(hosts.map((b) => busNotifierHostOf(b)));
    });
    // the IOMMU drivers' own initcalls (registering the platform driver, bus ops where the profile
    // sets them per bus); whether masters come before or after their IOMMU is the populate order
    for (const { driver } of this.iommuDrivers) for (const call of driver.initcalls) sched.queueInitcall(call.level, call.name, () => call.run());

    // of_platform_populate (arch_initcall_sync): IOMMUs and platform masters, in the scheduler's order
    const platformDevs: Device[] = [];
    for (const m of this.hw.iommus.values()) platformDevs.push(platform.createDevice(m.hw.fwnode, null, m.entry.name));
    for (const e of this.hw.devices.values()) {
      if (e.spec.pci !== undefined) continue;
      const fw = this.platformFwnode(e);
      const dev = platform.createDevice(fw, null, e.spec.name);
      this.applyDmaParams(dev, e);
      e.dev = dev;
      platformDevs.push(dev);
    }
    sched.queueInitcall('arch', 'of_platform_populate', () => {
      sched.forEachOrdered('device-add', platformDevs, (d) => d.name, (dev) => drivers.createAndAddDevice(dev));
    });

    // PCI host bridges enumerate at subsys level; their functions are added in topology order
    for (const host of this.hw.pciHosts.values()) {
      sched.queueInitcall('subsys', `pci_host_probe:${host.busName}`, () => this.enumeratePci(host.bridge));
    }

    // device drivers (module_init)
    const used = new Set([...this.hw.devices.values()].map((e) => e.model));
    for (const model of registry.models) {
      if (!used.has(model)) continue;
      for (const drv of model.drivers({ core: this.core, bus: this.bus })) drivers.driverRegisterAt('device', drv);
    }
  }

  private platformFwnode(e: MachineDevice): FwNode {
    const legacy = this.board.iommus.some((m) => (m.masters ?? []).some((ms) => ms.device === e.spec.name));
    const fw = new FwNode(e.spec.name, {
      compatible: [e.spec.compatible ?? ''],
      reg: [e.mmioBase, e.hw.mmioSize],
      interrupts: [e.irq],
      'dma-coherent': deviceCoherent(e.spec),
    });
    const iommus = iommusProperty(e, legacy);
    if (iommus !== undefined) fw.set('iommus', iommus);
    const ranges = dmaRangesFor(this.board, e.spec.bus);
    if (ranges !== null) fw.set('dma-ranges', ranges);
    for (const [k, v] of Object.entries(e.spec.properties ?? {})) fw.set(k, v);
    return fw;
  }

  /**
   * of_dma_configure's view of the firmware: masks, dma-ranges window, coherence. A board's
   * `dmaMask` is how many address bits the device's DMA reaches: like a narrow interconnect it
   * becomes a bus_dma_limit, which dma_capable() and the IOVA allocator apply whatever mask the
   * driver sets later (min_not_zero(mask, bus_dma_limit)).
   */
  private applyDmaParams(dev: Device, e: MachineDevice): void {
    const maskBits = e.spec.dmaMask ?? 32;
    const p = dmaParamsFromRanges(dmaRangesFor(this.board, e.spec.bus), maskBits);
    dev.dma.maskBits = p.maskBits;
    dev.dma.coherentMaskBits = p.maskBits;
    dev.dma.rangeMap = p.rangeMap;
    const hwLimit = e.spec.dmaMask === undefined || e.spec.dmaMask >= 53 ? 0 : dmaBitMask(e.spec.dmaMask);
    dev.dma.busDmaLimit = p.busDmaLimit === 0 ? hwLimit : hwLimit === 0 ? p.busDmaLimit : Math.min(p.busDmaLimit, hwLimit);
    dev.dma.coherent = deviceCoherent(e.spec);
  }

  private enumeratePci(host: PciHostBridge): void {
    const { core: drivers, pci } = this.bus;
    if (drivers.devices.get(host.name) !== host) drivers.deviceAdd(host);
    const found = pciBusAddOrder(pci.scanRootBus(host));
    this.pciFunctions.push(...found);
    const busName = [...this.hw.pciHosts.values()].find((h) => h.bridge === host)?.busName;
    const board = this.board;
    const map = board.buses.find((b) => b.name === busName)?.iommuMap;
    for (const e of this.hw.devices.values()) {
      if (e.spec.pci === undefined || e.spec.bus !== busName) continue;
      const { bus, slot, fn } = parseBdf(e.spec.pci.bdf);
      const dev = found.find((d) => d.busNr === bus && d.devfn === slot * 8 + fn);
      if (dev === undefined) continue;
      e.dev = dev;
      dev.setSlot(DEVICE_RESOURCES_SLOT, { mmioBase: e.mmioBase, irq: e.irq });
      this.applyDmaParams(dev, e);
      if (map !== undefined) {
        const rid = map.mask === undefined ? dev.requesterId : dev.requesterId & map.mask; // 16-bit requester id
        if (rid >= map.ridBase && rid < map.ridBase + map.length) e.iommu = { name: map.iommu, streamIds: [map.streamBase + (rid - map.ridBase)] };
        // of_map_id: an id no entry covers is not behind the IOMMU, so the function's DMA is untranslated
        else this.iommuMapGaps.push({ device: e.spec.name, detail: `requester id ${hex(rid)} is outside the iommu-map of ${busName ?? '?'} (ids ${hex(map.ridBase)}-${hex(map.ridBase + map.length - 1)} to ${map.iommu}): the firmware leaves it out, so its DMA bypasses ${map.iommu}` });
      }
    }
    for (const d of found) drivers.deviceAdd(d);
  }

  /** Boots the simulated kernel: every initcall level, probes, deferred probe. Never throws for a kernel oops. */
  boot(): void {
    if (this.booted) return;
    this.booted = true;
    this.core.log.info(`Booting dmasim on ${this.board.name} (${this.board.kernel.arch}, profile ${this.board.kernel.profile}, seed ${this.seed})`);
    this.guard(() => this.core.sched.runInitcalls());
  }

  /** Runs the board's workloads in order; each result says whether every byte checked matched. */
  runWorkloads(): WorkloadReport[] {
    for (const w of this.board.workloads) {
      const r = this.runWorkload(w);
      this.workloadResults.push(r);
      if (this.core.log.oopsed !== null) break;
    }
    return this.workloadResults;
  }

  private runWorkload(w: BoardWorkload): WorkloadReport {
    const deviceName = w.kind === 'display-import' ? w.consumer : w.device;
    const entry = this.hw.devices.get(deviceName);
    const fail = (details: string): WorkloadReport => ({ kind: w.kind, device: deviceName, ok: false, bytes: 0, errors: 1, details });
    if (entry?.model.runWorkload === undefined) return fail('no model runs this workload');
    const model = entry.model;
    let result: WorkloadResult | null = null;
    this.guard(() => {
      result = model.runWorkload!({ core: this.core, device: (name) => this.hw.devices.get(name)?.dev ?? this.bus.core.devices.get(name) }, { ...w });
      this.core.sched.runUntilIdle();
    });
    const r = result as WorkloadResult | null;
    if (r === null) return fail('the kernel oopsed during the workload');
    const details = r.details === undefined ? undefined : summariseDetails(r.details);
    return { kind: w.kind, device: deviceName, ok: r.ok, bytes: r.bytes, errors: r.errors, ...(details !== undefined ? { details } : {}) };
  }

  /** Unbinds every driver (reverse bind order) so dma-debug reports mappings still held. */
  shutdown(): void {
    const bound = [...this.bus.core.devices.values()].filter((d) => d.driver !== null).reverse();
    this.guard(() => {
      for (const d of bound) this.bus.core.deviceReleaseDriver(d);
      this.core.sched.runUntilIdle();
    });
  }

  /** Boots, runs the workloads, shuts down and reports. */
  run(): RunReport {
    this.boot();
    if (this.core.log.oopsed === null) this.runWorkloads();
    const devicesBefore = buildReport(this, { devicesOnly: true });
    if (this.core.log.oopsed === null) this.shutdown();
    return buildReport(this, { devices: devicesBefore.devices, iommus: devicesBefore.iommus });
  }

  private guard(fn: () => void): void {
    try {
      fn();
    } catch (e) {
      if (!(e instanceof KernelOops)) throw e;
    }
  }
}

/** An IOMMU model's driver in a machine's kernel. */
export interface MachineIommuDriver {
  readonly model: IommuModel;
  readonly driver: IommuDriverPlugin;
}

/** The IOMMU models whose drivers this kernel has: the always built-in ones and those the board uses. */
function kernelIommuModels(registry: PluginRegistry, board: Board): IommuModel[] {
  const used = new Set(board.iommus.map((m) => registry.findIommuModel(m.compatible)));
  return registry.iommuModels.filter((m) => m.alwaysBuiltIn === true || used.has(m));
}

/** Loads a board (with its plugins), builds the machine. */
export async function createMachine(loaded: LoadedBoard, options: MachineOptions = {}): Promise<Machine> {
  return Promise.resolve(new Machine(loaded, options));
}

function summariseDetails(d: Readonly<Record<string, unknown>>): string | undefined {
  const parts = Object.entries(d)
    .filter(([, v]) => v !== undefined && (typeof v !== 'object' || v === null))
    .map(([k, v]) => `${k}=${String(v)}`);
  return parts.length > 0 ? parts.join(' ') : undefined;
}
