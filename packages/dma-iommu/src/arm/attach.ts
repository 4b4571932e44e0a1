import type { Device } from '@dmasim/bus';
import type { KernelLog } from '@dmasim/core';
import { DMA_OPS_SLOT, getDmaContext, setDmaOps } from '@dmasim/dma-mapping';
import type { DmaIommuMapping } from './mapping';
import { armIommuOpsOfMapping } from './ops-registry';
import { ARM_IOMMU_MAPPING_SLOT } from './slot';

/** to_dma_iommu_mapping(dev): the mapping the device is attached to, or null. */
export function toDmaIommuMapping(dev: Device): DmaIommuMapping | null {
  return dev.getSlot(ARM_IOMMU_MAPPING_SLOT) ?? null;
}

/**
 * arm_iommu_attach_device(): attach the device to the mapping's domain (the IOMMU API's error is
 * returned as is), take a reference on the mapping and switch the device to the arm IOMMU ops.
 * Several devices may share one mapping. The 2014 kernel always installed the non-coherent
 * `iommu_ops` here; dmasim picks `iommu_coherent_ops` for a coherent device, as
 * arch_setup_dma_ops later did.
 */
export function armIommuAttachDevice(dev: Device, mapping: DmaIommuMapping): number {
  const { env, ops, coherentOps } = armIommuOpsOfMapping(mapping);
  const err = env.iommu.iommuAttachDevice(mapping.domain, dev);
  if (err !== 0) return err;
  mapping.get();
  dev.setSlot(ARM_IOMMU_MAPPING_SLOT, mapping);
  setDmaOps(dev, dev.dma.coherent ? coherentOps : ops);
  env.log.debug(`Attached IOMMU controller to ${dev.name} device.`);
  return 0;
}

/**
 * arm_iommu_detach_device(): `Not attached` when the device has no mapping; otherwise detach from
 * the domain, drop the reference (the last one frees the domain and bitmaps) and give the device
 * back its default ops (set_dma_ops(dev, NULL): dma-direct when it is bound to a DMA context).
 * `log` stands in for the device's machine when the device is not bound to a DMA context.
 */
export function armIommuDetachDevice(dev: Device, log?: KernelLog): void {
  const mapping = toDmaIommuMapping(dev);
  if (mapping === null) {
    // the warning goes to the given log, else to the log of the machine the device is bound to
    (log ?? getDmaContext(dev)?.log)?.devWarn(dev, 'Not attached');
    return;
  }
  const { env } = armIommuOpsOfMapping(mapping);
  env.iommu.iommuDetachDevice(mapping.domain, dev);
  mapping.put();
  dev.clearSlot(ARM_IOMMU_MAPPING_SLOT);
  const ctx = getDmaContext(dev);
  if (ctx !== undefined) setDmaOps(dev, ctx.direct);
  else dev.clearSlot(DMA_OPS_SLOT);
  env.log.debug(`Detached IOMMU controller from ${dev.name} device.`);
}
