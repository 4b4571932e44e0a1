/**
 * DMA set-up as current kernels do it (profile linux-6.x): in the probe path (the bus
 * dma_configure hook), after the IOMMU has probed the device, with -EPROBE_DEFER while the IOMMU
 * instance its firmware names is not registered. The group's default domain is used as it is:
 * iommu-dma ops for a DMA or DMA_FQ domain, dma-direct for IDENTITY (or no IOMMU).
 */
import type { ConfigureHook, Device, HookList, TeardownHook } from '@dmasim/bus';
import { EPROBE_DEFER, type KernelLog, type Scheduler } from '@dmasim/core';
import type { DmaMappingContext } from '@dmasim/dma-mapping';
import { isDmaDomainType, type IommuCore } from '@dmasim/iommu-core';
import { iommuDmaCookieOf, iommuGetDmaCookie } from '../iommu-dma/cookie';
import { dmaRangeOf, iommuDmaInitDomain } from '../iommu-dma/init-domain';
import { iommuDmaBindDevice, iommuDmaUnbindDevice, type IommuDma } from '../iommu-dma/iommu-dma';
import { devIsPci, setPci32BitWorkaround } from '../iommu-dma/iova-alloc';
import { IommuDmaOps } from './iommu-dma-ops';

export interface GenericDmaEnv {
  readonly dma: IommuDma;
  readonly ctx: DmaMappingContext;
  readonly iommu: IommuCore;
  readonly log: KernelLog;
  readonly sched?: Scheduler | null;
  /** iommu.forcedac: PCI devices go straight to 64-bit IOVAs. */
  readonly forceDac?: boolean;
}

export class GenericDmaSetup {
  readonly ops: IommuDmaOps;

  constructor(private readonly env: GenericDmaEnv) {
    this.ops = new IommuDmaOps(env.dma);
    if (env.forceDac) env.log.info('iommu: Forcing DAC for PCI devices');
  }

  /**
   * iommu_setup_dma_ops(): use the device's default domain as it is. A DMA/DMA_FQ domain gets its
   * cookie and IOVA space (failing that, the platform ops stay); other domains keep dma-direct.
   * Returns whether the device now uses iommu-dma.
   */
  iommuSetupDmaOps(dev: Device): boolean {
    const { ctx, iommu, log } = this.env;
    const domain = iommu.iommuGetDmaDomain(dev);
    if (devIsPci(dev)) setPci32BitWorkaround(dev, !(this.env.forceDac ?? false));
    if (domain === null || !isDmaDomainType(domain.type)) {
      iommuDmaUnbindDevice(dev);
      ctx.configureDevice(dev, ctx.direct);
      return false;
    }
    let ret = iommuDmaCookieOf(domain) === null ? iommuGetDmaCookie(domain) : 0;
    if (ret === 0) {
      const range = dmaRangeOf(dev, domain);
      ret = iommuDmaInitDomain(domain, range.base, range.size, { log, dev, sched: this.env.sched ?? null });
    }
    if (ret !== 0) {
      log.warning(`Failed to set up IOMMU for device ${dev.name}; retaining platform DMA ops`);
      iommuDmaUnbindDevice(dev);
      ctx.configureDevice(dev, ctx.direct);
      return false;
    }
    iommuDmaBindDevice(dev, this.env.dma, domain);
    ctx.configureDevice(dev, this.ops);
    return true;
  }

  /**
   * The bus dma_configure hook (of_dma_configure + arch_setup_dma_ops): -EPROBE_DEFER while the
   * device's IOMMU is not registered; otherwise platform ops, then the IOMMU set-up if the device
   * ended up in a group.
   */
  dmaConfigure(dev: Device): number {
    const { ctx, iommu } = this.env;
    const ret = iommu.iommuDmaConfigure(dev);
    if (ret === -EPROBE_DEFER) return ret;
    ctx.configureDevice(dev, ctx.direct);
    if (iommu.devIommuGroup(dev) !== null) this.iommuSetupDmaOps(dev);
    return 0;
  }

  /** arch_teardown_dma_ops(): forget the IOMMU ops; the device falls back to dma-direct. */
  archTeardownDmaOps(dev: Device): void {
    iommuDmaUnbindDevice(dev);
    this.env.ctx.configureDevice(dev, this.env.ctx.direct);
  }

  /** Hooks dmaConfigure / teardown into a driver core's probe path. Returns the remover. */
  installInto(core: { dmaConfigure: HookList<ConfigureHook>; dmaDeconfigure: HookList<TeardownHook> }): () => void {
    const a = core.dmaConfigure.add('iommu_dma_configure', (dev) => this.dmaConfigure(dev));
    const b = core.dmaDeconfigure.add('arch_teardown_dma_ops', (dev) => this.archTeardownDmaOps(dev));
    return () => {
      a();
      b();
    };
  }
}
