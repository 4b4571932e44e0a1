import type { Device, PhandleArgs } from '@dmasim/bus';
import { EEXIST, EINVAL, ENODEV, ENOSPC, GiB, KiB, MiB } from '@dmasim/core';
import type { IommuCore } from '../core';
import { IommuDomain, type IommuDomainOps, type MappedOut } from '../domain';
import { devIommuFwspecGet, iommuFwspecAddIds } from '../fwspec';
import { type IommuIotlbGather, iommuIotlbGatherAddRange } from '../gather';
import type { IommuGroup } from '../group';
import { IommuDevice, type IommuOps } from '../ops';
import type { IommuDomainType } from '../types';
import { pgsizeList } from '../map';

/** One leaf of the fake page table. */
interface FakePte {
  readonly paddr: number;
  readonly size: number;
  readonly prot: number;
}

/** A domain of FakeIommu: a map from page-aligned IOVA to leaf. */
export class FakeDomain extends IommuDomain {
  readonly ptes = new Map<number, FakePte>();
  /** Every mapPages call, for assertions on how iommuMap split a range. */
  readonly mapCalls: { iova: number; pgsize: number; pgcount: number }[] = [];
  readonly attached = new Set<Device>();
  syncs = 0;
}

export interface FakeIommuOptions {
  /** Firmware node name (what `iommus` phandles name). */
  readonly fwnode: string;
  readonly pgsizeBitmap?: number;
  /** Domains that can be attached at once (context banks); unlimited when absent. */
  readonly contexts?: number;
  readonly supportsDma?: boolean;
  readonly supportsIdentity?: boolean;
  /** Devices sharing a stream id share a group (the arm-smmu device_group rule). */
  readonly groupByStreamId?: boolean;
  /** 2015 masters: device names behind this IOMMU (legacy `mmu-masters`). */
  readonly masters?: readonly string[];
  readonly defDomainType?: (dev: Device) => IommuDomainType | 0;
}

/**
 * An IOMMU driver with an in-memory page table, for tests and for using the IOMMU API without an
 * SMMU model. It supports both probe generations.
 */
export class FakeIommu {
  readonly iommu: IommuDevice;
  readonly ops: IommuOps;
  readonly domains: FakeDomain[] = [];
  private readonly sidGroups = new Map<number, IommuGroup>();
  private readonly live = new Set<FakeDomain>();

  constructor(
    readonly core: IommuCore,
    readonly options: FakeIommuOptions,
  ) {
    const domainOps: IommuDomainOps = {
      attachDev: (d, dev) => this.attach(d as FakeDomain, dev),
      detachDev: (d, dev) => {
        (d as FakeDomain).attached.delete(dev);
      },
      mapPages: (d, iova, paddr, pgsize, pgcount, prot, out) => this.mapPages(d as FakeDomain, iova, paddr, pgsize, pgcount, prot, out),
      unmapPages: (d, iova, pgsize, pgcount, gather) => this.unmapPages(d as FakeDomain, iova, pgsize, pgcount, gather),
      iovaToPhys: (d, iova) => this.iovaToPhys(d as FakeDomain, iova),
      iotlbSync: (d) => {
        (d as FakeDomain).syncs++;
      },
      free: (d) => {
        this.live.delete(d as FakeDomain);
      },
    };
    const o = options;
    this.ops = {
      owner: 'fake-iommu',
      pgsizeBitmap: o.pgsizeBitmap ?? 4 * KiB + 2 * MiB + GiB,
      domainAlloc: (type) => {
        if (type === 'IDENTITY' && o.supportsIdentity === false) return null;
        if ((type === 'DMA' || type === 'DMA_FQ') && o.supportsDma === false) return null;
        if (type === 'BLOCKED') return null;
        const d = new FakeDomain(domainOps, { type, geometry: { apertureStart: 0, apertureEnd: 2 ** 48 - 1, forceAperture: true } });
        this.domains.push(d);
        this.live.add(d);
        return d;
      },
      probeDevice: (dev) => (devIommuFwspecGet(dev)?.iommuFwnode === o.fwnode ? this.iommu : -ENODEV),
      releaseDevice: () => undefined,
      deviceGroup: (dev) => this.deviceGroup(dev),
      ofXlate: (dev, args: PhandleArgs) => iommuFwspecAddIds(dev, [args.args[0] ?? 0]),
      addDevice: (dev) => this.addDevice(dev),
      removeDevice: (dev) => core.iommuGroupRemoveDevice(dev),
      ...(o.defDomainType ? { defDomainType: o.defDomainType } : {}),
    };
    this.iommu = new IommuDevice(this.ops, o.fwnode);
  }

  /** Domains currently allocated (not freed). */
  get liveDomains(): FakeDomain[] {
    return [...this.live];
  }

  /** Distinct domains with at least one device attached: the context banks in use. */
  get contextsInUse(): number {
    return this.domains.filter((d) => d.attached.size > 0).length;
  }

  private attach(d: FakeDomain, dev: Device): number {
    if (d.attached.has(dev)) return 0;
    const limit = this.options.contexts;
    if (limit !== undefined && d.attached.size === 0 && this.contextsInUse >= limit) return -ENOSPC;
    for (const other of this.domains) other.attached.delete(dev);
    d.attached.add(dev);
    return 0;
  }

  private mapPages(d: FakeDomain, iova: number, paddr: number, pgsize: number, pgcount: number, prot: number, out: MappedOut): number {
    d.mapCalls.push({ iova, pgsize, pgcount });
    for (let i = 0; i < pgcount; i++) {
      const at = iova + i * pgsize;
      if (this.iovaToPhys(d, at) !== 0 || d.ptes.has(at)) return -EEXIST;
      d.ptes.set(at, { paddr: paddr + i * pgsize, size: pgsize, prot });
      out.mapped += pgsize;
    }
    return 0;
  }

  private unmapPages(d: FakeDomain, iova: number, _pgsize: number, pgcount: number, gather: IommuIotlbGather): number {
    let unmapped = 0;
    for (let i = 0; i < pgcount; i++) {
      const pte = d.ptes.get(iova + unmapped);
      if (pte === undefined) break;
      d.ptes.delete(iova + unmapped);
      iommuIotlbGatherAddRange(gather, iova + unmapped, pte.size);
      unmapped += pte.size;
    }
    return unmapped;
  }

  private iovaToPhys(d: FakeDomain, iova: number): number {
    for (const size of pgsizeList(d.pgsizeBitmap)) {
      const base = iova - (iova % size);
      const pte = d.ptes.get(base);
      if (pte !== undefined && pte.size === size) return pte.paddr + (iova - base);
    }
    return 0;
  }

  private deviceGroup(dev: Device): IommuGroup | number {
    const pci = this.core.pci?.lookup(dev) ?? null;
    if (!this.options.groupByStreamId) return pci !== null ? this.core.pciDeviceGroup(dev) : this.core.genericDeviceGroup(dev);
    const ids = devIommuFwspecGet(dev)?.ids ?? [];
    let group: IommuGroup | null = null;
    for (const sid of ids) {
      const g = this.sidGroups.get(sid);
      if (g === undefined) continue;
      if (group !== null && g !== group) return -EINVAL;
      group = g;
    }
    if (group !== null) group = this.core.iommuGroupRefGet(group);
    else {
      const g = pci !== null ? this.core.pciDeviceGroup(dev) : this.core.genericDeviceGroup(dev);
      if (typeof g === 'number') return g;
      group = g;
    }
    for (const sid of ids) this.sidGroups.set(sid, group);
    return group;
  }

  /** 2015 add_device: only the listed masters; PCI through the core, platform groups made here. */
  private addDevice(dev: Device): number {
    if (!(this.options.masters ?? []).includes(dev.name)) return -ENODEV;
    let group = this.core.iommuGroupGetForDev(dev);
    if (group === -EINVAL) {
      const g = this.core.iommuGroupAlloc();
      this.core.iommuGroupAddDevice(g, dev);
      group = g;
    }
    if (typeof group === 'number') return group;
    this.core.iommuGroupPut(group);
    return 0;
  }
}
