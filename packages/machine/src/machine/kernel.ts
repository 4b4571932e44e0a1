import { BUS_NOTIFY_UNBOUND_DRIVER, NOTIFY_DONE, type BusServices, type Device } from '@dmasim/bus';
import type { CoreServices } from '@dmasim/core';
import { getDmaContext, type DmaMappingContext } from '@dmasim/dma-mapping';
import {
  armIommuAttachDevice,
  armIommuCreateMapping,
  dmaIovaDestroy,
  dmaIovaFree,
  dmaIovaLink,
  dmaIovaSync,
  dmaIovaTryAlloc,
  dmaIovaUnlink,
  type ArmIommuEnv,
} from '@dmasim/dma-iommu';
import { IOVA_LINK_SLOT, type IovaLinkApi } from '@dmasim/devices';
import { busNotifierHostOf, type IommuCore } from '@dmasim/iommu-core';
import { errnoName } from '@dmasim/core';
import type { BoardKernel } from '../board/schema';

/** Which arch DMA ops layer wires devices, from the board's arch and profile. */
export type OpsLayer = 'arm' | 'arm64-2015' | 'generic';

export function opsLayerOf(kernel: BoardKernel): OpsLayer {
  if (kernel.arch === 'arm') return 'arm';
  if (kernel.arch === 'arm64' && kernel.profile === 'linux-4.2') return 'arm64-2015';
  return 'generic';
}

/** The two-step IOVA API of dma-iommu, handed to device drivers as a capability. */
export const iovaLinkAdapter: IovaLinkApi = {
  tryAlloc: dmaIovaTryAlloc,
  link: dmaIovaLink,
  sync: dmaIovaSync,
  unlink: dmaIovaUnlink,
  free: dmaIovaFree,
  destroy: dmaIovaDestroy,
};

/**
 * The part of of_dma_configure every layer shares: the device joins the machine's DMA context with
 * dma-direct ops, unless a layer already configured it. Runs first in the probe path.
 */
export function installBaseDmaConfigure(bus: BusServices, ctx: DmaMappingContext): void {
  bus.core.dmaConfigure.add(
    'of_dma_configure',
    (dev) => {
      if (getDmaContext(dev) === undefined) ctx.configureDevice(dev, ctx.direct);
      dev.setSlot(IOVA_LINK_SLOT, iovaLinkAdapter);
      return 0;
    },
    100,
  );
}

/** dma_debug_add_bus: on every bus, report mappings a driver still holds when it is unbound. */
export function installDmaDebugBusHooks(bus: BusServices, ctx: DmaMappingContext): void {
  for (const b of [bus.platform, bus.amba, bus.pci]) {
    b.registerNotifier({
      name: 'dma_debug_device_change',
      call: (action, dev) => {
        if (action === BUS_NOTIFY_UNBOUND_DRIVER) ctx.deviceUnbound(dev);
        return NOTIFY_DONE;
      },
    });
  }
}

export interface ArmLayerOptions {
  readonly variant: 'extend' | 'simple';
  readonly base: number;
  readonly size: number;
  readonly grow: number;
  readonly max: number;
  readonly order: number;
}

/**
 * The 32-bit arm layer (seed 000): a device behind an IOMMU gets its own dma_iommu_mapping over a
 * bitmap and is attached to it (arm_setup_iommu_dma_ops); others keep dma-direct. Done in the probe
 * path, after the IOMMU core has added the device to a group.
 */
export function installArmLayer(bus: BusServices, core: CoreServices, ctx: DmaMappingContext, iommu: IommuCore, hasIommu: (dev: Device) => boolean, opts: ArmLayerOptions): void {
  const env: ArmIommuEnv = { iommu, memory: core.memory, cache: core.cache, pages: core.pages, log: core.log };
  const platform = busNotifierHostOf(bus.platform);
  bus.core.dmaConfigure.add('arm_setup_iommu_dma_ops', (dev) => {
    if (!hasIommu(dev) || iommu.devIommuGroup(dev) === null) return 0;
    const mapping =
      opts.variant === 'simple'
        ? armIommuCreateMapping(env, platform, opts.base, opts.max, { variant: 'simple', accuracy: 4096 * 2 ** opts.order })
        : armIommuCreateMapping(env, platform, opts.base, opts.size, { growSize: opts.grow, maxSize: opts.max, order: opts.order });
    if (typeof mapping === 'number') {
      // arm_setup_iommu_dma_ops' own wording (pr_warn, no device prefix)
      core.log.warning(`Failed to create ${opts.size}-byte IOMMU mapping for device ${dev.name}`);
      core.log.debug(`arm-iommu: mapping creation failed with ${errnoName(mapping)}`);
      return 0;
    }
    const err = armIommuAttachDevice(dev, mapping);
    if (err !== 0) {
      core.log.warning(`Failed to attached device ${dev.name} to IOMMU_mapping`);
      mapping.put();
      ctx.configureDevice(dev, ctx.direct);
    }
    return 0;
  });
}
