import type { Device } from '@dmasim/bus';
import type { IommuDomain } from './domain';

/**
 * struct iommu_group: the smallest set of devices the IOMMU can isolate from each other. Every
 * device in a group is attached to the same domain at all times.
 */
export class IommuGroup {
  /** Devices in the order they joined. */
  readonly devices: Device[] = [];
  /** The domain the DMA API uses for this group (its default domain). */
  defaultDomain: IommuDomain | null = null;
  /** The domain every device of the group is attached to now. */
  domain: IommuDomain | null = null;
  blockingDomain: IommuDomain | null = null;
  /** Driver data (iommu_group_set_iommudata). */
  iommuData: unknown = undefined;
  name: string | null = null;
  /** References held by devices and drivers; the group is released at zero. */
  refs = 1;
  /** Set while bus probing has deferred this group's default domain setup. */
  pendingDefaultDomain = false;

  constructor(
    /** The id `ida_alloc` gave: lowest free, from 0. */
    readonly id: number,
  ) {}

  get deviceCount(): number {
    return this.devices.length;
  }

  has(dev: Device): boolean {
    return this.devices.includes(dev);
  }
}

/** Lowest-free id allocator (the kernel's IDA) for group ids. */
export class IdAllocator {
  private readonly used = new Set<number>();

  alloc(): number {
    let id = 0;
    while (this.used.has(id)) id++;
    this.used.add(id);
    return id;
  }

  free(id: number): void {
    this.used.delete(id);
  }
}
