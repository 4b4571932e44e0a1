import { CoreTokens, type KernelLog, type MmioBus, type Scheduler } from '@dmasim/core';
import type { DependencyContainer, InjectionToken } from 'tsyringe';
import { AmbaBus } from './amba';
import { DriverCore, type DriverCoreOptions } from './driver-core';
import { PciBus } from './pci/pci-bus';
import { PlatformBus } from './platform';

/** Injection tokens of the services `bus` provides to a machine. */
export const BusTokens = {
  DriverCore: Symbol('dmasim.DriverCore') as InjectionToken<DriverCore>,
  PlatformBus: Symbol('dmasim.PlatformBus') as InjectionToken<PlatformBus>,
  AmbaBus: Symbol('dmasim.AmbaBus') as InjectionToken<AmbaBus>,
  PciBus: Symbol('dmasim.PciBus') as InjectionToken<PciBus>,
} as const;

export type BusOptions = DriverCoreOptions;

/** The `bus` services of one machine. */
export interface BusServices {
  readonly core: DriverCore;
  readonly platform: PlatformBus;
  readonly amba: AmbaBus;
  readonly pci: PciBus;
}

/** Builds the driver core with the platform, AMBA and PCI buses registered (no container needed). */
export function createBusServices(deps: { log: KernelLog; sched: Scheduler; mmio?: MmioBus }, options: BusOptions = {}): BusServices {
  const core = new DriverCore(deps.log, deps.sched, options);
  const platform = new PlatformBus(deps.log);
  const amba = new AmbaBus(deps.log, deps.mmio);
  const pci = new PciBus(deps.log);
  core.registerBus(platform);
  core.registerBus(amba);
  core.registerBus(pci);
  return { core, platform, amba, pci };
}

/** Registers a machine's bus services into its container (core services must be registered). */
export function register(container: DependencyContainer, options: BusOptions = {}): BusServices {
  const s = createBusServices(
    {
      log: container.resolve(CoreTokens.KernelLog),
      sched: container.resolve(CoreTokens.Scheduler),
      ...(container.isRegistered(CoreTokens.MmioBus, true) ? { mmio: container.resolve(CoreTokens.MmioBus) } : {}),
    },
    options,
  );
  container.register(BusTokens.DriverCore, { useValue: s.core });
  container.register(BusTokens.PlatformBus, { useValue: s.platform });
  container.register(BusTokens.AmbaBus, { useValue: s.amba });
  container.register(BusTokens.PciBus, { useValue: s.pci });
  return s;
}

/** Resolves the bus services registered in a container. */
export function resolveBus(container: DependencyContainer): BusServices {
  return {
    core: container.resolve(BusTokens.DriverCore),
    platform: container.resolve(BusTokens.PlatformBus),
    amba: container.resolve(BusTokens.AmbaBus),
    pci: container.resolve(BusTokens.PciBus),
  };
}
