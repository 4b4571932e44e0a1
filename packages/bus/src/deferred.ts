import { ENODEV, EPROBE_DEFER, ETIMEDOUT, type KernelLog, type Scheduler } from '@dmasim/core';
import type { Device } from './device';

export interface DeferredProbeOptions {
  /**
   * driver_deferred_probe_timeout in seconds after the late initcall; 0 disables it. Default 10, the
   * kernel's value with CONFIG_MODULES=y.
   */
  readonly timeoutSec?: number;
  /** CONFIG_MODULES: whether a dependency may still appear after initcalls. Default true. */
  readonly modules?: boolean;
}

/** What the deferred-probe machinery needs from the driver core. */
export interface DeferredProbeHost {
  /** bus_probe_device: try every driver of the device's bus again. */
  reprobe(dev: Device): void;
  /** dev_dbg when dynamic debug is on. */
  dbg(dev: Device, text: string): void;
  /** A device still waiting when the timeout fired. */
  timedOut(dev: Device): void;
}

/** Decision point at which the scheduler orders the devices retried by one deferred-probe run. */
export const DEFERRED_PROBE_POINT = 'deferred-probe';

/**
 * Deferred probe (drivers/base/dd.c): devices whose probe returned -EPROBE_DEFER wait on the pending
 * list; every successful bind moves all of them to the active list and queues the work that retries
 * them. Triggers do nothing until the late initcall enables them. The work runs as a scheduler event
 * (the kernel's workqueue); which device is retried first is a scheduler decision.
 */
export class DeferredProbe {
  /** deferred_probe_pending_list. */
  readonly pending = new Set<Device>();
  /** deferred_probe_active_list. */
  readonly active = new Set<Device>();
  /** driver_deferred_probe_enable: set by the late initcall. */
  enabled = false;
  /** initcalls_done. */
  initcallsDone = false;
  /** deferred_trigger_count. */
  triggerCount = 0;
  /** driver_deferred_probe_timeout (seconds); set to 0 when it expires. */
  timeoutSec: number;
  readonly modules: boolean;
  private timedOutOnce = false;
  private queued: { cancel(): void } | null = null;
  private running = false;
  private timeoutEvent: { cancel(): void } | null = null;

  constructor(
    private readonly sched: Scheduler,
    private readonly log: KernelLog,
    private readonly host: DeferredProbeHost,
    options: DeferredProbeOptions = {},
  ) {
    this.timeoutSec = options.timeoutSec ?? 10;
    this.modules = options.modules ?? true;
  }

  /** Whether the device waits on either list. */
  has(dev: Device): boolean {
    return this.pending.has(dev) || this.active.has(dev);
  }

  /** driver_deferred_probe_add: appends to pending unless the device is on a list already. */
  add(dev: Device): void {
    if (this.has(dev)) return;
    this.host.dbg(dev, 'Added to deferred list');
    this.pending.add(dev);
  }

  /** driver_deferred_probe_del. */
  del(dev: Device): void {
    if (this.pending.delete(dev) || this.active.delete(dev)) this.host.dbg(dev, 'Removed from deferred list');
  }

  /** driver_deferred_probe_trigger: after every successful bind. */
  trigger(): void {
    if (!this.enabled) return;
    this.triggerCount++;
    for (const d of this.pending) this.active.add(d);
    this.pending.clear();
    if (this.queued === null && !this.running) {
      this.queued = this.sched.schedule(0, () => {
        this.queued = null;
        this.work();
      }, 'deferred_probe_work');
    }
  }

  /** flush_work(&deferred_probe_work): runs queued work now. */
  flush(): void {
    if (this.queued !== null && !this.running) {
      this.queued.cancel();
      this.queued = null;
      this.work();
    }
  }

  /** Whether retry work is queued (the kernel's work_pending). */
  get workPending(): boolean {
    return this.queued !== null;
  }

  /** deferred_probe_work_func: retries the active list, in the scheduler's order. */
  private work(): void {
    this.running = true;
    try {
      while (this.active.size > 0) {
        const batch = this.sched.order(DEFERRED_PROBE_POINT, [...this.active], (d) => d.name);
        for (const dev of batch) {
          // a device may have been bound, removed or re-listed by an earlier retry in this batch
          if (!this.active.delete(dev)) continue;
          this.host.dbg(dev, 'Retrying from deferred list');
          this.host.reprobe(dev);
        }
      }
    } finally {
      this.running = false;
    }
  }

  /**
   * deferred_probe_initcall (late_initcall): enable, retry everything, mark initcalls done, retry
   * again so optional dependencies give up, then arm the timeout.
   */
  initcall(): void {
    this.enabled = true;
    this.trigger();
    this.flush();
    this.initcallsDone = true;
    this.trigger();
    this.flush();
    if (this.timeoutSec > 0 && this.timeoutEvent === null) {
      this.timeoutEvent = this.sched.schedule(this.timeoutSec * 1e9, () => this.timeoutWork(), 'deferred_probe_timeout_work');
    }
  }

  /** deferred_probe_timeout_work_func: last retry, then every device still waiting says why. */
  timeoutWork(): void {
    this.timeoutEvent = null;
    this.timeoutSec = 0;
    this.timedOutOnce = true;
    this.trigger();
    this.flush();
    for (const dev of this.pending) {
      this.log.devWarn(dev, `deferred probe pending: ${dev.deferredProbeReason ?? '(reason unknown)'}`);
      this.host.timedOut(dev);
    }
  }

  /** Whether the timeout has expired. */
  get expired(): boolean {
    return this.timedOutOnce;
  }

  /**
   * driver_deferred_probe_check_state: what a supplier lookup should return for a missing optional
   * dependency. -EPROBE_DEFER while it may still appear; -ENODEV once initcalls are done in a kernel
   * without modules; -ETIMEDOUT once the timeout expired.
   */
  checkState(dev: Device): number {
    if (!this.modules && this.initcallsDone) {
      this.log.devWarn(dev, 'ignoring dependency for device, assuming no driver');
      return -ENODEV;
    }
    if (this.timeoutSec === 0 && this.initcallsDone) {
      this.log.devWarn(dev, 'deferred probe timeout, ignoring dependency');
      return -ETIMEDOUT;
    }
    return -EPROBE_DEFER;
  }

  /** debugfs devices_deferred: `name\treason` per waiting device. */
  listing(): string[] {
    return [...this.pending, ...this.active].map((d) => `${d.name}\t${d.deferredProbeReason ?? ''}`);
  }
}
