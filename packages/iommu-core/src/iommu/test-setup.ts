/** Small machines for the IOMMU core tests (not shipped: test-only helpers). */
import { Device, FwNode, type PhandleArgs } from '@dmasim/bus';
import { KernelLog } from '@dmasim/core';
import { IommuCore, type IommuCoreOptions } from './core';
import { FakeBus, FakeIommu, type FakeIommuOptions } from './testing';

export interface Rig {
  readonly log: KernelLog;
  readonly core: IommuCore;
  readonly bus: FakeBus;
  readonly smmu: FakeIommu;
}

export function rig(options: IommuCoreOptions = {}, iommu: Partial<FakeIommuOptions> = {}): Rig {
  const log = new KernelLog();
  const core = new IommuCore({ log }, options);
  const bus = new FakeBus('platform');
  const smmu = new FakeIommu(core, { fwnode: 'smmu0', ...iommu });
  return { log, core, bus, smmu };
}

/** A platform device whose `iommus` names `iommu` with the given stream ids. */
export function master(name: string, iommu: string | null, ...sids: number[]): Device {
  const iommus: PhandleArgs[] = iommu === null ? [] : sids.map((sid) => ({ node: iommu, args: [sid] }));
  return new Device(name, new FwNode(name, iommu === null ? {} : { iommus }));
}
