/** Small machines for the arm layer's tests and benchmark (not exported from the package). */
import { Device, FwNode } from '@dmasim/bus';
import { GiB, TranslatingDmaPort, createCoreServices, type CoreServices, type DmaPort, type DmaTranslation } from '@dmasim/core';
import { DmaMappingContext } from '@dmasim/dma-mapping';
import { FakeBus, FakeIommu, IommuCore, iommuIovaToPhys, type IommuDomain } from '@dmasim/iommu-core';
import type { ArmIommuEnv } from './env';

export const RAM_BASE = 2 * GiB;

export interface ArmRig {
  readonly core: CoreServices;
  readonly iommu: IommuCore;
  readonly bus: FakeBus;
  readonly smmu: FakeIommu;
  readonly ctx: DmaMappingContext;
  readonly env: ArmIommuEnv;
}

/**
 * A 2014-style machine: a platform bus whose IOMMU (FakeIommu, 4 KiB / 2 MiB / 1 GiB pages) was set
 * with bus_set_iommu, masters `sata` and `xgmac` behind it.
 */
export function armRig(ram = 1 * GiB): ArmRig {
  // RAM from 2 GiB: no page has physical address 0, which iommuIovaToPhys uses for "not mapped"
  const core = createCoreServices({ memory: [{ base: RAM_BASE, size: ram }], pages: { dmaZoneEnd: 0 } });
  const iommu = new IommuCore({ log: core.log }, { profile: 'linux-4.2' });
  const bus = new FakeBus('platform');
  const smmu = new FakeIommu(iommu, { fwnode: 'smmu0', masters: ['sata', 'xgmac', 'sata2'] });
  iommu.busSetIommu(bus, smmu.ops);
  const ctx = new DmaMappingContext({ ...core });
  const env: ArmIommuEnv = { iommu, memory: core.memory, cache: core.cache, pages: core.pages, log: core.log };
  return { core, iommu, bus, smmu, ctx, env };
}

/** A device on the rig's bus, bound to a driver and to the machine's DMA context. */
export function armDevice(r: ArmRig, name: string, coherent = false): Device {
  const dev = new Device(name, new FwNode(name));
  r.bus.addDevice(dev);
  dev.driver = { name: `${name}-drv` };
  dev.state = 'bound';
  dev.dma.coherent = coherent;
  r.ctx.configureDevice(dev);
  return dev;
}

/** The IOMMU as a translation hop: page by page through the domain's page table. */
export function iommuHop(domain: IommuDomain): DmaTranslation {
  return {
    translate(addr, len) {
      const phys = iommuIovaToPhys(domain, addr);
      if (phys === 0) return { ok: false, fault: 'iommu-fault', addr };
      const inPage = 4096 - (addr % 4096);
      return { ok: true, addr: phys, length: Math.min(len, inPage) };
    },
  };
}

/** What the device sees: its DMA through the IOMMU, snooping the CPU cache only when coherent. */
export function devicePort(r: ArmRig, dev: Device, domain: IommuDomain): DmaPort {
  return new TranslatingDmaPort(r.core.cache, dev.dma.coherent, [iommuHop(domain)]);
}

/** Deterministic bytes (pattern `seed`). */
export function pattern(len: number, seed: number): Uint8Array {
  const out = new Uint8Array(len);
  let x = seed >>> 0;
  for (let i = 0; i < len; i++) {
    x = (Math.imul(x, 1103515245) + 12345) >>> 0;
    out[i] = x >>> 24;
  }
  return out;
}
