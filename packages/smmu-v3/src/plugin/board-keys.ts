import type { IommuBoardKey, IommuKeyProblem } from '@dmasim/iommu-core';
import { IDR5_OAS_BITS } from '../hw/regs';

/** The `iommus[]` keys of an SMMUv3 board entry, checked, with their defaults (QEMU virt's SMMUv3). */
export interface SmmuV3BoardKeys {
  readonly streamIdBits: number;
  readonly stage1: boolean;
  readonly stage2: boolean;
  readonly twoLevelStreamTable: boolean;
  readonly oasBits: number;
  readonly coherentWalk: boolean;
  readonly disableBypass: boolean;
}

export const SMMUV3_BOARD_KEYS: readonly IommuBoardKey[] = [
  { key: 'streamIdBits', description: 'SMMUv3: stream id bits (SMMU_IDR1.SIDSIZE, default 16)', example: 16, schema: { type: 'integer', minimum: 1, maximum: 32, default: 16 } },
  { key: 'stage1', description: 'SMMUv3: stage-1 translation (SMMU_IDR0.S1P, default true)', example: true, schema: { type: 'boolean', default: true } },
  { key: 'stage2', description: 'SMMUv3: stage-2 translation (SMMU_IDR0.S2P, default false as on QEMU virt)', example: false, schema: { type: 'boolean', default: false } },
  { key: 'twoLevelStreamTable', description: 'SMMUv3: a 2-level stream table is offered (SMMU_IDR0.ST_LVL, default true); else the driver uses a linear one', example: true, schema: { type: 'boolean', default: true } },
  { key: 'oasBits', description: 'SMMUv3: output address bits (SMMU_IDR5.OAS, default 44)', example: 44, schema: { type: 'integer', enum: [...IDR5_OAS_BITS], default: 44 } },
  { key: 'coherentWalk', description: 'SMMUv3: dma-coherent on the SMMU node and IDR0.COHACC (default true)', example: true, schema: { type: 'boolean', default: true } },
  { key: 'disableBypass', description: 'SMMUv3: arm-smmu-v3.disable_bypass: streams without a domain abort (default true, as the kernel)', example: true, schema: { type: 'boolean', default: true } },
];

const BOOLEAN_KEYS = ['stage1', 'stage2', 'twoLevelStreamTable', 'coherentWalk', 'disableBypass'] as const;

/** Every problem with an SMMUv3 entry's own keys. */
export function checkSmmuV3Keys(compatible: string, keys: Readonly<Record<string, unknown>>): IommuKeyProblem[] {
  const problems: IommuKeyProblem[] = [];
  const known = new Set(SMMUV3_BOARD_KEYS.map((k) => k.key));
  for (const k of Object.keys(keys)) {
    if (!known.has(k)) problems.push({ key: k, message: `unknown key for a ${compatible}; expected one of ${[...known].join(', ')}` });
  }
  const sid = keys.streamIdBits;
  if (sid !== undefined && (typeof sid !== 'number' || !Number.isInteger(sid) || sid < 1 || sid > 32)) {
    problems.push({ key: 'streamIdBits', message: 'expected an integer from 1 to 32', found: JSON.stringify(sid) });
  }
  const oas = keys.oasBits;
  if (oas !== undefined && (typeof oas !== 'number' || !IDR5_OAS_BITS.includes(oas))) {
    problems.push({ key: 'oasBits', message: `expected one of ${IDR5_OAS_BITS.join(', ')}`, found: JSON.stringify(oas) });
  }
  for (const key of BOOLEAN_KEYS) {
    if (keys[key] !== undefined && typeof keys[key] !== 'boolean') problems.push({ key, message: 'expected true or false', found: JSON.stringify(keys[key]) });
  }
  if (keys.stage1 === false && keys.stage2 !== true) problems.push({ key: 'stage1', message: 'an SMMUv3 needs stage 1 or stage 2: set stage2: true to turn stage 1 off', found: 'false' });
  return problems;
}

/** The keys of an entry `checkSmmuV3Keys` accepted, with their defaults. */
export function smmuV3Keys(keys: Readonly<Record<string, unknown>>): SmmuV3BoardKeys {
  const bool = (k: string, d: boolean): boolean => (keys[k] as boolean | undefined) ?? d;
  return {
    streamIdBits: (keys.streamIdBits as number | undefined) ?? 16,
    stage1: bool('stage1', true),
    stage2: bool('stage2', false),
    twoLevelStreamTable: bool('twoLevelStreamTable', true),
    oasBits: (keys.oasBits as number | undefined) ?? 44,
    coherentWalk: bool('coherentWalk', true),
    disableBypass: bool('disableBypass', true),
  };
}
