import type { IommuDomainReport, IommuInstanceReport } from '@dmasim/iommu-core';
/**
 * The `dmasim run --json` report (DESIGN's contract). Addresses are hex strings. Field order is
 * fixed so reports are byte-identical for the same board and seed.
 */
import type { LogRecord } from '@dmasim/core';

export type Outcome = 'ok' | 'degraded' | 'oops';

export interface DeviceReport {
  readonly name: string;
  readonly bus: string;
  readonly driver: string | null;
  readonly state: 'bound' | 'deferred' | 'failed' | 'no-driver';
  readonly dmaOps: 'direct' | 'iommu-dma' | 'arm-iommu' | 'none';
  /** Highest CPU physical address the device reaches without an IOMMU. */
  readonly dmaLimit: string;
  readonly coherent: boolean;
  readonly iommu: DeviceIommuReport | null;
  /** Why a device is deferred or failed, when the kernel said. */
  readonly reason?: string;
}

export interface DeviceIommuReport {
  readonly name: string;
  readonly streamIds: readonly number[];
  readonly group: number | null;
  readonly domain: number | null;
  readonly domainType: string | null;
  readonly contextBank: number | null;
  /** What the device's DMA meets at the IOMMU now: translated, bypass (untranslated), blocked, or unknown (the model cannot say). */
  readonly route: 'translated' | 'bypass' | 'blocked' | 'unknown';
}

export type DomainReport = IommuDomainReport;

/**
 * One IOMMU instance, as its model plugin reports it: `name` and `domains` always; an SMMU adds
 * `contextBanks` and `contextBanksUsed` (before `domains`), other models what they have instead.
 */
export type IommuReport = IommuInstanceReport;

export interface FaultReport {
  readonly iommu: string;
  readonly device: string | null;
  /** The id the transaction carried (SMMU stream id); null for IOMMUs without ids (one per master). */
  readonly streamId: number | null;
  readonly iova: string;
  readonly access: 'read' | 'write';
  readonly kind: string;
}

export interface SwiotlbReport {
  readonly totalSlots: number;
  readonly usedSlots: number;
  readonly maxUsedSlots: number;
  readonly dynamicBuffers: number;
  readonly fullErrors: number;
}

export interface DmaDebugReport {
  readonly device: string;
  readonly message: string;
}

export interface WorkloadReport {
  readonly kind: string;
  readonly device: string;
  readonly ok: boolean;
  readonly bytes: number;
  readonly errors: number;
  readonly details?: string;
}

/** Kinds of problem, most severe first (the order `problems` is sorted in). */
export const PROBLEM_KINDS = ['iommu-bypass', 'oops', 'attach-failed', 'probe-failed', 'fault', 'workload-failed', 'deferred', 'dma-debug'] as const;
export type ProblemKind = (typeof PROBLEM_KINDS)[number];

/** Something a kernel engineer would want fixed, in their words. */
export interface Problem {
  readonly kind: ProblemKind;
  readonly device?: string;
  readonly detail: string;
}

export interface RunReport {
  readonly board: string;
  readonly seed: number;
  readonly profile: string;
  readonly arch: string;
  /** `ok` only when `problems` is empty. */
  readonly outcome: Outcome;
  /** What went wrong, most severe first. */
  readonly problems: readonly Problem[];
  readonly devices: readonly DeviceReport[];
  readonly iommus: readonly IommuReport[];
  /** Faults devices met, the first MAX_LISTED_FAULTS of them. */
  readonly faults: readonly FaultReport[];
  /** How many faults devices met in all. */
  readonly faultCount: number;
  readonly swiotlb: SwiotlbReport | null;
  readonly dmaDebug: readonly DmaDebugReport[];
  readonly workloads: readonly WorkloadReport[];
  readonly warnings: number;
  readonly oops: { readonly reason: string; readonly time: string } | null;
  readonly log: readonly string[];
  /** The `log` lines as records: `{ t: seconds, level: printk level, dev: device name or null, msg }`. */
  readonly logRecords: readonly LogRecord[];
}
