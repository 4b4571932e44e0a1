import type { DependencyContainer, InjectionToken } from 'tsyringe';
import { CoreTokens } from '@dmasim/core';
import { IommuCore, type IommuCoreOptions, type IommuCoreServices } from './core';

/** Injection tokens of the IOMMU API. */
export const IommuTokens = {
  IommuCore: Symbol('dmasim.IommuCore') as InjectionToken<IommuCore>,
} as const;

export interface IommuRegisterOptions extends IommuCoreOptions {
  /** PCI topology and deferred-probe policy, when the machine has them at registration time. */
  readonly services?: Omit<IommuCoreServices, 'log'>;
}

/**
 * Registers the machine's IommuCore (built on the container's KernelLog) and returns it. The PCI
 * topology and the deferred-probe check may be set later on the returned core.
 */
export function register(container: DependencyContainer, options: IommuRegisterOptions = {}): IommuCore {
  const log = container.resolve(CoreTokens.KernelLog);
  const core = new IommuCore({ log, ...options.services }, options);
  container.register(IommuTokens.IommuCore, { useValue: core });
  return core;
}
