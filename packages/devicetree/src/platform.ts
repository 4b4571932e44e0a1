import { ffs } from '@dmasim/core';
import { ofRegs } from './address';
import { ofCompatibles, ofDeviceIsAvailable, ofPropertyPresent, ofPropertyReadU32 } from './props';
import { type DtNode, type DtTree, nodeBaseName } from './tree';

/** of_default_bus_match_table: buses whose children of_platform_populate creates too. */
export const OF_DEFAULT_BUS_MATCH = ['simple-bus', 'simple-mfd', 'isa', 'arm,amba-bus'];

/** A node of_platform_populate turns into a device. */
export interface OfPlatformNode {
  readonly node: DtNode;
  /** The device name the kernel gives it (of_device_make_bus_id): `fe400000.hvs`. */
  readonly name: string;
  /** AMBA (`arm,primecell`) or platform device. */
  readonly kind: 'platform' | 'amba';
  /** The node whose children it is (the root for top-level devices): where its DMA configuration comes from. */
  readonly bus: DtNode;
  /** status is "okay" (the kernel creates no device for a disabled node; it is still listed). */
  readonly available: boolean;
}

/**
 * of_platform_populate(root, of_default_bus_match_table): every child of the root with a
 * `compatible`, and the children of nodes that match a default bus, recursively. Interrupt
 * controllers are left out: irqchip init claims them before population (OF_POPULATED). The
 * children of a disabled bus are not walked.
 */
export function ofPlatformPopulate(tree: DtTree): OfPlatformNode[] {
  const out: OfPlatformNode[] = [];
  const visit = (bus: DtNode): void => {
    for (const child of bus.children) {
      const compatibles = ofCompatibles(tree, child);
      if (compatibles.length === 0) continue;
      if (ofPropertyPresent(child, 'interrupt-controller')) continue;
      const available = ofDeviceIsAvailable(tree, child);
      out.push({ node: child, name: ofDeviceMakeBusId(tree, child), kind: compatibles.includes('arm,primecell') ? 'amba' : 'platform', bus, available });
      if (available && compatibles.some((c) => OF_DEFAULT_BUS_MATCH.includes(c))) visit(child);
    }
  };
  visit(tree.root);
  return out;
}

/**
 * of_device_make_bus_id: `<cpu address>.<node name>` (`<address>.<lowest mask bit>.<name>` with a `mask`) from the first node, walking up, whose reg
 * translates (`2b500000.iommu`); nodes without one contribute their full name, joined by `:`.
 */
export function ofDeviceMakeBusId(tree: DtTree, node: DtNode): string {
  let name: string | null = null;
  for (let n: DtNode = node; n.parent !== null; n = n.parent) {
    const reg = n.props.has('reg') ? ofRegs(tree, n)[0] : undefined;
    if (reg?.cpuAddr !== undefined) {
      const mask = ofPropertyReadU32(tree, n, 'mask');
      const head = mask !== undefined ? `${reg.cpuAddr.toString(16)}.${ffs(mask)}.${nodeBaseName(n)}` : `${reg.cpuAddr.toString(16)}.${nodeBaseName(n)}`;
      return name === null ? head : `${head}:${name}`;
    }
    name = name === null ? n.name : `${n.name}:${name}`;
  }
  return name ?? '';
}

/**
 * of_dma_is_coherent: `dma-coherent` on the node or an ancestor (arm64 has no
 * CONFIG_OF_DMA_DEFAULT_COHERENT); `dma-noncoherent` on the way stops it.
 */
export function ofDmaIsCoherent(node: DtNode): boolean {
  for (let n: DtNode | null = node; n !== null; n = n.parent) {
    if (n.props.has('dma-coherent')) return true;
    if (n.props.has('dma-noncoherent')) return false;
  }
  return false;
}
