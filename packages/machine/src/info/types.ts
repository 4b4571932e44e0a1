import type { Board } from '../board/schema';

/**
 * `dmasim info --json`: what QEMU's `info mtree` / `info qtree` and the kernel's
 * /sys/kernel/iommu_groups would show of a board after boot. Addresses are hex strings.
 */
export interface InfoReport {
  readonly board: string;
  readonly file: string;
  /** The files the board was built from, base first (`extends`). */
  readonly chain: readonly string[];
  /** `--set` overrides applied, in order. */
  readonly overrides: readonly string[];
  /** The board after extends, overrides, schema defaults and DT import. */
  readonly resolved: Board;
  /** Every region of the CPU physical address space, sorted by start. */
  readonly addressMap: readonly AddressRegion[];
  /** Per bus, the dma-ranges windows its devices reach RAM through (own or inherited). */
  readonly dmaWindows: readonly BusDmaWindows[];
  /** Per device: its bus, the DMA limit the kernel derived, and whether it is coherent. */
  readonly dmaLimits: readonly DeviceDmaLimit[];
  readonly irqs: readonly IrqLine[];
  readonly iommus: readonly IommuTopology[];
}

export type RegionKind = 'ram' | 'mmio' | 'iommu' | 'swiotlb';

export interface AddressRegion {
  readonly start: string;
  /** Inclusive, as `info mtree` prints it. */
  readonly end: string;
  readonly kind: RegionKind;
  readonly name: string;
}

export interface BusDmaWindows {
  readonly bus: string;
  /** The bus the windows are declared on (this one or an ancestor); null when no ancestor has any. */
  readonly from: string | null;
  readonly windows: readonly { readonly bus: string; readonly cpu: string; readonly size: string }[];
}

export interface DeviceDmaLimit {
  readonly device: string;
  readonly bus: string;
  readonly dmaLimit: string;
  readonly coherent: boolean;
}

export interface IrqLine {
  readonly irq: number;
  readonly owner: string;
  readonly kind: 'device' | 'iommu';
}

/** One IOMMU instance after boot: its model's facts (whatever its plugin reports) and its groups. */
export interface IommuTopology {
  readonly name: string;
  readonly compatible: string;
  /** The plugin's report keys other than `name` and `domains` (an SMMU's context banks, ...). */
  readonly facts: Readonly<Record<string, unknown>>;
  readonly groups: readonly IommuGroupInfo[];
  /** Masters the firmware routes to this IOMMU that have no group (never probed, or no driver). */
  readonly ungrouped: readonly MasterInfo[];
}

export interface IommuGroupInfo {
  readonly group: number;
  readonly domain: { readonly id: number; readonly type: string; readonly contextBank: number | null } | null;
  readonly devices: readonly MasterInfo[];
}

export interface MasterInfo {
  readonly device: string;
  readonly streamIds: readonly number[];
  /** What its DMA meets at the IOMMU now. */
  readonly route: string;
}
