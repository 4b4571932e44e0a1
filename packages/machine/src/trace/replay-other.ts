import type { Chooser, Decision } from '@dmasim/core';
import type { LoadedBoard } from '../board/load';
import { decisionLabel, ordersOf } from '../explore/explain';
import { Machine } from '../machine/machine';
import type { PluginRegistry } from '../machine/plugins';
import { renderProblems } from '../report/human';
import type { DeviceReport, RunReport } from '../report/types';

/**
 * A chooser that takes, at every decision with a choice, the order a recorded run took there
 * (decisions matched by point and occurrence, `deferred-probe#1`): items the recorded run did not
 * have at that decision fall to the board's policy, items it had that are gone are skipped. So a
 * recorded bad order can be re-run on a changed board (another profile, another defaultDomain).
 */
export function followRecordedOrder(decisions: readonly Decision[]): { chooser: Chooser; followed(): number } {
  const recorded = ordersOf(decisions);
  const occurrences = new Map<string, number>();
  const open = new Map<string, string>();
  const used = new Set<string>();
  const chooser: Chooser = (point, remaining) => {
    let label = open.get(point);
    if (label === undefined) {
      if (remaining.length < 2) return undefined;
      const n = occurrences.get(point) ?? 0;
      occurrences.set(point, n + 1);
      label = decisionLabel(point, n);
      open.set(point, label);
    }
    if (remaining.length < 2) open.delete(point);
    const order = recorded.get(label);
    if (order !== undefined) used.add(label);
    return order?.find((item) => remaining.includes(item));
  };
  return { chooser, followed: () => [...used].filter((l) => recorded.has(l)).length };
}

export interface OtherBoardReplay {
  readonly report: RunReport;
  /** Decisions of the recording that the other board met (by point and occurrence). */
  readonly followed: number;
  readonly recordedDecisions: number;
}

/** Runs `loaded` (another board than the trace's) in the order the trace recorded. */
export function replayOnOtherBoard(loaded: LoadedBoard, registry: PluginRegistry, seed: number, decisions: readonly Decision[]): OtherBoardReplay {
  const follow = followRecordedOrder(decisions);
  const report = new Machine(loaded, { registry, seed, chooser: follow.chooser }).run();
  return { report, followed: follow.followed(), recordedDecisions: ordersOf(decisions).size };
}

const deviceCell = (d: DeviceReport | undefined): string => {
  if (d === undefined) return '(absent)';
  const io = d.iommu === null ? '' : d.iommu.domain === null ? ' no-domain' : ` ${d.iommu.domainType ?? ''} domain ${d.iommu.domain}${d.iommu.contextBank === null ? '' : ` cb ${d.iommu.contextBank}`}`;
  return `${d.state} ${d.dmaOps}${io}`;
};

/** Both runs side by side: outcome, problems, then each device's state, ops and domain where they differ. */
export function renderSideBySide(left: { title: string; report: RunReport }, right: { title: string; report: RunReport }): string[] {
  const out: string[] = [];
  const names = [...new Set([...left.report.devices, ...right.report.devices].map((d) => d.name))];
  const rows: [string, string, string][] = [['', left.title, right.title], ['outcome', left.report.outcome.toUpperCase(), right.report.outcome.toUpperCase()]];
  for (const n of names) {
    const a = deviceCell(left.report.devices.find((d) => d.name === n));
    const b = deviceCell(right.report.devices.find((d) => d.name === n));
    rows.push([n, a, a === b ? '(same)' : b]);
  }
  const w0 = Math.max(...rows.map((r) => r[0].length));
  const w1 = Math.max(...rows.map((r) => r[1].length));
  out.push(...rows.map((r) => `${r[0].padEnd(w0)}  ${r[1].padEnd(w1)}  ${r[2]}`.trimEnd()));
  for (const side of [left, right]) {
    out.push('', `problems, ${side.title} (${side.report.problems.length}):`);
    out.push(...(side.report.problems.length === 0 ? ['  (none)'] : renderProblems(side.report.problems).map((l) => `  ${l}`)));
  }
  return out;
}
