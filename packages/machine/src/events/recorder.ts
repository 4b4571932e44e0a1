import { hex } from '@dmasim/core';
import type { Machine } from '../machine/machine';
import type { CategoryFilter } from './filter';

/** One Chrome trace event (the JSON Perfetto and chrome://tracing open). */
export interface TraceEvent {
  readonly name: string;
  readonly cat: string;
  /** `i` instant, `X` complete (with dur), `M` metadata. */
  readonly ph: 'i' | 'X' | 'M';
  /** Microseconds on the simulated clock. */
  readonly ts: number;
  readonly dur?: number;
  readonly pid: number;
  readonly tid: number;
  readonly s?: 't';
  readonly args?: Readonly<Record<string, unknown>>;
}

export interface ChromeTrace {
  readonly traceEvents: readonly TraceEvent[];
  readonly displayTimeUnit: 'ns';
  readonly metadata: { readonly board: string; readonly seed: number; readonly clock: 'simulated' };
}

/** Every category the recorder emits, in the order a boot meets them. */
export const EVENT_CATEGORIES = [
  'driver.add',
  'driver.probe',
  'driver.defer',
  'driver.bind',
  'driver.fail',
  'driver.unbind',
  'iommu.attach',
  'iommu.map',
  'iommu.unmap',
  'iommu.tlb',
  'iommu.fault',
  'swiotlb.bounce',
  'swiotlb.release',
  'swiotlb.full',
] as const;
export type EventCategory = (typeof EVENT_CATEGORIES)[number];

const PID = 1;

/**
 * Listens to a machine's observational emitters (driver core, IOMMU core, swiotlb, IOMMU faults)
 * and keeps the events whose category the filter accepts, on the simulated clock; one thread per
 * device. Categories the filter rejects get no listener at all, so they cost nothing.
 */
export class TraceRecorder {
  private readonly events: TraceEvent[] = [];
  private readonly tids = new Map<string, number>();
  private readonly probeStart = new Map<string, number>();

  constructor(
    private readonly m: Machine,
    private readonly keep: CategoryFilter,
  ) {
    const on = (cat: EventCategory): boolean => keep(cat);
    const drivers = m.bus.core;
    const nameOf = (dev: { name: string }): string => {
      for (const e of m.hw.devices.values()) if (e.dev === dev) return e.spec.name;
      return dev.name;
    };
    if (on('driver.add')) drivers.on('deviceAdded', (e) => this.instant('driver.add', 'device_add', nameOf(e.device), { bus: e.bus }));
    const probeSpans = on('driver.probe');
    if (probeSpans || on('driver.bind') || on('driver.fail') || on('driver.defer')) {
      drivers.on('probeStarted', (e) => this.probeStart.set(nameOf(e.device), this.now()));
    }
    const endProbe = (dev: string, driver: string | null, result: string): void => {
      const start = this.probeStart.get(dev);
      this.probeStart.delete(dev);
      if (!probeSpans || start === undefined) return;
      this.events.push({ name: `probe ${driver ?? ''}`.trim(), cat: 'driver.probe', ph: 'X', ts: start, dur: Math.max(0, this.now() - start), pid: PID, tid: this.tid(dev), args: { driver, result } });
    };
    drivers.on('bound', (e) => {
      endProbe(nameOf(e.device), e.driver, 'bound');
      if (on('driver.bind')) this.instant('driver.bind', `bind ${e.driver}`, nameOf(e.device), { driver: e.driver });
    });
    drivers.on('probeFailed', (e) => {
      endProbe(nameOf(e.device), e.driver, `error ${e.error}`);
      if (on('driver.fail')) this.instant('driver.fail', `probe failed ${e.driver}`, nameOf(e.device), { driver: e.driver, error: e.error });
    });
    drivers.on('deferred', (e) => {
      endProbe(nameOf(e.device), e.driver, 'deferred');
      if (on('driver.defer')) this.instant('driver.defer', 'deferred', nameOf(e.device), { driver: e.driver, source: e.source, reason: e.reason });
    });
    if (on('driver.unbind')) drivers.on('unbound', (e) => this.instant('driver.unbind', `unbind ${e.driver}`, nameOf(e.device), { driver: e.driver }));

    const iommu = m.iommu.events;
    const domainName = (id: number): string => `domain ${id}`;
    if (on('iommu.attach')) iommu.on('attach', (e) => this.instant('iommu.attach', 'attach', nameOf(e.device), { domain: e.domain.id, type: e.domain.type }));
    if (on('iommu.map')) iommu.on('map', (e) => this.instant('iommu.map', 'map', domainName(e.domain.id), { iova: hex(e.iova), paddr: hex(e.paddr), size: e.size }));
    if (on('iommu.unmap')) iommu.on('unmap', (e) => this.instant('iommu.unmap', 'unmap', domainName(e.domain.id), { iova: hex(e.iova), size: e.size, unmapped: e.unmapped }));
    if (on('iommu.tlb')) iommu.on('tlbInvalidate', (e) => this.instant('iommu.tlb', e.scope === 'all' ? 'flush_iotlb_all' : 'iotlb_sync', domainName(e.domain.id), e.scope === 'all' ? { scope: e.scope } : { scope: e.scope, start: hex(e.start), end: hex(e.end) }));
    if (on('iommu.fault')) m.hw.events.on('fault', (f) => this.instant('iommu.fault', `${f.kind} fault`, f.device ?? f.iommu, { iommu: f.iommu, streamId: f.streamId, iova: f.iova, access: f.access }));

    const tlb = m.swiotlb?.events;
    if (tlb !== undefined) {
      if (on('swiotlb.bounce')) tlb.on('bounce', (e) => this.instant('swiotlb.bounce', 'bounce', nameOf(e.device), { orig: hex(e.orig), tlb: hex(e.tlb), size: e.size, usedSlots: e.usedSlots, totalSlots: e.totalSlots }));
      if (on('swiotlb.release')) tlb.on('release', (e) => this.instant('swiotlb.release', 'release', nameOf(e.device), { tlb: hex(e.tlb), size: e.size, usedSlots: e.usedSlots, totalSlots: e.totalSlots }));
      if (on('swiotlb.full')) tlb.on('full', (e) => this.instant('swiotlb.full', 'swiotlb buffer is full', nameOf(e.device), { size: e.size, usedSlots: e.usedSlots, totalSlots: e.totalSlots }));
    }
  }

  /** The simulated clock in microseconds (trace-event time unit). */
  private now(): number {
    return this.m.core.sched.now / 1000;
  }

  private tid(track: string): number {
    let t = this.tids.get(track);
    if (t === undefined) {
      t = this.tids.size + 1;
      this.tids.set(track, t);
    }
    return t;
  }

  private instant(cat: EventCategory, name: string, track: string, args: Record<string, unknown>): void {
    this.events.push({ name, cat, ph: 'i', ts: this.now(), pid: PID, tid: this.tid(track), s: 't', args });
  }

  /** The trace so far: metadata naming the process and each track, then the events in order. */
  trace(): ChromeTrace {
    const meta: TraceEvent[] = [{ name: 'process_name', cat: '__metadata', ph: 'M', ts: 0, pid: PID, tid: 0, args: { name: `dmasim ${this.m.board.name}` } }];
    for (const [track, tid] of this.tids) meta.push({ name: 'thread_name', cat: '__metadata', ph: 'M', ts: 0, pid: PID, tid, args: { name: track } });
    return { traceEvents: [...meta, ...this.events], displayTimeUnit: 'ns', metadata: { board: this.m.board.name, seed: this.m.seed, clock: 'simulated' } };
  }
}
