import type { DependencyContainer, InjectionToken } from 'tsyringe';
import type { DeviceModel } from './model';

/** Injection tokens of `@dmasim/devices`. */
export const DevicesTokens = {
  /** The device models a machine may instantiate (built-in ones plus any the caller adds). */
  DeviceModels: Symbol('dmasim.DeviceModels') as InjectionToken<readonly DeviceModel[]>,
} as const;

export interface DevicesRegisterOptions {
  /** Models to offer besides the built-in ones (third-party plugins). */
  readonly extra?: readonly DeviceModel[];
}

/** Registers the device model table of a machine and returns it. */
export function register(container: DependencyContainer, builtin: readonly DeviceModel[], options: DevicesRegisterOptions = {}): readonly DeviceModel[] {
  const models = [...builtin, ...(options.extra ?? [])];
  container.register(DevicesTokens.DeviceModels, { useValue: models });
  return models;
}
