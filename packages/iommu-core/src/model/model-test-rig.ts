import type { DependencyContainer } from 'tsyringe';
import { register as registerBus, type BusServices } from '@dmasim/bus';
import { createMachineContainer, MiB, register as registerCore, type CoreServices } from '@dmasim/core';
import { register as registerIommu } from '../iommu/di';
import type { IommuCore, IommuProfile } from '../iommu/core';
import type { IommuHardwareContext } from './iommu-model';

/** A machine container with core, bus and IommuCore services, and the hardware context a model's tests build with. */
export interface IommuModelTestRig {
  readonly container: DependencyContainer;
  readonly core: CoreServices;
  readonly bus: BusServices;
  readonly iommu: IommuCore;
  /** Interrupts from `firstIrq` up unless fixed; `fail` throws `key: message`. */
  readonly ctx: IommuHardwareContext;
}

/** For tests of IOMMU model plugins: what the machine would hand `createHardware` and `createDriver`. */
export function iommuModelTestRig(profile: IommuProfile, memory: { base: number; size?: number }, firstIrq = 100): IommuModelTestRig {
  const container = createMachineContainer();
  const core = registerCore(container, { memory: [{ base: memory.base, size: memory.size ?? 64 * MiB }] });
  const bus = registerBus(container);
  const iommu = registerIommu(container, { profile });
  let nextIrq = firstIrq;
  const ctx: IommuHardwareContext = {
    core,
    takeIrq: (fixed) => fixed ?? nextIrq++,
    fail: (key, message) => {
      throw new Error(`${key}: ${message}`);
    },
  };
  return { container, core, bus, iommu, ctx };
}
