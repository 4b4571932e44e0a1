import type { BusServices, PciDev, PciDriver } from '@dmasim/bus';
import type { CoreServices } from '@dmasim/core';
import type { DeviceModel } from '../model';
import { netDevOf, ringNicProbe } from './ring-nic-driver';
import { RingNicHw } from './ring-nic-hw';
import { netLoopbackWorkload } from './xgmac-model';

export const SKY2_DRIVER_NAME = 'sky2';

/** The `sky2` PCI driver for 11ab:4380 (Marvell Yukon, the Juno onboard LAN role). */
export function sky2Driver(core: CoreServices, bus: BusServices): PciDriver {
  return {
    name: SKY2_DRIVER_NAME,
    bus: bus.pci,
    idTable: [{ vendor: 0x11ab, device: 0x4380 }],
    probe: (pdev: PciDev) => ringNicProbe(core, pdev, SKY2_DRIVER_NAME, (ifname) => ['Yukon-2 UL 2 chip revision 0', `${ifname}: addr 00:02:f7:00:00:01`]),
    remove: (pdev: PciDev) => {
      netDevOf(pdev)?.release();
      pdev.driverData = undefined;
    },
  };
}

/** The PCI NIC `11ab:4380`, driver `sky2`, workload `net-loopback`. */
export const sky2NicModel: DeviceModel = {
  name: 'marvell-sky2',
  pciIds: ['11ab:4380'],
  workloads: ['net-loopback'],
  createHardware: (ctx) => new RingNicHw(ctx, { pci: { vendor: 0x11ab, device: 0x4380 }, dma64: true }),
  drivers: (ctx) => [sky2Driver(ctx.core, ctx.bus)],
  runWorkload: netLoopbackWorkload,
};
