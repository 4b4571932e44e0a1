/**
 * A small IOMMU driver for tests that need what FakeIommu does not model: an IOTLB that keeps
 * translations until the driver's sync or flush-all (so lazy mode's stale window is visible), and
 * the 2015 arm-smmu rule that a master cannot be attached before add_device has seen it. Devices
 * reach memory through `deviceRead` / `deviceWrite`, which translate (IOTLB, then the tables) and
 * then go through the CPU cache model as a device would.
 */
import type { Device, PhandleArgs } from '@dmasim/bus';
import { ENODEV, ENXIO, EEXIST, PAGE_SIZE, type CpuCache } from '@dmasim/core';
import {
  IOMMU_READ,
  IOMMU_WRITE,
  IommuDevice,
  IommuDomain,
  devIommuFwspecGet,
  iommuFwspecAddIds,
  iommuIotlbGatherAddRange,
  type IommuCore,
  type IommuDomainOps,
  type IommuOps,
} from '@dmasim/iommu-core';

interface Pte {
  readonly phys: number;
  readonly prot: number;
}

export class TlbDomain extends IommuDomain {
  readonly ptes = new Map<number, Pte>();
  readonly tlb = new Map<number, Pte>();
  readonly attached = new Set<Device>();
  flushAlls = 0;
  syncs = 0;
}

export interface TlbIommuOptions {
  readonly fwnode: string;
  /** 2015 masters (legacy mmu-masters): devices add_device accepts. */
  readonly masters?: readonly string[];
  /** attach_dev refuses a device add_device has not seen (arm-smmu, 2015). Default true. */
  readonly attachNeedsAddDevice?: boolean;
}

export type DeviceAccess = { ok: true } | { ok: false; iova: number; reason: 'translation' | 'permission' };

export class TlbIommu {
  readonly ops: IommuOps;
  readonly iommu: IommuDevice;
  readonly domains: TlbDomain[] = [];
  /** Devices add_device has seen. */
  readonly seen = new Set<Device>();
  /** IOTLB hits and table walks, for assertions. */
  hits = 0;
  walks = 0;

  constructor(
    readonly core: IommuCore,
    readonly cache: CpuCache,
    readonly options: TlbIommuOptions,
  ) {
    const domainOps: IommuDomainOps = {
      attachDev: (d, dev) => this.attach(d as TlbDomain, dev),
      detachDev: (d, dev) => {
        (d as TlbDomain).attached.delete(dev);
      },
      mapPages: (d, iova, paddr, pgsize, pgcount, prot, out) => {
        const td = d as TlbDomain;
        for (let i = 0; i < pgcount; i++) {
          const pfn = (iova + i * pgsize) / PAGE_SIZE;
          if (td.ptes.has(pfn)) return -EEXIST;
          td.ptes.set(pfn, { phys: paddr + i * pgsize, prot });
          out.mapped += pgsize;
        }
        return 0;
      },
      unmapPages: (d, iova, pgsize, pgcount, gather) => {
        const td = d as TlbDomain;
        let done = 0;
        for (let i = 0; i < pgcount; i++) {
          const pfn = (iova + done) / PAGE_SIZE;
          if (!td.ptes.delete(pfn)) break;
          done += pgsize;
        }
        if (done > 0) iommuIotlbGatherAddRange(gather, iova, done);
        return done;
      },
      iovaToPhys: (d, iova) => {
        const pte = (d as TlbDomain).ptes.get(Math.floor(iova / PAGE_SIZE));
        return pte === undefined ? 0 : pte.phys + (iova % PAGE_SIZE);
      },
      iotlbSync: (d, gather) => {
        const td = d as TlbDomain;
        td.syncs++;
        if (gather.empty) return;
        for (let a = gather.start; a <= gather.end; a += PAGE_SIZE) td.tlb.delete(Math.floor(a / PAGE_SIZE));
      },
      flushIotlbAll: (d) => {
        const td = d as TlbDomain;
        td.flushAlls++;
        td.tlb.clear();
      },
    };
    const o = options;
    this.ops = {
      owner: 'tlb-iommu',
      pgsizeBitmap: PAGE_SIZE,
      domainAlloc: (type) => {
        if (type === 'BLOCKED' || type === 'IDENTITY') return null;
        const d = new TlbDomain(domainOps, { type, pgsizeBitmap: PAGE_SIZE, geometry: { apertureStart: 0, apertureEnd: 2 ** 48 - 1, forceAperture: true } });
        this.domains.push(d);
        return d;
      },
      probeDevice: (dev) => (devIommuFwspecGet(dev)?.iommuFwnode === o.fwnode ? this.iommu : -ENODEV),
      ofXlate: (dev, args: PhandleArgs) => iommuFwspecAddIds(dev, [args.args[0] ?? 0]),
      addDevice: (dev) => {
        if (!(o.masters ?? []).includes(dev.name)) return -ENODEV;
        this.seen.add(dev);
        const g = this.core.iommuGroupAlloc();
        this.core.iommuGroupAddDevice(g, dev);
        this.core.iommuGroupPut(g);
        return 0;
      },
      removeDevice: (dev) => {
        this.seen.delete(dev);
        this.core.iommuGroupRemoveDevice(dev);
      },
    };
    this.iommu = new IommuDevice(this.ops, o.fwnode);
  }

  private attach(d: TlbDomain, dev: Device): number {
    const needsAdd = this.options.attachNeedsAddDevice ?? true;
    if (needsAdd && this.options.masters !== undefined && !this.seen.has(dev)) {
      this.core.log.devErr(dev, 'cannot attach to SMMU, is it on the same bus?');
      return -ENXIO;
    }
    for (const other of this.domains) other.attached.delete(dev);
    d.attached.add(dev);
    return 0;
  }

  /** The domain a device is attached to, if any. */
  domainOf(dev: Device): TlbDomain | null {
    return this.domains.find((d) => d.attached.has(dev)) ?? null;
  }

  private translate(dev: Device, iova: number, write: boolean): number {
    const d = this.domainOf(dev);
    if (d === null) return -1;
    const pfn = Math.floor(iova / PAGE_SIZE);
    let pte = d.tlb.get(pfn);
    if (pte !== undefined) this.hits++;
    else {
      this.walks++;
      pte = d.ptes.get(pfn);
      if (pte === undefined) return -1;
      d.tlb.set(pfn, pte);
    }
    const need = write ? IOMMU_WRITE : IOMMU_READ;
    if ((pte.prot & need) === 0) return -2;
    return pte.phys + (iova % PAGE_SIZE);
  }

  private access(dev: Device, iova: number, buf: Uint8Array, write: boolean): DeviceAccess {
    let done = 0;
    while (done < buf.length) {
      const a = iova + done;
      const phys = this.translate(dev, a, write);
      if (phys < 0) return { ok: false, iova: a, reason: phys === -2 ? 'permission' : 'translation' };
      const n = Math.min(buf.length - done, PAGE_SIZE - (a % PAGE_SIZE));
      const part = buf.subarray(done, done + n);
      if (write) this.cache.deviceWrite(phys, part, dev.dma.coherent);
      else this.cache.deviceRead(phys, part, dev.dma.coherent);
      done += n;
    }
    return { ok: true };
  }

  /** The device reads `len` bytes at `iova` (through its IOMMU). */
  deviceRead(dev: Device, iova: number, len: number): Uint8Array | DeviceAccess {
    const buf = new Uint8Array(len);
    const r = this.access(dev, iova, buf, false);
    return r.ok ? buf : r;
  }

  deviceWrite(dev: Device, iova: number, data: Uint8Array): DeviceAccess {
    return this.access(dev, iova, data, true);
  }
}
