import type { IommuReport, Problem, RunReport } from './types';

/** Renders rows as aligned columns. */
function table(header: readonly string[], rows: readonly (readonly string[])[]): string[] {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const fmt = (cells: readonly string[]): string => cells.map((c, i) => c.padEnd(widths[i]!)).join('  ').trimEnd();
  return [fmt(header), ...rows.map(fmt)];
}

export interface HumanOptions {
  /** Print the whole kernel log; otherwise only warnings and errors. */
  readonly fullLog?: boolean;
  /** Lines of the log at warning level or worse (the report keeps all lines). */
  readonly warningLines?: readonly string[];
}

/** One line per problem: its kind, then the device and what happened. */
export function renderProblems(problems: readonly Problem[]): string[] {
  const width = Math.max(...problems.map((p) => p.kind.length));
  return problems.map((p) => `${p.kind.padEnd(width)}  ${p.device !== undefined ? `${p.device}: ` : ''}${p.detail}`);
}

/** The human form of a run: its problems, devices, IOMMUs, faults, swiotlb, dma-debug, workloads, then the log. */
export function renderHuman(r: RunReport, opts: HumanOptions = {}): string {
  const out: string[] = [];
  out.push(`board ${r.board}  seed ${r.seed}  profile ${r.profile}  arch ${r.arch}  outcome ${r.outcome.toUpperCase()}`);
  out.push('');
  if (r.problems.length > 0) {
    out.push(`problems (${r.problems.length}, most severe first):`);
    out.push(...renderProblems(r.problems).map((l) => `  ${l}`));
    out.push('');
  }
  out.push(
    ...table(
      ['device', 'bus', 'driver', 'state', 'dma ops', 'iommu', 'group', 'domain', 'cb', 'dma limit', 'coherent'],
      r.devices.map((d) => [
        d.name,
        d.bus,
        d.driver ?? '-',
        d.state,
        d.dmaOps,
        d.iommu ? (d.iommu.streamIds.length > 0 ? `${d.iommu.name}:${d.iommu.streamIds.join(',')}` : d.iommu.name) : '-',
        d.iommu?.group == null ? '-' : String(d.iommu.group),
        d.iommu?.domain == null ? '-' : `${d.iommu.domain} ${d.iommu.domainType ?? ''}`.trim(),
        d.iommu?.contextBank == null ? '-' : String(d.iommu.contextBank),
        d.dmaLimit,
        d.coherent ? 'yes' : 'no',
      ]),
    ),
  );
  for (const d of r.devices) if (d.reason) out.push(`  ${d.name}: ${d.reason}`);
  if (r.iommus.length > 0) {
    out.push('');
    for (const m of r.iommus) {
      out.push(`${m.name}: ${iommuSummary(m)}`);
      for (const d of m.domains) out.push(`  domain ${d.id} ${d.type} cb ${d.contextBank ?? '-'}: ${d.devices.join(', ') || '(no devices)'}`);
    }
  }
  if (r.faults.length > 0) {
    out.push('', `faults (${r.faults.length}):`);
    for (const f of r.faults.slice(0, 20)) out.push(`  ${f.iommu} ${f.device ?? '?'}${f.streamId === null ? '' : ` sid ${f.streamId}`} ${f.access} ${f.iova} ${f.kind}`);
    if (r.faults.length > 20) out.push(`  ... ${r.faults.length - 20} more`);
  }
  if (r.swiotlb) {
    const s = r.swiotlb;
    out.push('', `swiotlb: ${s.usedSlots}/${s.totalSlots} slots used (max ${s.maxUsedSlots}), ${s.dynamicBuffers} dynamic buffers, ${s.fullErrors} full errors`);
  }
  if (r.dmaDebug.length > 0) {
    out.push('', `dma-debug (${r.dmaDebug.length}):`);
    for (const d of r.dmaDebug) out.push(`  ${d.device}: ${d.message}`);
  }
  if (r.workloads.length > 0) {
    out.push('', 'workloads:');
    out.push(...table(['kind', 'device', 'result', 'bytes', 'errors'], r.workloads.map((w) => [w.kind, w.device, w.ok ? 'ok' : 'FAILED', String(w.bytes), String(w.errors)])).map((l) => `  ${l}`));
    for (const w of r.workloads) if (w.details) out.push(`  ${w.device}: ${w.details}`);
  }
  if (r.oops) out.push('', `the simulated kernel oopsed at ${r.oops.time}: ${r.oops.reason}`);
  const logLines = opts.fullLog ? r.log : (opts.warningLines ?? []);
  if (logLines.length > 0) {
    out.push('', opts.fullLog ? 'kernel log:' : `kernel warnings and errors (${logLines.length}; --log for all ${r.log.length} lines):`);
    out.push(...logLines);
  }
  return `${out.join('\n')}\n`;
}

/** One line about an IOMMU instance from whatever its model reported besides its domains. */
function iommuSummary(m: IommuReport): string {
  if (typeof m.contextBanks === 'number' && typeof m.contextBanksUsed === 'number') return `${m.contextBanksUsed}/${m.contextBanks} context banks used`;
  const facts = Object.entries(m).filter(([k, v]) => k !== 'name' && k !== 'domains' && (typeof v !== 'object' || v === null));
  return facts.map(([k, v]) => `${k} ${String(v)}`).join(', ') || `${m.domains.length} domain(s)`;
}
