import type { DependencyContainer } from 'tsyringe';
import type { BusServices, Device, FwNode } from '@dmasim/bus';
import type { CoreServices, DmaTranslation, InitcallLevel } from '@dmasim/core';
import type { IommuCore, IommuProfile } from '../iommu/core';

/**
 * The plugin contract between IOMMU models and the machine that composes a board (the IOMMU
 * counterpart of `@dmasim/devices`' DeviceModel). A model is three things:
 *
 * - a board-file entry: the compatibles it serves, the `iommus[]` keys it accepts beyond the common
 *   ones, and how many id cells a master's `iommus` specifier carries;
 * - hardware, built once per board instance before the kernel boots: MMIO registers, interrupt
 *   lines, the firmware node its driver probes, and one DMA translation hop per master;
 * - a driver, built once per machine: the initcalls that register it with the driver core and the
 *   IOMMU core (per bus or per instance, as the profile says), and what it tells the report and the
 *   exploration state key about its instances and domains.
 *
 * The machine knows nothing else about an IOMMU: a master's DMA is translated by the hop its model
 * gave, and every IOMMU fact in the report comes through `IommuDriverPlugin`.
 */
export interface IommuModel {
  /** Model name for messages (`arm-smmu`, `rockchip-iommu`). */
  readonly name: string;
  /** DT `compatible` strings of the hardware it models. */
  readonly compatibles: readonly string[];
  /** One line per compatible that an editor shows beside it (board JSON Schema). */
  readonly descriptions?: Readonly<Record<string, string>>;
  /**
   * `#iommu-cells` of its binding: how many ids a master's `iommus` entry carries (the SMMU's
   * stream id: 1; the Rockchip IOMMU, one instance per master: 0).
   */
  readonly iommuCells: number;
  /**
   * Whether the kernel has this driver built in even on boards without such hardware (its
   * initcalls then still run, as with CONFIG_ARM_SMMU=y). Otherwise the driver is part of the
   * kernel only when the board has one of its instances.
   */
  readonly alwaysBuiltIn?: boolean;
  /** The `iommus[]` keys this model adds to the common ones, for documentation and `dmasim info`. */
  readonly boardKeys: readonly IommuBoardKey[];
  /**
   * Checks the model's own keys of one board entry (`keys` holds every key the common schema did
   * not claim). Unknown keys must be reported too. Returns the problems; empty when sound.
   */
  checkBoardKeys(keys: Readonly<Record<string, unknown>>, entry: IommuBoardEntry): IommuKeyProblem[];
  /**
   * What the hardware would run as asked but probably not as meant, for `dmasim validate` and
   * `run --strict` (e.g. more stream ids than stream match registers). `ids`: every distinct id the
   * board's masters emit to this instance. Called only for entries `checkBoardKeys` accepted.
   */
  boardWarnings?(entry: IommuBoardEntry, ids: readonly number[]): IommuKeyProblem[];
  /**
   * The model's own keys for an instance a device tree describes: what the node says (its register
   * window, `dma-coherent`) and defaults for what a tree cannot carry (ID registers). Without it, an
   * instance from a tree has only the common keys and the board must give the rest.
   */
  devicetreeKeys?(node: IommuDevicetreeNode): Record<string, unknown>;
  /** Builds one instance's hardware. Board mistakes only visible now go to `ctx.fail`. */
  createHardware(ctx: IommuHardwareContext, entry: IommuBoardEntry): IommuHardware;
  /** Builds the machine's driver for this model (once, whatever the number of instances). */
  createDriver(ctx: IommuDriverContext): IommuDriverPlugin;
}

/** What a device tree node says about one IOMMU instance, as far as a model's keys depend on it. */
export interface IommuDevicetreeNode {
  readonly compatible: string;
  /** Size of the register window (`reg`). */
  readonly regSize: number;
  /** `dma-coherent` (of_dma_is_coherent): its own accesses, such as table walks, snoop the caches. */
  readonly dmaCoherent: boolean;
}

/** One key a model accepts in its `iommus[]` entries (documentation and the board JSON Schema). */
export interface IommuBoardKey {
  readonly key: string;
  readonly description: string;
  /** An example value, as written in a board file. */
  readonly example: unknown;
  /** JSON Schema (draft-07) of the value, for editors: `{ type: 'integer', minimum: 1 }`. */
  readonly schema: Readonly<Record<string, unknown>>;
  readonly required?: boolean;
}

/** A problem with one key of an entry: `key` is the path below the entry (`contextBanks`). */
export interface IommuKeyProblem {
  readonly key: string;
  readonly message: string;
  readonly found?: string;
}

/** One `iommus[]` entry of the board: the common keys, and the model's own keys as written. */
export interface IommuBoardEntry {
  readonly name: string;
  readonly compatible: string;
  readonly base: number;
  /** Size of its register window as the board reserves it. */
  readonly size: number;
  /** Its first interrupt number, when the board fixes it. */
  readonly irq?: number;
  /** The legacy binding from the IOMMU side (`mmu-masters`): masters and their ids. */
  readonly masters: readonly { readonly device: string; readonly ids: readonly number[] }[];
  /** The model's own keys (already accepted by `checkBoardKeys`). */
  readonly keys: Readonly<Record<string, unknown>>;
}

/** What the machine gives a model to build one instance. */
export interface IommuHardwareContext {
  readonly core: CoreServices;
  /** Hands out an interrupt number: `fixed` when the board gave one, else the next free one. */
  takeIrq(fixed?: number): number;
  /** Rejects the board (names its file and this entry's `key`); never returns. */
  fail(key: string, message: string, found?: string): never;
}

/** One IOMMU instance's hardware, mapped on the MMIO bus with its interrupt lines. */
export interface IommuHardware {
  /** The platform device's firmware node: compatible, reg, interrupts, `#iommu-cells`, ... */
  readonly fwnode: FwNode;
  /** The DMA hop in front of one master, translating its transactions (IOTLB, table walk, faults). */
  hop(master: IommuMasterLink): DmaTranslation;
  /**
   * Where a transaction carrying `ids` (null: none yet) would go now, without performing one:
   * translated, through untranslated (bypass), or refused. Reports flag a master whose DMA bypasses
   * the IOMMU its firmware names; a model that cannot say leaves this out (route `unknown`).
   */
  route?(ids: readonly number[] | null): IommuRoute;
}

/** What a master's transactions meet at its IOMMU. */
export type IommuRoute = 'translated' | 'bypass' | 'blocked';

/** One master behind an instance, as the hop sees it. */
export interface IommuMasterLink {
  /** Board name of the master. */
  readonly device: string;
  /**
   * The ids its transactions carry (the SMMU's stream ids), read on each transaction since a PCI
   * function's requester id is known only after enumeration; null while it has none.
   */
  ids(): readonly number[] | null;
  /** Records a transaction the IOMMU refused (for the report; the hardware records it its own way). */
  fault(f: IommuTransactionFault): void;
}

/** A transaction the hardware refused. */
export interface IommuTransactionFault {
  /** The id it carried (stream id), or null for IOMMUs without ids. */
  readonly id: number | null;
  readonly iova: number;
  readonly access: 'read' | 'write';
  /** `translation`, `permission`, ... as the model names it. */
  readonly kind: string;
}

/** What the machine gives a model's driver. */
export interface IommuDriverContext {
  /** The machine's child container (core, bus and IommuCore services registered). */
  readonly container: DependencyContainer;
  readonly core: CoreServices;
  readonly bus: BusServices;
  readonly iommu: IommuCore;
  readonly profile: IommuProfile;
  /** This model's entries on the board, in board order. */
  readonly entries: readonly IommuBoardEntry[];
}

/** An initcall the driver queues (module_init, subsys_initcall, ...). */
export interface IommuInitcall {
  readonly level: InitcallLevel;
  /** The kernel function's name: it names the scheduling decision in traces. */
  readonly name: string;
  run(): void;
}

/** The domain a device is attached to, as reports and exploration state keys name it. */
export interface IommuDomainFacts {
  readonly id: number;
  /** IOMMU_DOMAIN_* name (`DMA`, `IDENTITY`, ...). */
  readonly type: string;
  /** The hardware context it occupies (an SMMU context bank), or null for models without one. */
  readonly contextBank: number | null;
}

/** One domain in an instance's report section. */
export interface IommuDomainReport extends IommuDomainFacts {
  readonly devices: readonly string[];
}

/**
 * One instance's report section: `name` and `domains` always, then whatever the model has instead
 * of (or besides) context banks. Key order is the model's and must be deterministic.
 */
export interface IommuInstanceReport {
  readonly name: string;
  readonly domains: readonly IommuDomainReport[];
  readonly [key: string]: unknown;
}

/** A model's driver as the machine composes it. */
export interface IommuDriverPlugin {
  /** Queued in this order, before the platform devices are populated. */
  readonly initcalls: readonly IommuInitcall[];
  /** The domain `dev` is attached to through this driver, if any. */
  domainOf(dev: Device): IommuDomainFacts | null;
  /** The report section of one of this model's board entries; `nameOf` names a kernel device as the board does. */
  report(entry: IommuBoardEntry, nameOf: (dev: Device) => string): IommuInstanceReport;
  /** Per probed instance, the state its future depends on (`smmu0:2` context banks in use), unsorted. */
  stateKeys(): readonly string[];
}
