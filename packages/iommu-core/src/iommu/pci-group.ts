/**
 * pci_device_group(): PCI devices share a group when the IOMMU cannot tell their DMA apart: the
 * requester ids bridges substitute on the way up, DMA alias quirks, functions of one slot without
 * ACS, and everything below a bridge without ACS.
 */
import type { Device } from '@dmasim/bus';
import { EINVAL } from '@dmasim/core';
import type { IommuCore } from './core';
import type { IommuGroup } from './group';
import type { PciFunctionInfo, PciTopology } from './pci';
import { pciAcsPathEnabled, pciDevsAreDmaAliases, pciForEachDmaAlias, pciSlot } from './pci';

function functionAliasGroup(core: IommuCore, pci: PciTopology, pdev: PciFunctionInfo, seen: Set<PciFunctionInfo>): IommuGroup | null {
  if (!pdev.multifunction || pdev.acs) return null;
  for (const tmp of pci.functions()) {
    if (tmp === pdev || tmp.busNumber !== pdev.busNumber || pciSlot(tmp.devfn) !== pciSlot(pdev.devfn) || tmp.acs) continue;
    const group = aliasGroup(core, pci, tmp, seen);
    if (group !== null) return group;
  }
  return null;
}

function aliasGroup(core: IommuCore, pci: PciTopology, pdev: PciFunctionInfo, seen: Set<PciFunctionInfo>): IommuGroup | null {
  // The kernel tracks visited devfns in a bitmap to break alias loops.
  if (seen.has(pdev)) return null;
  seen.add(pdev);
  const own = core.iommuGroupGet(pdev.dev);
  if (own !== null) return own;
  for (const tmp of pci.functions()) {
    if (tmp === pdev || tmp.busNumber !== pdev.busNumber) continue;
    if (!pciDevsAreDmaAliases(pdev, tmp)) continue;
    const group = aliasGroup(core, pci, tmp, seen) ?? functionAliasGroup(core, pci, tmp, seen);
    if (group !== null) return group;
  }
  return null;
}

export function pciDeviceGroup(core: IommuCore, pci: PciTopology, dev: Device): IommuGroup | number {
  const start = pci.lookup(dev);
  if (start === null) {
    core.log.warn('drivers/iommu/iommu.c pci_device_group');
    return -EINVAL;
  }
  // Walk the DMA aliases upstream; an alias that already has a group decides.
  let last: PciFunctionInfo = start;
  let found: IommuGroup | null = null;
  pciForEachDmaAlias(start, (fn) => {
    last = fn;
    found = core.iommuGroupGet(fn.dev);
    return found !== null ? 1 : 0;
  });
  if (found !== null) return found;
  let pdev: PciFunctionInfo = last;
  // Continue up to the first bridge whose path to the root isolates with ACS.
  for (let bridge = pdev.upstream; bridge !== null; bridge = bridge.upstream) {
    if (pciAcsPathEnabled(bridge)) break;
    pdev = bridge;
    const group = core.iommuGroupGet(pdev.dev);
    if (group !== null) return group;
  }
  const seen = new Set<PciFunctionInfo>();
  const group = aliasGroup(core, pci, pdev, seen) ?? functionAliasGroup(core, pci, pdev, seen);
  return group ?? core.iommuGroupAlloc();
}
