/**
 * What the IOMMU core needs to know about PCI to group devices the way pci_device_group() does:
 * requester ids, the bridges above a function, DMA alias quirks and ACS isolation. The bus
 * package's PCI model provides this through `PciTopology`.
 */
import type { Device, FwNode } from '@dmasim/bus';

/** The PCIe port type of a function (pci_pcie_type), or `conventional` for a non-PCIe function. */
export type PciePortType = 'endpoint' | 'root-port' | 'upstream' | 'downstream' | 'pcie-to-pci' | 'pci-to-pcie' | 'conventional';

/** One PCI function as the IOMMU core sees it. */
export interface PciFunctionInfo {
  readonly dev: Device;
  /** Number of the bus the function sits on. */
  readonly busNumber: number;
  /** Device and function: slot * 8 + function. */
  readonly devfn: number;
  readonly portType: PciePortType;
  readonly multifunction: boolean;
  /** ACS with source validation, request and completion redirect and upstream forwarding enabled. */
  readonly acs: boolean;
  /** DMA alias quirks (pdev->dma_alias_mask): other devfns on the same bus this function also uses. */
  readonly dmaAliasDevfns: readonly number[];
  /** The bridge whose secondary bus this function sits on (bus->self); null on a root bus. */
  readonly upstream: PciFunctionInfo | null;
  /** For a bridge: the number of its secondary bus. */
  readonly subordinateBus?: number;
  /** A bridge flagged PCI_DEV_FLAG_PCIE_BRIDGE_ALIAS (conventional bridge that aliases like a PCIe one). */
  readonly pcieBridgeAlias?: boolean;
}

export interface PciTopology {
  /** The PCI view of a device, or null for a non-PCI device. */
  lookup(dev: Device): PciFunctionInfo | null;
  /** Every PCI function of the machine (for_each_pci_dev). */
  functions(): Iterable<PciFunctionInfo>;
  /** Firmware node of the host bridge above the function (the node holding `iommu-map`). */
  hostBridgeNode?(dev: Device): FwNode | null;
}

/** PCI_DEVID(bus, devfn): the 16-bit requester id. */
export function pciDevid(busNumber: number, devfn: number): number {
  return busNumber * 256 + devfn;
}

/** pci_dev_id(). */
export function pciDevId(fn: PciFunctionInfo): number {
  return pciDevid(fn.busNumber, fn.devfn);
}

/** PCI_SLOT(devfn). */
export function pciSlot(devfn: number): number {
  return Math.floor(devfn / 8);
}

/**
 * pci_for_each_dma_alias(): calls `cb(fn, alias)` for every requester id the IOMMU may see for DMA
 * from `pdev`: its own id, its quirk aliases, then the ids bridges on the way up substitute (a
 * PCIe-to-PCI bridge uses its secondary bus number with devfn 0; a conventional bridge its own
 * id). PCIe ports pass ids through. Stops and returns the first non-zero callback result.
 */
export function pciForEachDmaAlias(pdev: PciFunctionInfo, cb: (fn: PciFunctionInfo, alias: number) => number): number {
  let ret = cb(pdev, pciDevId(pdev));
  if (ret !== 0) return ret;
  for (const devfn of pdev.dmaAliasDevfns) {
    ret = cb(pdev, pciDevid(pdev.busNumber, devfn));
    if (ret !== 0) return ret;
  }
  for (let tmp = pdev.upstream; tmp !== null; tmp = tmp.upstream) {
    switch (tmp.portType) {
      case 'root-port':
      case 'upstream':
      case 'downstream':
        continue;
      case 'pcie-to-pci':
        ret = cb(tmp, pciDevid(tmp.subordinateBus ?? 0, 0));
        break;
      case 'pci-to-pcie':
        ret = cb(tmp, pciDevId(tmp));
        break;
      default:
        ret = tmp.pcieBridgeAlias === true ? cb(tmp, pciDevid(tmp.subordinateBus ?? 0, 0)) : cb(tmp, pciDevId(tmp));
    }
    if (ret !== 0) return ret;
  }
  return 0;
}

/** pci_devs_are_dma_aliases(): same bus and one lists the other's devfn as an alias. */
export function pciDevsAreDmaAliases(a: PciFunctionInfo, b: PciFunctionInfo): boolean {
  return a.busNumber === b.busNumber && (a.dmaAliasDevfns.includes(b.devfn) || b.dmaAliasDevfns.includes(a.devfn));
}

/** pci_acs_path_enabled(start, NULL): ACS on every bridge from `start` up to the root. */
export function pciAcsPathEnabled(start: PciFunctionInfo): boolean {
  for (let p: PciFunctionInfo | null = start; p !== null; p = p.upstream) if (!p.acs) return false;
  return true;
}
