import type { BusServices, Device, DeviceDriver, PciFunctionHw } from '@dmasim/bus';
import type { CoreServices, DmaPort } from '@dmasim/core';

/**
 * The plugin contract between device models and the machine. A model is a piece of hardware (built
 * once per board device, before the kernel boots) plus the kernel drivers that bind to it, plus the
 * workloads that drive it once the machine is up.
 */

/** What the machine gives a device's hardware model. */
export interface HardwareContext {
  readonly core: CoreServices;
  /** Board name of the device (`sata`, `xgmac0`): names the MMIO region and hardware logs. */
  readonly name: string;
  /** The device's only way to memory: IOMMU translation and bus window already in front of it. */
  readonly dmaPort: DmaPort;
  /** Base of its register window on the CPU's MMIO bus (for PCI: BAR 0). */
  readonly mmioBase: number;
  /** Its interrupt line number on the machine's IrqController. */
  readonly irq: number;
}

/** The board's description of one device, as far as a model reads it. */
export interface DeviceSpec {
  readonly name: string;
  readonly compatible?: string;
  /** `vvvv:dddd` for PCI functions. */
  readonly pciId?: string;
  /** Model-specific knobs (ring sizes, disk size, ...); unknown keys are ignored. */
  readonly options?: Readonly<Record<string, unknown>>;
}

/** A device's hardware once created. */
export interface DeviceHardware {
  readonly name: string;
  /** Size of the register window the model mapped at `mmioBase`. */
  readonly mmioSize: number;
  /** PCI configuration space, for the machine to attach to its host bridge (PCI models only). */
  readonly pciFunction?: PciFunctionHw;
  /** Detaches the model from the MMIO bus. */
  destroy(): void;
}

/** What the machine gives drivers: the core services and the buses they register on. */
export interface DriverContext {
  readonly core: CoreServices;
  /** driver core plus platform / AMBA / PCI bus types. */
  readonly bus: BusServices;
}

/** A workload's outcome: ok only when every transfer completed and every byte checked matched. */
export interface WorkloadResult {
  readonly kind: string;
  readonly ok: boolean;
  /** Payload bytes moved and verified. */
  readonly bytes: number;
  /** Failed transfers: mapping failures, device faults, timeouts, data mismatches. */
  readonly errors: number;
  readonly details?: Readonly<Record<string, unknown>>;
}

/** Parameters of a workload: the board's workload entry. */
export interface WorkloadParams {
  readonly kind: string;
  readonly [key: string]: unknown;
}

/** What the machine gives a workload: the core services and the devices by board name. */
export interface WorkloadContext {
  readonly core: CoreServices;
  /** The bus device of that board name (platform device, or PCI function named by the board). */
  device(name: string): Device | undefined;
}

/** Register window of a model that declares none. */
export const DEFAULT_MMIO_WINDOW = 0x1000;

/** One entry of the plugin table. */
export interface DeviceModel {
  readonly name: string;
  /** DT `compatible` strings the model serves (platform devices). */
  readonly compatibles?: readonly string[];
  /** PCI ids `vvvv:dddd` the model serves. */
  readonly pciIds?: readonly string[];
  /** Workload kinds `runWorkload` accepts. */
  readonly workloads: readonly string[];
  /**
   * Bytes of the register window the hardware maps (default `DEFAULT_MMIO_WINDOW`, 4 KiB), known
   * before any hardware is built so board validation can find overlapping windows.
   */
  readonly mmioSize?: number;
  createHardware(ctx: HardwareContext, spec: DeviceSpec): DeviceHardware;
  /** The drivers to register for this model (once per machine, whatever the number of devices). */
  drivers(ctx: DriverContext): DeviceDriver[];
  runWorkload?(ctx: WorkloadContext, params: WorkloadParams): WorkloadResult;
}
