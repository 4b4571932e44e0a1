/**
 * The arm64 DMA set-up of seed 002 (2015, profile linux-4.2): arch_setup_dma_ops() runs when the
 * device is CREATED, before it is on its bus, so the IOMMU driver has not seen it and it has no
 * group. The device's domain (or a DMA domain made straight from the IOMMU's ops, with a cookie) is
 * initialised then; the attach is queued and done by a bus notifier at priority -100, i.e. after
 * the IOMMU core's own notifier (priority 0) has run the driver's add_device on ADD_DEVICE.
 */
import type { Device, HookList, TeardownHook } from '@dmasim/bus';
import type { KernelLog } from '@dmasim/core';
import type { DmaMappingContext } from '@dmasim/dma-mapping';
import type { BusNotifierBlock, BusNotifierHost, BusNotifyAction, IommuCore, IommuDomain, IommuOps } from '@dmasim/iommu-core';
import { iommuDmaCookieOf, iommuGetDmaCookie, iommuPutDmaCookie } from '../iommu-dma/cookie';
import { iommuDmaInitDomain } from '../iommu-dma/init-domain';
import { iommuDmaBindDevice, iommuDmaDomainOf, iommuDmaUnbindDevice, type IommuDma } from '../iommu-dma/iommu-dma';
import { Arm64IommuDmaOps } from './arm64-ops';

/** The attach notifier's priority: below the IOMMU core's (0), so add_device has run first. */
export const IOMMU_DMA_ATTACH_NOTIFIER_PRIORITY = -100;

/** struct iommu_dma_notifier_data: a device waiting for its attach. */
export interface QueuedAttach {
  readonly dev: Device;
  readonly domain: IommuDomain;
}

export interface Arm64DmaEnv {
  readonly dma: IommuDma;
  readonly ctx: DmaMappingContext;
  readonly iommu: IommuCore;
  readonly log: KernelLog;
}

export class Arm64DmaSetup {
  readonly ops: Arm64IommuDmaOps;
  /** iommu_dma_masters: newest first, as list_add puts them. */
  readonly masters: QueuedAttach[] = [];
  /** Domains made here (__IOMMU_DOMAIN_ARM64) and cookies given here (__IOMMU_DOMAIN_ARM64_IOVA). */
  private readonly fakeDomains = new WeakSet<IommuDomain>();
  private readonly ownCookies = new WeakSet<IommuDomain>();
  private readonly notifiers: { bus: BusNotifierHost; nb: BusNotifierBlock }[] = [];
  private readonly log: KernelLog;

  constructor(private readonly env: Arm64DmaEnv) {
    this.ops = new Arm64IommuDmaOps(env.dma);
    this.log = env.log;
  }

  /**
   * arm64_iommu_dma_init() (arch_initcall): register the attach notifier on each bus (platform and
   * AMBA). `priority` exists to show what goes wrong at the default priority 0. Returns 0 or the
   * first error.
   */
  arm64IommuDmaInit(buses: readonly BusNotifierHost[], priority = IOMMU_DMA_ATTACH_NOTIFIER_PRIORITY): number {
    for (const bus of buses) {
      const ret = this.registerIommuDmaOpsNotifier(bus, priority);
      if (ret !== 0) return ret;
    }
    return 0;
  }

  private registerIommuDmaOpsNotifier(bus: BusNotifierHost, priority: number): number {
    const nb: BusNotifierBlock = {
      name: '__iommu_attach_notifier',
      priority,
      notifierCall: (action, dev) => this.attachNotifier(action, dev),
    };
    const ret = bus.registerNotifier(nb);
    if (ret !== 0) {
      this.log.warning(`Failed to register DMA domain notifier; IOMMU DMA ops unavailable on bus '${bus.name}'`);
      return ret;
    }
    this.notifiers.push({ bus, nb });
    return 0;
  }

  /**
   * __iommu_attach_notifier(): on ADD_DEVICE, attach every queued device. The list normally holds
   * just the device being added; one whose attach failed stays for a free retry next time.
   */
  private attachNotifier(action: BusNotifyAction, _dev: Device): number {
    if (action !== 'ADD_DEVICE') return 0;
    for (const master of [...this.masters]) {
      if (this.env.iommu.iommuAttachDevice(master.domain, master.dev) !== 0) {
        this.log.warning(`Failed to attach device ${master.dev.name} to IOMMU mapping; retaining platform DMA ops`);
        continue;
      }
      this.installOps(master.dev, master.domain);
      this.masters.splice(this.masters.indexOf(master), 1);
    }
    return 0;
  }

  private installOps(dev: Device, domain: IommuDomain): void {
    iommuDmaBindDevice(dev, this.env.dma, domain);
    this.env.ctx.configureDevice(dev, this.ops);
  }

  /**
   * arch_setup_dma_ops(dev, dma_base, size, iommu, coherent): the platform ops first (dma-direct,
   * with swiotlb behind it), then, behind an IOMMU, the IOMMU set-up.
   */
  archSetupDmaOps(dev: Device, dmaBase: number, size: number, iommu: IommuOps | null, coherent: boolean): void {
    this.env.ctx.configureDevice(dev, this.env.ctx.direct);
    dev.dma.coherent = coherent;
    this.iommuSetupDmaOps(dev, dmaBase, size, iommu);
  }

  /** __iommu_setup_dma_ops(). */
  private iommuSetupDmaOps(dev: Device, dmaBase: number, size: number, ops: IommuOps | null): void {
    if (ops === null) return;
    const core = this.env.iommu;
    let domain = core.iommuGetDomainForDev(dev);
    if (domain === null) {
      // no default domains for platform devices yet: make one straight from this IOMMU's ops
      domain = ops.domainAlloc('DMA') ?? ops.domainAlloc('UNMANAGED');
      if (domain === null) {
        this.log.warning(`Failed to set up IOMMU domain for device ${dev.name}`);
        return;
      }
      domain.owner = ops;
      domain.type = 'DMA';
      domain.log ??= this.log;
      if (domain.pgsizeBitmap === 0) domain.pgsizeBitmap = ops.pgsizeBitmap;
      this.fakeDomains.add(domain);
      if (iommuDmaCookieOf(domain) === null) {
        this.ownCookies.add(domain);
        if (iommuGetDmaCookie(domain) !== 0) {
          this.putDomain(domain);
          this.log.warning(`Failed to set up IOMMU domain for device ${dev.name}`);
          return;
        }
      }
    }
    if (iommuDmaInitDomain(domain, dmaBase, size, { log: this.log, dev }) !== 0) {
      this.log.warning(`Failed to create ${size}-byte IOMMU mapping for device ${dev.name}`);
      this.putDomain(domain);
      this.log.warning(`Failed to set up IOMMU domain for device ${dev.name}`);
      return;
    }
    if (core.devIommuGroup(dev) !== null) {
      if (core.iommuAttachDevice(domain, dev) !== 0) {
        this.putDomain(domain);
        this.log.warning(`Failed to set up IOMMU domain for device ${dev.name}`);
        return;
      }
      this.installOps(dev, domain);
      return;
    }
    // queue_iommu_attach(): list_add, newest first
    this.masters.unshift({ dev, domain });
  }

  private putDomain(domain: IommuDomain): void {
    if (this.ownCookies.has(domain)) {
      iommuPutDmaCookie(domain);
      this.ownCookies.delete(domain);
    }
    if (this.fakeDomains.has(domain)) {
      this.fakeDomains.delete(domain);
      this.env.iommu.iommuDomainFree(domain);
    }
  }

  /**
   * arch_teardown_dma_ops(): detach, release what set-up made (cookie, fake domain), and go back to
   * the platform ops. A device still waiting for its attach is taken off the queue.
   */
  archTeardownDmaOps(dev: Device): void {
    const qi = this.masters.findIndex((m) => m.dev === dev);
    if (qi >= 0) {
      const [m] = this.masters.splice(qi, 1);
      this.putDomain(m!.domain);
    }
    const domain = this.env.iommu.iommuGetDomainForDev(dev) ?? iommuDmaDomainOf(dev);
    if (domain !== null) {
      this.env.iommu.iommuDetachDevice(domain, dev);
      this.putDomain(domain);
      iommuDmaUnbindDevice(dev);
      this.env.ctx.configureDevice(dev, this.env.ctx.direct);
    }
  }

  /**
   * The 2015 of_dma_configure() at device creation: the DMA window from dma-ranges (else from 0 up
   * to the coherent mask), the IOMMU from the `iommus` property (of_iommu_configure), coherence from
   * `dma-coherent`; then arch_setup_dma_ops.
   */
  ofDmaConfigure(dev: Device): void {
    const map = dev.dma.rangeMap;
    let base = 0;
    let size = dev.coherentDmaMaskLimit + 1;
    if (map !== null && map.length > 0) {
      base = Math.min(...map.map((r) => r.dmaStart));
      size = Math.max(...map.map((r) => r.dmaStart + r.size)) - base;
    }
    const ops = this.env.iommu.ofIommuConfigureLegacy(dev);
    this.archSetupDmaOps(dev, base, size, ops, dev.dma.coherent);
  }

  /**
   * Hooks the set-up into a driver core's device-creation path (its `createAndAddDevice`), with
   * teardown when adding the created device fails. Returns a function that removes both hooks.
   */
  installInto(core: { deviceCreate: HookList<TeardownHook>; deviceCreateUndo: HookList<TeardownHook> }): () => void {
    const a = core.deviceCreate.add('of_dma_configure', (dev) => this.ofDmaConfigure(dev));
    const b = core.deviceCreateUndo.add('of_dma_deconfigure', (dev) => this.archTeardownDmaOps(dev));
    return () => {
      a();
      b();
    };
  }

  /** Unregister the attach notifiers (machine teardown). */
  dispose(): void {
    for (const { bus, nb } of this.notifiers) bus.unregisterNotifier(nb);
    this.notifiers.length = 0;
  }
}
