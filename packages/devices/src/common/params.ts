import { parseSize } from '@dmasim/core';
import type { WorkloadParams, WorkloadResult } from '../model';

/** Reads a numeric workload parameter (numbers or size strings such as `4KiB`), with a default. */
export function numParam(params: WorkloadParams, key: string, def: number): number {
  const v = params[key];
  if (v === undefined) return def;
  if (typeof v === 'number' || typeof v === 'string') {
    const n = parseSize(v);
    if (n !== undefined) return n;
  }
  throw new TypeError(`workload ${params.kind}: ${key} must be a number or a size, got ${JSON.stringify(v)}`);
}

export function boolParam(params: WorkloadParams, key: string, def: boolean): boolean {
  const v = params[key];
  if (v === undefined) return def;
  if (typeof v === 'boolean') return v;
  throw new TypeError(`workload ${params.kind}: ${key} must be true or false`);
}

export function strParam(params: WorkloadParams, key: string, def: string): string {
  const v = params[key];
  if (v === undefined) return def;
  if (typeof v === 'string') return v;
  throw new TypeError(`workload ${params.kind}: ${key} must be a string`);
}

/** A workload that could not start (no such device, no driver bound). */
export function notRunnable(kind: string, reason: string): WorkloadResult {
  return { kind, ok: false, bytes: 0, errors: 1, details: { reason } };
}
