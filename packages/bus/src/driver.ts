import type { Device, DeviceDriverRef } from './device';
import type { BusType } from './bus-type';

/** enum probe_type: whether the driver may be probed asynchronously. */
export type ProbeType = 'default' | 'prefer-async' | 'force-sync';

/**
 * struct device_driver. Bus-specific drivers (platform, AMBA, PCI) extend it with their match
 * tables; their probe may take a second argument (the matched id), which their bus passes.
 * Methods use method syntax so a driver for a Device subclass fits here.
 */
export interface DeviceDriver extends DeviceDriverRef {
  readonly name: string;
  readonly bus: BusType;
  readonly probeType?: ProbeType;
  /** Returns 0 when bound, or a negative errno (-EPROBE_DEFER to be retried later). */
  probe?(dev: Device, id?: unknown): number;
  remove?(dev: Device): void;
}
