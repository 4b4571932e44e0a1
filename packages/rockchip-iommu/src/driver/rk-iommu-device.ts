import type { PlatformDevice } from '@dmasim/bus';
import type { MmioBus } from '@dmasim/core';
import type { IommuDevice } from '@dmasim/iommu-core';
import type { RkIommuDomain } from './domain';

/** struct rk_iommu: one probed instance (its register base, interrupt and attached domain). */
export class RkIommu {
  /** iommu->domain: the domain programmed into DTE_ADDR, or null (identity / detached). */
  domain: RkIommuDomain | null = null;
  /** struct iommu_device (later kernels register one per instance). */
  iommu: IommuDevice | null = null;
  /** Name the fault handler was requested under (2015: the master's name, at attach). */
  irqName: string | null = null;

  constructor(
    readonly dev: PlatformDevice,
    private readonly mmio: MmioBus,
    readonly base: number,
    readonly irq: number,
    /** rockchip,disable-mmu-reset. */
    readonly resetDisabled: boolean,
  ) {}

  get fwnode(): string {
    return this.dev.fwnode.name;
  }

  /** rk_iommu_read. */
  read(offset: number): number {
    return this.mmio.readl(this.base + offset);
  }

  /** rk_iommu_write. */
  write(offset: number, value: number): void {
    this.mmio.writel(this.base + offset, value);
  }
}
