import type { DeviceReport, DmaDebugReport, FaultReport, Problem, WorkloadReport } from './types';
import { PROBLEM_KINDS } from './types';

export interface ProblemInputs {
  readonly devices: readonly DeviceReport[];
  /** Masters whose DMA bypasses an IOMMU because the firmware's map leaves them out (iommu-map gaps). */
  readonly firmwareGaps?: readonly { readonly device: string; readonly detail: string }[];
  /** Every fault devices met (not only the listed ones). */
  readonly faults: readonly FaultReport[];
  readonly workloads: readonly WorkloadReport[];
  readonly dmaDebug: readonly DmaDebugReport[];
  readonly oops: { readonly reason: string; readonly time: string } | null;
}

const plural = (n: number, word: string): string => `${n} ${word}${n === 1 ? '' : 's'}`;

/** The device whose domain translates `d`'s stream (a shared stream), if another one does. */
function translatingPeer(d: DeviceReport, devices: readonly DeviceReport[]): DeviceReport | undefined {
  const mine = d.iommu;
  if (mine === null) return undefined;
  return devices.find((o) => o !== d && o.iommu !== null && o.iommu.name === mine.name && o.iommu.domain !== null && o.iommu.streamIds.some((s) => mine.streamIds.includes(s)));
}

/** A bypass, a failed attach or a kept direct-ops attach: what the IOMMU did with one master. */
function iommuProblem(d: DeviceReport, devices: readonly DeviceReport[]): Problem | null {
  const io = d.iommu;
  // an identity domain is passthrough the kernel chose; a master without a driver does no DMA
  if (io === null || io.domainType === 'IDENTITY' || d.state === 'no-driver' || d.state === 'deferred') return null;
  if (io.route === 'bypass' && d.state === 'bound') {
    const why = io.domain === null ? 'firmware lists it, kernel attached no domain' : `its stream is in bypass although ${io.domainType ?? ''} domain ${io.domain} is attached`;
    return { kind: 'iommu-bypass', device: d.name, detail: `DMA bypasses ${io.name}: ${why} (dma ops ${d.dmaOps})` };
  }
  if (io.domain === null && io.route !== 'bypass') {
    const peer = io.route === 'translated' ? translatingPeer(d, devices) : undefined;
    const fate = peer !== undefined ? `its stream ${io.streamIds.join(',')} is translated in ${peer.name}'s domain, where its buffers are not mapped` : io.route === 'translated' ? 'its stream is translated in a domain it is not attached to' : 'its DMA is blocked';
    return { kind: 'attach-failed', device: d.name, detail: `firmware lists ${io.name} but the kernel attached no domain (dma ops ${d.dmaOps}): ${fate}` };
  }
  if (io.domain !== null && d.state === 'bound' && d.dmaOps === 'direct') {
    return { kind: 'attach-failed', device: d.name, detail: `attached to ${io.domainType ?? ''} domain ${io.domain} on ${io.name} but kept direct DMA ops: its bus addresses are not mapped in the domain` };
  }
  return null;
}

/**
 * What went wrong in a run, most severe first: DMA that bypasses the IOMMU the firmware describes
 * (a security finding), an oops, failed attaches and probes, faults, failed workloads, devices left
 * deferred, dma-debug findings. Within a kind, in board order.
 */
export function problemsOf(r: ProblemInputs): Problem[] {
  const out: Problem[] = [];
  if (r.oops !== null) out.push({ kind: 'oops', detail: `the kernel oopsed at ${r.oops.time}: ${r.oops.reason}` });
  for (const d of r.devices) {
    const gap = r.firmwareGaps?.find((g) => g.device === d.name);
    if (gap !== undefined && d.state === 'bound') out.push({ kind: 'iommu-bypass', device: d.name, detail: gap.detail });
    const p = iommuProblem(d, r.devices);
    if (p !== null) out.push(p);
    if (d.state === 'failed') out.push({ kind: 'probe-failed', device: d.name, detail: d.reason ?? 'probe failed' });
    if (d.state === 'deferred') out.push({ kind: 'deferred', device: d.name, detail: `still on the deferred probe list after boot${d.reason !== undefined ? `: ${d.reason}` : ''}` });
  }
  const faulted = new Map<string, FaultReport[]>();
  for (const f of r.faults) {
    const key = f.device ?? '?';
    const list = faulted.get(key);
    if (list) list.push(f);
    else faulted.set(key, [f]);
  }
  // in board order, not in the order the faults happened: the list describes the end state
  const boardOrder = (name: string): number => {
    const i = r.devices.findIndex((d) => d.name === name);
    return i < 0 ? r.devices.length : i;
  };
  for (const [device, fs] of [...faulted].sort((a, b) => boardOrder(a[0]) - boardOrder(b[0]))) {
    const f = fs[0]!;
    out.push({ kind: 'fault', ...(device !== '?' ? { device } : {}), detail: `${plural(fs.length, 'IOMMU fault')} at ${f.iommu}, first: ${f.kind} fault on ${f.access} of iova ${f.iova} (stream ${f.streamId})` });
  }
  for (const w of r.workloads) {
    if (!w.ok) out.push({ kind: 'workload-failed', device: w.device, detail: `${w.kind} failed with ${plural(w.errors, 'error')}${w.details !== undefined ? ` (${w.details})` : ''}` });
  }
  for (const f of r.dmaDebug) out.push({ kind: 'dma-debug', device: f.device, detail: `dma-debug: ${f.message}` });
  const rank = (p: Problem): number => PROBLEM_KINDS.indexOf(p.kind);
  return out.sort((a, b) => rank(a) - rank(b));
}
