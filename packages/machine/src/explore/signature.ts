import { getDmaOps } from '@dmasim/dma-mapping';
import type { Machine } from '../machine/machine';
import { deviceIommuFacts, domainKey } from '../report/iommu-facts';
import type { RunReport } from '../report/types';

/** `a+b` for each set of devices (by name) that share something, sets with one member left out. */
function sharing(sets: Iterable<readonly string[]>): string[] {
  const out = new Set<string>();
  for (const s of sets) if (s.length > 1) out.add([...s].sort().join('+'));
  return [...out].sort();
}

/**
 * What an outcome is, for grouping runs, up to renaming: per board device its state, DMA ops,
 * domain type and whether its domain holds a context bank; which devices share a domain; the
 * problems (kind and device). Numbers that only record allocation order (context-bank indices,
 * domain and group ids) are left out: two runs that differ only in which master got bank 0 are
 * one outcome.
 */
export function outcomeSignature(r: RunReport): string {
  const parts = r.devices.map((d) => `${d.name}=${d.state}/${d.dmaOps}${d.iommu ? `/${d.iommu.domainType ?? 'no-domain'}${d.iommu.domain === null ? '' : d.iommu.contextBank === null ? '/no-bank' : '/bank'}` : ''}`);
  const domains = new Map<string, string[]>();
  for (const d of r.devices) {
    if (d.iommu?.domain == null) continue;
    const key = `${d.iommu.name}#${d.iommu.domain}`;
    domains.set(key, [...(domains.get(key) ?? []), d.name]);
  }
  for (const s of sharing(domains.values())) parts.push(`shared:${s}`);
  if (r.problems.length > 0) parts.push(`problems:${r.problems.map((p) => (p.device === undefined ? p.kind : `${p.kind}(${p.device})`)).join(',')}`);
  return parts.join(' ');
}

/**
 * The state of a booting machine as far as its future depends on it, up to renaming of context
 * banks, domains and groups: every kernel device's state, driver, DMA ops, domain type, whether it
 * holds a context and where its stream goes; which devices share a domain and a group; contexts in
 * use per IOMMU; faults so far; the initcall level and the deferred-probe lists and trigger count. Two orders that reach the same state with the same items left to
 * order are explored once.
 */
export function stateSignature(m: Machine): string {
  const rows: string[] = [];
  const domains = new Map<string, string[]>();
  const groups: string[][] = [];
  for (const dev of m.bus.core.devices.values()) {
    const f = deviceIommuFacts(m, dev);
    const io = f === null ? '-' : `${f.domain?.type ?? '-'}/${f.holdsContext ? 'ctx' : '-'}/${f.route}`;
    rows.push(`${dev.name}:${dev.state}:${dev.driverName ?? '-'}:${getDmaOps(dev).name}:${io}`);
    const key = f === null ? null : domainKey(f);
    if (key !== null) domains.set(key, [...(domains.get(key) ?? []), dev.name]);
    if (f?.group) groups.push(f.group.members.map((d) => d.name));
  }
  rows.sort();
  const contexts = m.iommuStateKeys();
  // where the boot is: the initcall level and the deferred-probe machinery (its lists and triggers
  // decide which retries are still to come; without them two retry rounds would look like one)
  const dp = m.bus.core.deferred;
  const names = (s: ReadonlySet<{ readonly name: string }>): string => [...s].map((d) => d.name).sort().join('+');
  const boot = `${m.core.sched.currentLevel ?? '-'}|dp:${dp.enabled ? 'on' : 'off'}${dp.initcallsDone ? '/done' : ''}:${dp.triggerCount}:${names(dp.pending)}:${names(dp.active)}`;
  return `${rows.join(',')}|d:${sharing(domains.values()).join(',')}|g:${sharing(groups).join(',')}|${contexts.join(',')}|faults:${m.hw.faults.length}|${boot}`;
}
