import { EINVAL } from '@dmasim/core';
import { propertyShapeOk } from './fwnode-shapes';

/**
 * A firmware node: the DT-like property bag a device (or an IOMMU) is described by. Typed accessors
 * cover the properties the DMA stack reads; anything else is kept as an arbitrary property.
 */

/** `iommus = <&smmu 0x10>`: the IOMMU's firmware node name and the specifier cells. */
export interface PhandleArgs {
  readonly node: string;
  readonly args: readonly number[];
}

/** One `dma-ranges` entry: `size` bytes at bus address `bus` map to CPU physical address `cpu`. */
export interface DmaRangeEntry {
  readonly bus: number;
  readonly cpu: number;
  readonly size: number;
}

/** Legacy `mmu-masters = <&dev sid...>` entry, on the IOMMU's own node. */
export interface MmuMaster {
  readonly node: string;
  readonly streamIds: readonly number[];
}

/** PCI `iommu-map = <rid-base &iommu iommu-base length>`. */
export interface IommuMapEntry {
  readonly ridBase: number;
  readonly iommu: string;
  readonly iommuBase: number;
  readonly length: number;
}

export type PropValue = string | number | boolean | readonly number[] | readonly string[] | readonly PhandleArgs[] | readonly DmaRangeEntry[] | readonly MmuMaster[] | readonly IommuMapEntry[];

/** Property names with a known type. */
export interface KnownProps {
  compatible: readonly string[];
  reg: readonly number[];
  interrupts: readonly number[];
  iommus: readonly PhandleArgs[];
  'mmu-masters': readonly MmuMaster[];
  'dma-ranges': readonly DmaRangeEntry[];
  'dma-coherent': boolean;
  'iommu-map': readonly IommuMapEntry[];
  'iommu-map-mask': number;
  '#iommu-cells': number;
  status: string;
}

/** What `compatible` reads as on a node without one (shared: the getter runs for every match). */
const NO_STRINGS: readonly string[] = Object.freeze([]);

export class FwNode {
  private readonly props = new Map<string, PropValue>();
  /** Known properties whose value has the wrong shape: present, but every typed read fails. */
  private readonly malformed = new Map<string, unknown>();
  /** `compatible`, kept beside the map: bus matching reads it once per driver for every device. */
  private compat: readonly string[] = NO_STRINGS;

  constructor(
    /** Node name, unique in a machine (`sata`, `smmu0`); phandles refer to nodes by this name. */
    readonly name: string,
    props: Partial<KnownProps> & Record<string, PropValue> = {},
  ) {
    for (const k of Object.keys(props)) this.set(k, props[k]!);
  }

  get<K extends keyof KnownProps>(key: K): KnownProps[K] | undefined;
  get(key: string): PropValue | undefined;
  get(key: string): PropValue | undefined {
    return this.props.get(key);
  }

  set<K extends keyof KnownProps>(key: K, value: KnownProps[K]): void;
  set(key: string, value: PropValue): void;
  set(key: string, value: PropValue): void {
    // a one-string compatible is the one-entry string list it is in a DT
    const v: unknown = key === 'compatible' && typeof value === 'string' ? [value] : value;
    this.delete(key);
    if (!propertyShapeOk(key, v)) {
      this.malformed.set(key, v);
      return;
    }
    this.props.set(key, v as PropValue);
    if (key === 'compatible') this.compat = v as readonly string[];
  }

  has(key: string): boolean {
    return this.props.has(key) || this.malformed.has(key);
  }

  /** What a typed read of `key` returns: 0, -EINVAL for a malformed value (of_property_read_*), or undefined when absent. */
  readError(key: string): number | undefined {
    if (this.malformed.has(key)) return -EINVAL;
    return this.props.has(key) ? 0 : undefined;
  }

  delete(key: string): void {
    this.props.delete(key);
    this.malformed.delete(key);
    if (key === 'compatible') this.compat = NO_STRINGS;
  }

  keys(): string[] {
    return [...this.props.keys(), ...this.malformed.keys()];
  }

  get compatible(): readonly string[] {
    return this.compat;
  }

  /** of_device_is_compatible. */
  isCompatible(compat: string): boolean {
    return this.compatible.includes(compat);
  }

  /** of_device_is_available: `status` absent, "okay" or "ok". */
  get available(): boolean {
    const s = this.get('status');
    return s === undefined || s === 'okay' || s === 'ok';
  }
}
