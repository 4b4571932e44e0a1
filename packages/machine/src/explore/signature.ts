import { getDmaOps } from '@dmasim/dma-mapping';
import type { Machine } from '../machine/machine';
import type { RunReport } from '../report/types';

/**
 * What an outcome is, for grouping runs: per board device its state, DMA ops, domain type and
 * context bank; which devices met faults; which workloads failed; an oops. Ids that only record
 * allocation order (group and domain numbers) are left out.
 */
export function outcomeSignature(r: RunReport): string {
  const parts = r.devices.map((d) => `${d.name}=${d.state}/${d.dmaOps}${d.iommu ? `/${d.iommu.domainType ?? 'no-domain'}/cb${d.iommu.contextBank ?? '-'}` : ''}`);
  const faulted = [...new Set(r.faults.map((f) => f.device ?? '?'))].sort();
  if (faulted.length > 0) parts.push(`faults:${faulted.join(',')}`);
  const failed = r.workloads.filter((w) => !w.ok).map((w) => `${w.kind}@${w.device}`);
  if (failed.length > 0) parts.push(`failed:${failed.join(',')}`);
  if (r.oops !== null) parts.push(`oops:${r.oops.reason}`);
  return parts.join(' ');
}

/**
 * The state of a booting machine as far as its future depends on it: every kernel device's state,
 * driver, DMA ops and context bank, and which devices wait on the deferred list. Two orders that
 * reach the same state with the same items left to order are explored once.
 */
export function stateSignature(m: Machine): string {
  const rows: string[] = [];
  for (const dev of m.bus.core.devices.values()) {
    const dom = m.iommuDomainOf(dev);
    rows.push(`${dev.name}:${dev.state}:${dev.driverName ?? '-'}:${getDmaOps(dev).name}:${dom === null ? '-' : `${dom.type}/${dom.contextBank ?? '-'}`}`);
  }
  rows.sort();
  return `${rows.join(',')}|${m.iommuStateKeys().join(',')}|faults:${m.hw.faults.length}`;
}
