import { PciDev, PciHostBridge, type Device } from '@dmasim/bus';
import { bitMaskHex, errnoName, formatTimestamp, hex } from '@dmasim/core';
import { dmaDirectPhysLimit, getDmaOps } from '@dmasim/dma-mapping';
import { deviceCoherent } from '../machine/layout';
import type { Machine } from '../machine/machine';
import { deviceIommuFacts } from './iommu-facts';
import { problemsOf } from './problems';
import type { DeviceReport, FaultReport, IommuReport, Outcome, RunReport } from './types';

/** At most this many faults are listed; `faults` says how many there were in the log. */
export const MAX_LISTED_FAULTS = 256;

export interface BuildOptions {
  /** Device and IOMMU sections taken earlier (before shutdown unbound the drivers). */
  readonly devices?: readonly DeviceReport[];
  readonly iommus?: readonly IommuReport[];
  readonly devicesOnly?: boolean;
}

function opsName(dev: Device): DeviceReport['dmaOps'] {
  const name = getDmaOps(dev).name;
  if (name === 'iommu-dma' || name === 'arm-iommu' || name === 'direct') return name;
  return 'none';
}

function stateOf(dev: Device): DeviceReport['state'] {
  switch (dev.state) {
    case 'bound':
    case 'deferred':
    case 'failed':
      return dev.state;
    case 'probing':
      return 'failed';
    default:
      return 'no-driver';
  }
}

function deviceReport(m: Machine, dev: Device, boardName: string, busName: string): DeviceReport {
  const facts = deviceIommuFacts(m, dev);
  const reason = dev.state === 'deferred' || dev.state === 'failed' ? (dev.deferredProbeReason ?? (dev.probeError !== 0 ? `probe failed with ${errnoName(dev.probeError)}` : undefined)) : undefined;
  return {
    name: boardName,
    bus: busName,
    driver: dev.driverName ?? null,
    state: stateOf(dev),
    dmaOps: opsName(dev),
    dmaLimit: dmaLimitHex(dev),
    coherent: dev.dma.coherent,
    iommu:
      facts === null
        ? null
        : {
            name: facts.iommu,
            streamIds: facts.streamIds,
            group: facts.group?.id ?? null,
            domain: facts.domain?.id ?? null,
            domainType: facts.domain?.type ?? null,
            contextBank: facts.domain?.contextBank ?? null,
            route: facts.route,
          },
    ...(reason !== undefined ? { reason } : {}),
  };
}

function devicesSection(m: Machine): DeviceReport[] {
  const out: DeviceReport[] = [];
  const known = new Set<Device>();
  for (const e of m.hw.devices.values()) {
    if (e.dev === null) {
      out.push({ name: e.spec.name, bus: e.spec.bus, driver: null, state: 'no-driver', dmaOps: 'none', dmaLimit: hex(0), coherent: deviceCoherent(e.spec), iommu: null, reason: 'never enumerated' });
      continue;
    }
    known.add(e.dev);
    out.push(deviceReport(m, e.dev, e.spec.name, e.spec.bus));
  }
  // devices the drivers created themselves (the vc4 DRM device `gpu`), not IOMMUs or PCI plumbing
  const iommuNames = new Set(m.board.iommus.map((i) => i.name));
  for (const dev of m.bus.core.devices.values()) {
    if (known.has(dev) || iommuNames.has(dev.name) || dev instanceof PciHostBridge || (dev instanceof PciDev && dev.isBridge)) continue;
    out.push(deviceReport(m, dev, dev.name, dev.busName ?? '-'));
  }
  return out;
}

export function buildReport(m: Machine, opts: BuildOptions = {}): RunReport {
  const devices = opts.devices ?? devicesSection(m);
  const iommus = opts.iommus ?? m.iommuReports();
  const log = m.core.log;
  const faults: FaultReport[] = m.hw.faults.slice(0, MAX_LISTED_FAULTS);
  const s = m.swiotlb?.stats();
  const dmaDebug = opts.devicesOnly ? [] : (m.dma.debug?.findings ?? []).map((f) => ({ device: f.device, message: f.message }));
  const oops = log.oopsed;
  const problems = problemsOf({ devices, firmwareGaps: m.iommuMapGaps, faults: m.hw.faults, workloads: m.workloadResults, dmaDebug, oops: oops === null ? null : { reason: oops.reason, time: formatTimestamp(oops.timeNs) } });
  const outcome: Outcome = oops !== null ? 'oops' : problems.length > 0 ? 'degraded' : 'ok';
  return {
    board: m.board.name,
    seed: m.seed,
    profile: m.board.kernel.profile,
    arch: m.board.kernel.arch,
    outcome,
    problems,
    devices,
    iommus,
    faults,
    faultCount: m.hw.faults.length,
    swiotlb: s === undefined ? null : { totalSlots: s.totalSlots, usedSlots: s.usedSlots, maxUsedSlots: s.maxUsedSlots, dynamicBuffers: s.dynamicBuffers, fullErrors: s.fullErrors },
    dmaDebug,
    workloads: m.workloadResults,
    warnings: log.warnCount,
    oops: oops === null ? null : { reason: oops.reason, time: formatTimestamp(oops.timeNs) },
    // dmesg holds what printk stored: dev_dbg and pr_debug lines stay off, as without dynamic debug
    log: opts.devicesOnly ? [] : log.format('info'),
    // the same lines as records: seconds, printk level, the dev_printk device (or null), the message
    logRecords: opts.devicesOnly ? [] : log.records('info'),
  };
}

/** The report's dmaLimit; a limit past what a number holds is the mask itself, printed as the kernel prints it. */
export function dmaLimitHex(dev: Device): string {
  const limit = dmaDirectPhysLimit(dev);
  return limit >= Number.MAX_SAFE_INTEGER ? `0x${bitMaskHex(dev.dma.maskBits)}` : hex(limit);
}
