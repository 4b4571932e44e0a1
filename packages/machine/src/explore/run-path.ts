import type { Decision } from '@dmasim/core';
import type { LoadedBoard } from '../board/load';
import { Machine } from '../machine/machine';
import type { PluginRegistry } from '../machine/plugins';
import type { Problem, RunReport } from '../report/types';
import { decisionLabel } from './explain';
import { outcomeSignature, stateSignature } from './signature';

/** A node of the order tree met beyond the task's prefix: the choice taken and the alternatives. */
export interface PathStep {
  readonly key: string;
  readonly point: string;
  /** The decision this pick belongs to (`device-add`, `deferred-probe#1`). */
  readonly decision: string;
  readonly choice: string;
  readonly remaining: readonly string[];
}

/** A device of a finished run with the concrete numbers its outcome's signature leaves out. */
export interface ExampleDevice {
  readonly name: string;
  readonly state: string;
  readonly dmaOps: string;
  readonly iommu: string | null;
  readonly domainType: string | null;
  readonly domain: number | null;
  readonly contextBank: number | null;
  readonly group: number | null;
}

/** A finished run as exploration keeps it: its outcome, problems, devices and every decision. */
export interface RunSummary {
  readonly signature: string;
  readonly outcome: string;
  readonly problems: readonly Problem[];
  readonly devices: readonly ExampleDevice[];
  readonly decisions: readonly Decision[];
}

export function summariseRun(report: RunReport, decisions: readonly Decision[]): RunSummary {
  return {
    signature: outcomeSignature(report),
    outcome: report.outcome,
    problems: report.problems,
    devices: report.devices.map((d) => ({
      name: d.name,
      state: d.state,
      dmaOps: d.dmaOps,
      iommu: d.iommu?.name ?? null,
      domainType: d.iommu?.domainType ?? null,
      domain: d.iommu?.domain ?? null,
      contextBank: d.iommu?.contextBank ?? null,
      group: d.iommu?.group ?? null,
    })),
    decisions,
  };
}

export type PathEnd = ({ readonly kind: 'outcome' } & RunSummary) | { readonly kind: 'pruned'; readonly key: string };

export interface PathResult {
  readonly steps: readonly PathStep[];
  readonly end: PathEnd;
}

class Pruned extends Error {
  constructor(readonly key: string) {
    super('pruned');
  }
}

/**
 * Runs one order: the first picks follow `prefix` (choices at every decision with more than one item
 * ready), later ones take the natural choice and are reported as steps. Reaching a state already in
 * `seen` stops the run early: its future is already being explored.
 */
export function runPath(loaded: LoadedBoard, registry: PluginRegistry, prefix: readonly string[], seen: ReadonlySet<string>): PathResult {
  const steps: PathStep[] = [];
  let picks = 0;
  let machine: Machine | null = null;
  // Set when the run reaches a known state; kept apart from the exception in case a notifier chain
  // (which isolates throwing callbacks, as the kernel's does) swallows it.
  let prunedAt: string | null = null;
  // the items still to order at every other decision in progress (decisions nest: a device added
  // at device-add probes, which can run a deferred-probe decision before the next device-add pick)
  const open = new Map<string, string>();
  // decisions with a choice started per point, and the label of the one open at each point: part
  // of the key, so every node knows which decision it is (`deferred-probe#2`) whatever the path
  const occurrences = new Map<string, number>();
  const labels = new Map<string, string>();
  const chooser = (point: string, remaining: readonly string[]): string | undefined => {
    if (remaining.length < 2) open.delete(point);
    if (remaining.length < 2 || prunedAt !== null) return undefined;
    if (!open.has(point)) {
      const n = occurrences.get(point) ?? 0;
      occurrences.set(point, n + 1);
      labels.set(point, decisionLabel(point, n));
    }
    const decision = labels.get(point)!;
    const i = picks++;
    const pick = (choice: string): string => {
      open.set(point, remaining.filter((x) => x !== choice).sort().join(','));
      return choice;
    };
    if (i < prefix.length) {
      const want = prefix[i]!;
      if (!remaining.includes(want)) throw new Error(`explore: order prefix diverged at pick ${i}: ${want} is not among ${remaining.join(', ')}`);
      return pick(want);
    }
    const others = [...open].filter(([p]) => p !== point).map(([p, items]) => `${p}=${items}`).sort().join(';');
    const occ = [...occurrences].map(([p, n]) => `${p}=${n}`).sort().join(';');
    const key = `${decision}|${[...remaining].sort().join(',')}|${others}|${occ}|${machine === null ? '' : stateSignature(machine)}`;
    if (seen.has(key)) {
      prunedAt = key;
      throw new Pruned(key);
    }
    const choice = remaining[0]!;
    steps.push({ key, point, decision, choice, remaining: [...remaining] });
    return pick(choice);
  };
  try {
    machine = new Machine(loaded, { registry, chooser });
    const report = machine.run();
    if (prunedAt !== null) return { steps, end: { kind: 'pruned', key: prunedAt } };
    return { steps, end: { kind: 'outcome', ...summariseRun(report, machine.core.sched.decisions) } };
  } catch (e) {
    if (e instanceof Pruned) return { steps, end: { kind: 'pruned', key: e.key } };
    throw e;
  }
}
