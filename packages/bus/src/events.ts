import type { Device } from './device';

/** Why a device went onto the deferred list. */
export type DeferSource = 'probe' | 'dma-configure' | 'match' | 'defer-all';

export interface NotifierCalledEvent {
  readonly chain: string;
  readonly callback: string;
  readonly priority: number;
  readonly action: number;
  readonly actionName: string;
  readonly device: string;
  readonly result: number;
  readonly error?: string;
}

/**
 * Observational events of the driver core (eventemitter3). They report what happened for traces,
 * reports and UIs; nothing in the simulation listens to them to make a decision.
 */
export interface DriverCoreEvents {
  deviceAdded: (e: { device: Device; bus: string | null }) => void;
  deviceRemoved: (e: { device: Device; bus: string | null }) => void;
  driverRegistered: (e: { driver: string; bus: string }) => void;
  driverUnregistered: (e: { driver: string; bus: string }) => void;
  probeStarted: (e: { device: Device; driver: string }) => void;
  deferred: (e: { device: Device; driver: string | null; source: DeferSource; reason: string | null }) => void;
  bound: (e: { device: Device; driver: string }) => void;
  probeFailed: (e: { device: Device; driver: string; error: number }) => void;
  unbound: (e: { device: Device; driver: string }) => void;
  /** The deferred-probe timeout gave up on a device still waiting. */
  deferredTimeout: (e: { device: Device; reason: string | null }) => void;
  notifierCalled: (e: NotifierCalledEvent) => void;
}
