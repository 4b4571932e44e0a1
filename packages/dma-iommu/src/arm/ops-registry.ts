import type { ArmIommuPages } from './buffer';
import type { ArmIommuEnv } from './env';
import type { DmaIommuMapping } from './mapping';
import { ArmIommuOps } from './ops';

/** A machine's two arm IOMMU op sets (iommu_ops, iommu_coherent_ops) and its environment. */
export interface ArmIommuOpsPair {
  readonly env: ArmIommuEnv;
  readonly ops: ArmIommuOps;
  readonly coherentOps: ArmIommuOps;
}

const byEnv = new WeakMap<ArmIommuEnv, ArmIommuOpsPair>();
const byMapping = new WeakMap<DmaIommuMapping, ArmIommuOpsPair>();

/** The op sets of a machine: built once per environment, as the kernel's are static. */
export function armIommuOps(env: ArmIommuEnv): ArmIommuOpsPair {
  let pair = byEnv.get(env);
  if (pair === undefined) {
    const buffers = new Map<number, ArmIommuPages>();
    pair = { env, ops: new ArmIommuOps(env, false, buffers), coherentOps: new ArmIommuOps(env, true, buffers) };
    byEnv.set(env, pair);
  }
  return pair;
}

/** Remembers which machine a mapping belongs to (its ops, log, IOMMU API). */
export function armIommuOpsFor(mapping: DmaIommuMapping, env: ArmIommuEnv): ArmIommuOpsPair {
  const pair = armIommuOps(env);
  byMapping.set(mapping, pair);
  return pair;
}

/** The machine of a mapping made by armIommuCreateMapping. */
export function armIommuOpsOfMapping(mapping: DmaIommuMapping): ArmIommuOpsPair {
  const pair = byMapping.get(mapping);
  if (pair === undefined) throw new Error('dma_iommu_mapping not made by armIommuCreateMapping');
  return pair;
}
