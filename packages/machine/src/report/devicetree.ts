import { hex } from '@dmasim/core';
import type { DevicetreeSummary } from '../board/devicetree';
import { PROBLEM_KINDS, type DeviceReport, type Problem, type RunReport } from './types';

/**
 * What a report says about a board imported from a device tree beyond the machine's own devices:
 * every node the kernel would populate but dmasim has no model for is listed as a `no-driver`
 * device (with the DMA limit the kernel would give it), and the masters of an IOMMU no model
 * exists for are marked: the real hardware would translate their DMA, the machine does not.
 */
export function withDevicetree(report: RunReport, dt: DevicetreeSummary | undefined): RunReport {
  if (dt === undefined) return report;
  const listed = new Set(report.devices.map((d) => d.name));
  const extra: DeviceReport[] = dt.nodes
    .filter((n) => n.as === 'no-driver' && !listed.has(n.name))
    .map((n) => ({ name: n.name, bus: n.bus ?? 'platform', driver: null, state: 'no-driver', dmaOps: 'none', dmaLimit: hex(n.dmaLimit ?? 0), coherent: n.coherent ?? false, iommu: null, reason: `no model for ${n.compatible} (${n.path})` }));
  const behind = new Map<string, DevicetreeSummary['unmodelledIommus'][number]>();
  for (const u of dt.unmodelledIommus) for (const m of u.masters) behind.set(m, u);
  const bypass: Problem[] = [];
  const devices = [...report.devices, ...extra].map((d) => {
    const u = behind.get(d.name) ?? behind.get(d.bus);
    if (u === undefined) return d;
    const note = `behind ${u.name} (${u.compatible}, ${u.path}), which dmasim does not model: the real hardware would translate this DMA, here it is not translated`;
    // a master without a driver does no DMA (as the machine's own problems say)
    if (d.state !== 'no-driver') bypass.push({ kind: 'iommu-bypass', device: d.name, detail: `DMA bypasses ${u.name}: ${note.slice(note.indexOf('which'))}` });
    return { ...d, reason: d.reason === undefined ? note : `${d.reason}; ${note}` };
  });
  const rank = (p: Problem): number => PROBLEM_KINDS.indexOf(p.kind);
  const problems = [...bypass, ...report.problems].sort((a, b) => rank(a) - rank(b));
  const outcome = report.outcome === 'oops' ? 'oops' : problems.length > 0 ? 'degraded' : 'ok';
  return { ...report, devices, problems, outcome };
}
