/**
 * Properties dmasim writes into trees it exports (and reads back): what a real tree leaves to the
 * hardware ID registers or the kernel command line, under the `dmasim,` vendor prefix the kernel
 * ignores. A real tree never has them; an exported one imports back to the same machine.
 */
export const DMASIM_PROP = {
  /** The board name of a node (device, IOMMU, bus) or, on the root, of the board. */
  name: 'dmasim,name',
  /** On an IOMMU: the model's own board keys (SMMU context-bank and SMR counts, ...), JSON. */
  keys: 'dmasim,keys',
  /** The DMA mask width the driver sets. */
  dmaMask: 'dmasim,dma-mask',
  /** Device model options, JSON. */
  options: 'dmasim,options',
  /** On the root: the board's kernel settings and workloads, JSON. */
  kernel: 'dmasim,kernel',
  workloads: 'dmasim,workloads',
  /** On the root: the board's device names in board order (a tree groups them by bus). */
  deviceOrder: 'dmasim,device-order',
} as const;

/** The PCI binding's `pciVVVV,DDDD` compatible → vendor and device ids. */
export function pciCompatibleId(compatible: string): { vendor: number; device: number } | undefined {
  const m = /^pci([0-9a-f]{1,4}),([0-9a-f]{1,4})$/i.exec(compatible);
  return m ? { vendor: parseInt(m[1]!, 16), device: parseInt(m[2]!, 16) } : undefined;
}

export function pciCompatible(vendor: number, device: number): string {
  return `pci${vendor.toString(16)},${device.toString(16)}`;
}
