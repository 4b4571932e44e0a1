/**
 * Register-level helpers for tests and benchmarks of the SMMUv3 model without the driver: a linear
 * stream table, STEs and CDs written straight into memory, queues programmed through MMIO, and
 * commands pushed onto the command queue.
 */
import { createCoreServices, MiB, type CoreServices } from '@dmasim/core';
import { LpaeTestTables } from '@dmasim/smmu/hw';
import { hi32, lo32, qIdx, qInc } from '../../words';
import * as R from '../regs';
import { SmmuV3Hardware, type SmmuV3HardwareOptions } from '../smmu-v3';

export const RIG_BASE = 0x9050000;
const STRTAB = 0x100000;
const CMDQ = 0x200000;
const EVTQ = 0x210000;
const CDS = 0x220000;
const TABLES = 0x400000;

export interface V3HwRig {
  readonly core: CoreServices;
  readonly hw: SmmuV3Hardware;
  readonly tables: LpaeTestTables;
  /** Stream ids the linear table covers: 2^log2size. */
  readonly log2size: number;
  /** Writes an STE for `sid`: abort, bypass, or stage 1 through the CD of `asid` (TTB0 = the test tables). */
  ste(sid: number, kind: 'abort' | 'bypass' | 's1' | 'invalid', asid?: number): void;
  /** Pushes commands (4 words each) and moves CMDQ_PROD past them. */
  commands(...cmds: (readonly number[])[]): void;
  /** The event records in the event queue from index `from`, as 8 words each. */
  events(from?: number): number[][];
  writel(off: number, v: number): void;
  readl(off: number): number;
}

const SHIFT = 8;

/** An enabled SMMUv3 (queues of 256 entries, linear stream table of 2^log2size STEs, all invalid). */
export function makeV3HwRig(options: Partial<SmmuV3HardwareOptions> & { log2size?: number } = {}): V3HwRig {
  const core = createCoreServices({ memory: [{ base: 0, size: 256 * MiB }] });
  const hw = new SmmuV3Hardware({ ...options, memory: core.memory, irqs: { eventq: core.irqs.line(106), gerror: core.irqs.line(109) } });
  hw.mapInto(core.mmio, RIG_BASE);
  const tables = new LpaeTestTables({ memory: core.memory, tableBase: TABLES, stage: 1 });
  const log2size = options.log2size ?? 6;
  const writel = (off: number, v: number): void => core.mmio.writel(RIG_BASE + off, v >>> 0);
  const readl = (off: number): number => core.mmio.readl(RIG_BASE + off) >>> 0;
  writel(R.STRTAB_BASE, STRTAB);
  writel(R.STRTAB_BASE_CFG, log2size);
  writel(R.CMDQ_BASE, CMDQ + SHIFT);
  writel(R.EVTQ_BASE, EVTQ + SHIFT);
  writel(R.IRQ_CTRL, R.IRQ_CTRL_EVTQ_IRQEN | R.IRQ_CTRL_GERROR_IRQEN);
  writel(R.CR0, R.CR0_SMMUEN | R.CR0_CMDQEN | R.CR0_EVTQEN);
  let prod = 0;
  const w = (addr: number, words: readonly number[]): void => words.forEach((v, i) => core.memory.writeU32(addr + i * 4, v >>> 0));
  return {
    core, hw, tables, log2size, writel, readl,
    ste(sid, kind, asid = 1) {
      const at = STRTAB + sid * R.STRTAB_STE_SIZE;
      if (kind === 'invalid') return w(at, [0, 0]);
      if (kind !== 's1') return w(at, [R.STE_0_V | ((kind === 'bypass' ? R.STE_0_CFG_BYPASS : R.STE_0_CFG_ABORT) << R.STE_0_CFG_SHIFT), 0]);
      const cd = CDS + asid * R.CD_SIZE;
      // 48-bit input (T0SZ 16), 4 KiB granule, IPS 44 bits, record and abort faults
      w(cd, [(16 | R.CD_0_V) >>> 0, (4 | R.CD_0_AA64_HI | R.CD_0_R_HI | R.CD_0_A_HI | (asid << R.CD_0_ASID_HI_SHIFT)) >>> 0, lo32(tables.root), hi32(tables.root)]);
      w(at + 8, [0, 0]);
      w(at, [cd + (R.STE_0_CFG_S1_TRANS << R.STE_0_CFG_SHIFT) + R.STE_0_V, 0]);
    },
    commands(...cmds) {
      for (const c of cmds) {
        w(CMDQ + qIdx(prod, SHIFT) * R.CMDQ_ENT_SIZE, [c[0] ?? 0, c[1] ?? 0, c[2] ?? 0, c[3] ?? 0]);
        prod = qInc(prod, SHIFT);
      }
      writel(R.CMDQ_PROD, prod);
    },
    events(from = 0) {
      const out: number[][] = [];
      const n = qIdx(readl(R.EVTQ_PROD), SHIFT);
      for (let i = from; i < n; i++) out.push(Array.from({ length: 8 }, (_, k) => core.memory.readU32(EVTQ + i * R.EVTQ_ENT_SIZE + k * 4)));
      return out;
    },
  };
}

/** Command words: CFGI_STE(sid), TLBI_NH_VA(asid, addr), TLBI_NH_ASID(asid), CMD_SYNC. */
export const cmd = {
  cfgiSte: (sid: number): number[] => [R.CMDQ_OP_CFGI_STE, sid, R.CMDQ_1_LEAF, 0],
  tlbiNhVa: (asid: number, addr: number): number[] => [R.CMDQ_OP_TLBI_NH_VA, (asid << 16) >>> 0, lo32(addr) + R.CMDQ_1_LEAF, hi32(addr)],
  tlbiNhAsid: (asid: number): number[] => [R.CMDQ_OP_TLBI_NH_ASID, (asid << 16) >>> 0, 0, 0],
  sync: (): number[] => [R.CMDQ_OP_CMD_SYNC | (R.CMDQ_SYNC_0_CS_SEV << R.CMDQ_SYNC_0_CS_SHIFT), 0, 0, 0],
};
