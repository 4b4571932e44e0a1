import { ENOMEM, GFP_KERNEL, ilog2, PAGE_SIZE, type KernelLog, type LogDevice, type PageAllocator, type PhysicalMemory } from '@dmasim/core';
import * as R from '../hw/regs';
import { hi32, lo32 } from '../words';
import { ARM_SMMU_FEAT_2_LVL_STRTAB, STRTAB_L1_SZ_SHIFT } from './types';

/** struct arm_smmu_strtab_l1_desc: one level-1 entry and the level-2 table it points to. */
export interface ArmSmmuStrtabL1Desc {
  span: number;
  /** Physical address of the level-2 table, or null until a master needs it. */
  l2ptr: number | null;
}

/** struct arm_smmu_strtab_cfg. */
export interface ArmSmmuStrtabCfg {
  /** Physical address of the (level-1 or linear) table. */
  strtab: number;
  numL1Ents: number;
  /** Level-1 descriptors of a 2-level table; null for a linear one. */
  l1Desc: ArmSmmuStrtabL1Desc[] | null;
  /** STRTAB_BASE (two words) and STRTAB_BASE_CFG as written at reset. */
  baseLo: number;
  baseHi: number;
  baseCfg: number;
}

export interface StrtabEnv {
  readonly log: KernelLog;
  readonly dev: LogDevice;
  readonly pages: PageAllocator;
  readonly memory: PhysicalMemory;
}

/** dmam_alloc_coherent: zeroed, naturally aligned pages; null when none are left. */
export function allocCoherent(env: StrtabEnv, size: number): number | null {
  const order = Math.max(0, Math.ceil(Math.log2(Math.max(size, PAGE_SIZE))) - ilog2(PAGE_SIZE));
  const base = env.pages.allocPages(order, GFP_KERNEL);
  if (base === null) return null;
  env.memory.fill(base, PAGE_SIZE * 2 ** order, 0);
  return base;
}

/** The words of an STE that aborts (or bypasses) every transaction: arm_smmu_write_strtab_ent with no domain. */
export function steAbortOrBypass(bypass: boolean, out: Uint32Array): Uint32Array {
  out.fill(0);
  out[0] = R.STE_0_V | ((bypass ? R.STE_0_CFG_BYPASS : R.STE_0_CFG_ABORT) << R.STE_0_CFG_SHIFT);
  out[3] = R.STE_1_SHCFG_INCOMING << R.STE_1_SHCFG_HI_SHIFT;
  return out;
}

/** arm_smmu_init_bypass_stes: fill `n` STEs at `addr` with abort (disable_bypass) or bypass entries. */
export function armSmmuInitBypassStes(memory: PhysicalMemory, addr: number, n: number, bypass: boolean): void {
  const ste = steAbortOrBypass(bypass, new Uint32Array(16));
  for (let i = 0; i < n; i++) {
    for (let w = 0; w < 16; w++) memory.writeU32(addr + i * R.STRTAB_STE_SIZE + w * 4, ste[w]!);
  }
}

/** arm_smmu_write_strtab_l1_desc: SPAN and L2PTR of one level-1 entry. */
function writeL1Desc(memory: PhysicalMemory, addr: number, desc: ArmSmmuStrtabL1Desc): void {
  const l2 = desc.l2ptr ?? 0;
  // the pointer is 64-byte aligned, so SPAN adds into its low bits without carrying
  memory.writeU32(addr, lo32(l2) + desc.span);
  memory.writeU32(addr + 4, hi32(l2));
}

/**
 * arm_smmu_init_strtab (linear or 2-level): allocate the table, fill a linear one with abort/bypass
 * STEs, and build STRTAB_BASE / STRTAB_BASE_CFG. Level-2 tables come later, per master.
 */
export function armSmmuInitStrtab(env: StrtabEnv, features: number, sidBits: number, bypass: boolean): ArmSmmuStrtabCfg | number {
  if ((features & ARM_SMMU_FEAT_2_LVL_STRTAB) !== 0) {
    // arm_smmu_init_strtab_2lvl: at most 1 MiB of level-1 descriptors, 2^8 STEs per level-2 table
    let size = STRTAB_L1_SZ_SHIFT - 3;
    size = Math.min(size, sidBits - R.STRTAB_SPLIT);
    const numL1Ents = 2 ** size;
    size += R.STRTAB_SPLIT;
    if (size < sidBits) env.log.devWarn(env.dev, `2-level strtab only covers ${size}/${sidBits} bits of SID`);
    const l1size = numL1Ents * R.STRTAB_L1_DESC_SIZE;
    const strtab = allocCoherent(env, l1size);
    if (strtab === null) {
      env.log.devErr(env.dev, `failed to allocate l1 stream table (${l1size} bytes)`);
      return -ENOMEM;
    }
    const l1Desc: ArmSmmuStrtabL1Desc[] = [];
    for (let i = 0; i < numL1Ents; i++) {
      l1Desc.push({ span: 0, l2ptr: null });
      writeL1Desc(env.memory, strtab + i * R.STRTAB_L1_DESC_SIZE, l1Desc[i]!);
    }
    const baseCfg = (R.STRTAB_BASE_CFG_FMT_2LVL << R.STRTAB_BASE_CFG_FMT_SHIFT) | (R.STRTAB_SPLIT << R.STRTAB_BASE_CFG_SPLIT_SHIFT) | size;
    return { strtab, numL1Ents, l1Desc, baseLo: lo32(strtab), baseHi: hi32(strtab) + R.STRTAB_BASE_RA_HI, baseCfg };
  }
  const numL1Ents = 2 ** sidBits;
  const size = numL1Ents * R.STRTAB_STE_SIZE;
  const strtab = allocCoherent(env, size);
  if (strtab === null) {
    env.log.devErr(env.dev, `failed to allocate linear stream table (${size} bytes)`);
    return -ENOMEM;
  }
  armSmmuInitBypassStes(env.memory, strtab, numL1Ents, bypass);
  const baseCfg = (R.STRTAB_BASE_CFG_FMT_LINEAR << R.STRTAB_BASE_CFG_FMT_SHIFT) | sidBits;
  return { strtab, numL1Ents, l1Desc: null, baseLo: lo32(strtab), baseHi: hi32(strtab) + R.STRTAB_BASE_RA_HI, baseCfg };
}

/** arm_smmu_sid_in_range. */
export function armSmmuSidInRange(cfg: ArmSmmuStrtabCfg, sid: number): boolean {
  const limit = cfg.l1Desc !== null ? cfg.numL1Ents * 2 ** R.STRTAB_SPLIT : cfg.numL1Ents;
  return sid < limit;
}

/**
 * arm_smmu_init_l2_strtab: give the level-1 entry covering `sid` its level-2 table (2^8 abort or
 * bypass STEs), then point the descriptor at it.
 */
export function armSmmuInitL2Strtab(env: StrtabEnv, cfg: ArmSmmuStrtabCfg, sid: number, bypass: boolean): number {
  if (cfg.l1Desc === null) return 0;
  const i = Math.floor(sid / 2 ** R.STRTAB_SPLIT);
  const desc = cfg.l1Desc[i]!;
  if (desc.l2ptr !== null) return 0;
  const size = 2 ** R.STRTAB_SPLIT * R.STRTAB_STE_SIZE;
  const l2 = allocCoherent(env, size);
  if (l2 === null) {
    env.log.devErr(env.dev, `failed to allocate l2 stream table for SID ${sid}`);
    return -ENOMEM;
  }
  desc.l2ptr = l2;
  desc.span = R.STRTAB_SPLIT + 1;
  armSmmuInitBypassStes(env.memory, l2, 2 ** R.STRTAB_SPLIT, bypass);
  writeL1Desc(env.memory, cfg.strtab + i * R.STRTAB_L1_DESC_SIZE, desc);
  return 0;
}

/** arm_smmu_get_step_for_sid: the address of the STE of `sid` (its level-2 table must exist). */
export function armSmmuGetStepForSid(cfg: ArmSmmuStrtabCfg, sid: number): number {
  if (cfg.l1Desc === null) return cfg.strtab + sid * R.STRTAB_STE_SIZE;
  const span = 2 ** R.STRTAB_SPLIT;
  const desc = cfg.l1Desc[Math.floor(sid / span)]!;
  return (desc.l2ptr ?? 0) + (sid - Math.floor(sid / span) * span) * R.STRTAB_STE_SIZE;
}
