import { Slot, type Device } from '@dmasim/bus';

/** Where a device's registers and interrupt are (platform `reg`/`interrupts`, PCI BAR 0 and INTx). */
export interface DeviceResources {
  readonly mmioBase: number;
  readonly irq: number;
}

/** Set by the machine on devices whose firmware node carries no `reg` / `interrupts` (PCI functions). */
export const DEVICE_RESOURCES_SLOT = new Slot<DeviceResources>('devices.resources');

/**
 * platform_get_resource / platform_get_irq (or pci_resource_start / pdev->irq): the firmware node's
 * first `reg` and `interrupts` entries, else what the machine put in the resources slot.
 */
export function deviceResources(dev: Device): DeviceResources | null {
  const reg = dev.fwnode.get('reg');
  const irqs = dev.fwnode.get('interrupts');
  const slot = dev.getSlot(DEVICE_RESOURCES_SLOT);
  const mmioBase = reg !== undefined && reg.length > 0 ? reg[0]! : slot?.mmioBase;
  const irq = irqs !== undefined && irqs.length > 0 ? irqs[0]! : slot?.irq;
  if (mmioBase === undefined || irq === undefined) return null;
  return { mmioBase, irq };
}
