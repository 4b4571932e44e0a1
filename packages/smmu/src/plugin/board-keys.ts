import type { IommuBoardKey, IommuDevicetreeNode, IommuKeyProblem } from '@dmasim/iommu-core';
import { resolveSmmuParams, type SmmuModel } from '../hw/params';

/** The board compatibles of the SMMUv1/v2 family and the hardware preset each one selects. */
export const SMMU_MODELS: Readonly<Record<string, SmmuModel>> = {
  'arm,mmu-400': 'mmu-400',
  'arm,mmu-401': 'mmu-401',
  'arm,mmu-500': 'mmu-500',
  'arm,smmu-v1': 'smmu-v1',
  'arm,smmu-v2': 'smmu-v2',
};

/**
 * Context-bank and stream-match limits: the SMMUv1/v2 ID registers encode up to 128 of each (NUMCB,
 * NUMSMRG are 8-bit fields capped at 128 by the architecture); the MMU-400 and MMU-401 are small
 * stage-2 designs offered with up to 8 banks.
 */
const LIMITS: Readonly<Record<SmmuModel, { readonly maxContextBanks: number; readonly maxStreamMatchRegisters: number }>> = {
  'mmu-400': { maxContextBanks: 8, maxStreamMatchRegisters: 128 },
  'mmu-401': { maxContextBanks: 8, maxStreamMatchRegisters: 128 },
  'mmu-500': { maxContextBanks: 128, maxStreamMatchRegisters: 128 },
  'smmu-v1': { maxContextBanks: 128, maxStreamMatchRegisters: 128 },
  'smmu-v2': { maxContextBanks: 128, maxStreamMatchRegisters: 128 },
};

/** The `iommus[]` keys of an SMMU board entry, checked. */
export interface SmmuBoardKeys {
  readonly contextBanks: number;
  readonly streamMatchRegisters: number;
  readonly coherentWalk: boolean;
  readonly disableBypass: boolean;
}

export const SMMU_BOARD_KEYS: readonly IommuBoardKey[] = [
  {
    key: 'contextBanks',
    description: 'SMMU: number of context banks (SMMU_IDR1.NUMCB): how many translation contexts, and so DMA domains in use, it holds at once',
    example: 4,
    schema: { type: 'integer', minimum: 1, maximum: 128 },
    required: true,
  },
  {
    key: 'streamMatchRegisters',
    description: 'SMMU: number of stream match registers (SMMU_IDR0.NUMSMRG): how many stream ids it can match',
    example: 32,
    schema: { type: 'integer', minimum: 1, maximum: 128 },
    required: true,
  },
  { key: 'coherentWalk', description: 'SMMU: dma-coherent on the SMMU node: its table walks snoop the CPU caches (default true)', example: true, schema: { type: 'boolean', default: true } },
  { key: 'disableBypass', description: 'SMMU: arm-smmu.disable_bypass: unmatched streams fault instead of bypassing (default: the profile\'s, false for linux-4.2, true for linux-6.x)', example: true, schema: { type: 'boolean', default: false } },
];

/** Every problem with an SMMU entry's own keys. */
export function checkSmmuKeys(compatible: string, keys: Readonly<Record<string, unknown>>): IommuKeyProblem[] {
  const problems: IommuKeyProblem[] = [];
  const known = new Set(SMMU_BOARD_KEYS.map((k) => k.key));
  for (const k of Object.keys(keys)) {
    if (!known.has(k)) problems.push({ key: k, message: `unknown key for a ${compatible}; expected one of ${[...known].join(', ')}` });
  }
  const model = SMMU_MODELS[compatible];
  const limits = model === undefined ? undefined : LIMITS[model];
  const count = (key: 'contextBanks' | 'streamMatchRegisters', max: number | undefined, what: string): void => {
    const v = keys[key];
    if (v === undefined) problems.push({ key, message: `required for a ${compatible}: the number of ${what}` });
    else if (typeof v !== 'number' || !Number.isInteger(v)) problems.push({ key, message: 'expected an integer', found: JSON.stringify(v) });
    else if (max !== undefined && (v < 1 || v > max)) problems.push({ key, message: `a ${compatible} can have 1 to ${max} ${what}`, found: String(v) });
  };
  count('contextBanks', limits?.maxContextBanks, 'context banks');
  count('streamMatchRegisters', limits?.maxStreamMatchRegisters, 'stream match registers');
  for (const key of ['coherentWalk', 'disableBypass'] as const) {
    if (keys[key] !== undefined && typeof keys[key] !== 'boolean') problems.push({ key, message: 'expected true or false', found: JSON.stringify(keys[key]) });
  }
  return problems;
}

/**
 * An SMMU a device tree describes: the tree has no ID registers, so the counts are the model
 * preset's (MMU-401: Juno's PCIe SMMU, 4 banks and 32 SMRs), as many banks as the register window
 * holds at most; `dma-coherent` on the node is the table-walk coherence.
 */
export function smmuDevicetreeKeys(node: IommuDevicetreeNode): Record<string, unknown> {
  const model = SMMU_MODELS[node.compatible];
  if (model === undefined) return {};
  const preset = resolveSmmuParams({ model });
  // two halves of the window, one 4 KiB page per context bank in the upper one
  const fit = Math.max(1, Math.floor(node.regSize / (2 * preset.registerPageSize)));
  return { contextBanks: Math.min(preset.numContextBanks, fit), streamMatchRegisters: preset.numStreamMatchRegisters, coherentWalk: node.dmaCoherent };
}

/** The keys of an entry `checkSmmuKeys` accepted, with their defaults. */
export function smmuKeys(keys: Readonly<Record<string, unknown>>): SmmuBoardKeys {
  return {
    contextBanks: keys.contextBanks as number,
    streamMatchRegisters: keys.streamMatchRegisters as number,
    coherentWalk: (keys.coherentWalk as boolean | undefined) ?? true,
    disableBypass: (keys.disableBypass as boolean | undefined) ?? false,
  };
}

/**
 * Each stream id a master emits takes one stream match register when its group attaches; past the
 * last free one arm_smmu_master_alloc_smes() fails with -ENOSPC and the master gets no translation.
 */
export function smmuStreamWarnings(keys: Readonly<Record<string, unknown>>, name: string, ids: readonly number[]): IommuKeyProblem[] {
  const smrs = smmuKeys(keys).streamMatchRegisters;
  if (ids.length <= smrs) return [];
  return [{ key: 'streamMatchRegisters', message: `${ids.length} stream ids reach ${name} but it has ${smrs} stream match registers; masters past the last free one fail to attach (-ENOSPC)` }];
}
