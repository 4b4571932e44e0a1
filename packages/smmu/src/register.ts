import type { DependencyContainer, InjectionToken } from 'tsyringe';
import { BusTokens } from '@dmasim/bus';
import { CoreTokens } from '@dmasim/core';
import { IommuTokens } from '@dmasim/iommu-core';
import { ArmSmmuDriver } from './driver/arm-smmu';
import type { ArmSmmuDriverOptions } from './driver/types';

/** Injection tokens of `@dmasim/smmu`. */
export const SmmuTokens = {
  /** The arm-smmu driver module of the machine (its IOMMU ops, instances and faults). */
  ArmSmmuDriver: Symbol('dmasim.ArmSmmuDriver') as InjectionToken<ArmSmmuDriver>,
} as const;

export interface SmmuRegisterOptions extends ArmSmmuDriverOptions {
  /**
   * Queue registration of the platform driver at the `device` initcall level (module_platform_driver),
   * when the container has the bus services. Default true.
   */
  readonly registerPlatformDriver?: boolean;
}

/**
 * Registers the machine's arm-smmu driver (built from the core services and the IommuCore already
 * in `container`) under `SmmuTokens.ArmSmmuDriver` and returns it. SMMU hardware instances are
 * created by whoever builds the board (`new SmmuHardware(...)` mapped on the MMIO bus).
 */
export function register(container: DependencyContainer, options: SmmuRegisterOptions = {}): ArmSmmuDriver {
  const driver = new ArmSmmuDriver(
    {
      log: container.resolve(CoreTokens.KernelLog),
      mmio: container.resolve(CoreTokens.MmioBus),
      irqs: container.resolve(CoreTokens.IrqController),
      memory: container.resolve(CoreTokens.PhysicalMemory),
      pages: container.resolve(CoreTokens.PageAllocator),
      cache: container.resolve(CoreTokens.CpuCache),
      iommu: container.resolve(IommuTokens.IommuCore),
    },
    options,
  );
  container.register(SmmuTokens.ArmSmmuDriver, { useValue: driver });
  if ((options.registerPlatformDriver ?? true) && container.isRegistered(BusTokens.DriverCore, true)) {
    const core = container.resolve(BusTokens.DriverCore);
    core.driverRegisterAt('device', driver.platformDriver(container.resolve(BusTokens.PlatformBus)));
  }
  return driver;
}
