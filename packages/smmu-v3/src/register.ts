import type { DependencyContainer, InjectionToken } from 'tsyringe';
import { BusTokens } from '@dmasim/bus';
import { CoreTokens } from '@dmasim/core';
import { IommuTokens } from '@dmasim/iommu-core';
import { ArmSmmuV3Driver } from './driver/arm-smmu-v3';
import type { ArmSmmuV3DriverOptions } from './driver/types';

/** Injection tokens of `@dmasim/smmu-v3`. */
export const SmmuV3Tokens = {
  /** The arm-smmu-v3 driver module of the machine. */
  ArmSmmuV3Driver: Symbol('dmasim.ArmSmmuV3Driver') as InjectionToken<ArmSmmuV3Driver>,
} as const;

export interface SmmuV3RegisterOptions extends ArmSmmuV3DriverOptions {
  /** Queue the platform driver at the `device` initcall level when the bus services are present. Default true. */
  readonly registerPlatformDriver?: boolean;
}

/**
 * Registers the machine's arm-smmu-v3 driver (from the core services and the IommuCore already in
 * `container`) under `SmmuV3Tokens.ArmSmmuV3Driver` and returns it. Hardware instances are made by
 * whoever builds the board (`new SmmuV3Hardware(...)` mapped on the MMIO bus).
 */
export function register(container: DependencyContainer, options: SmmuV3RegisterOptions = {}): ArmSmmuV3Driver {
  const driver = new ArmSmmuV3Driver(
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
  container.register(SmmuV3Tokens.ArmSmmuV3Driver, { useValue: driver });
  if ((options.registerPlatformDriver ?? true) && container.isRegistered(BusTokens.DriverCore, true)) {
    container.resolve(BusTokens.DriverCore).driverRegisterAt('device', driver.platformDriver(container.resolve(BusTokens.PlatformBus)));
  }
  return driver;
}
