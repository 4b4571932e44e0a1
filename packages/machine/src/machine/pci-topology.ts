import { PciDev, type Device, type FwNode } from '@dmasim/bus';
import type { PciFunctionInfo, PciTopology } from '@dmasim/iommu-core';

const PCI_HEADER_TYPE_MFD = 0x80;

/**
 * The IOMMU core's view of the enumerated PCI hierarchy. Root ports are PCIe root ports with ACS
 * enabled (as on server-class hosts), so each endpoint behind its own port is its own group, and
 * functions of one multi-function device without ACS share one.
 */
export class MachinePciTopology implements PciTopology {
  private readonly infos = new Map<PciDev, PciFunctionInfo>();

  constructor(private readonly all: () => readonly PciDev[]) {}

  lookup(dev: Device): PciFunctionInfo | null {
    if (!(dev instanceof PciDev)) return null;
    let info = this.infos.get(dev);
    if (info === undefined) {
      const up = dev.upstreamBridge;
      info = {
        dev,
        busNumber: dev.busNr,
        devfn: dev.devfn,
        portType: dev.isBridge ? 'root-port' : 'endpoint',
        multifunction: (dev.headerType & PCI_HEADER_TYPE_MFD) !== 0, // 8-bit config register
        acs: dev.isBridge,
        dmaAliasDevfns: [],
        upstream: up === null ? null : this.lookup(up),
        ...(dev.isBridge ? { subordinateBus: dev.secondaryBus } : {}),
      };
      this.infos.set(dev, info);
    }
    return info;
  }

  *functions(): Iterable<PciFunctionInfo> {
    for (const d of this.all()) {
      const i = this.lookup(d);
      if (i !== null) yield i;
    }
  }

  hostBridgeNode(dev: Device): FwNode | null {
    return dev instanceof PciDev ? dev.hostBridge.fwnode : null;
  }
}
