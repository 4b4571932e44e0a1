import { alignDown, devPrefix, EINVAL, ETIMEDOUT, type KernelLog, type LogDevice, type MmioBus, type PhysicalMemory } from '@dmasim/core';
import * as R from '../hw/regs';
import { hex32, hex64, hi32, lo32, qConsumed, qIdx, qInc, qSpace } from '../words';
import type { ArmSmmuQueue} from './queue';
import { queueRead, queueWrite } from './queue';
import { CMDQ_BATCH_ENTRIES } from './types';

/** struct arm_smmu_cmdq_ent: one command before it is encoded (reused on hot paths). */
export interface ArmSmmuCmdqEnt {
  opcode: number;
  sid: number;
  ssid: number;
  leaf: boolean;
  asid: number;
  vmid: number;
  /** TLBI address, page aligned. */
  addr: number;
  /** Range invalidation: NUM, SCALE, TTL, TG (0: a single address). */
  num: number;
  scale: number;
  ttl: number;
  tg: number;
  /** CMD_SYNC: MSI address (0: complete by polling CONS). */
  msiaddr: number;
}

export function cmdqEnt(opcode: number, init: Partial<ArmSmmuCmdqEnt> = {}): ArmSmmuCmdqEnt {
  return { opcode, sid: 0, ssid: 0, leaf: false, asid: 0, vmid: 0, addr: 0, num: 0, scale: 0, ttl: 0, tg: 0, msiaddr: 0, ...init };
}

/**
 * arm_smmu_cmdq_build_cmd: encode `ent` into the 4 words at `out[off..off+4)`. -ENOENT for an
 * opcode the driver does not know. Fields go into 32-bit words; addresses are split arithmetically.
 */
export function armSmmuCmdqBuildCmd(out: Uint32Array, off: number, ent: ArmSmmuCmdqEnt): number {
  let w0 = ent.opcode;
  let w1 = 0;
  let w2 = 0;
  let w3 = 0;
  switch (ent.opcode) {
    case R.CMDQ_OP_TLBI_EL2_ALL:
    case R.CMDQ_OP_TLBI_NSNH_ALL:
      break;
    case R.CMDQ_OP_PREFETCH_CFG:
      w1 = ent.sid;
      break;
    case R.CMDQ_OP_CFGI_CD:
      w0 |= ent.ssid << 12;
      w1 = ent.sid;
      if (ent.leaf) w2 |= R.CMDQ_1_LEAF;
      break;
    case R.CMDQ_OP_CFGI_STE:
      w1 = ent.sid;
      if (ent.leaf) w2 |= R.CMDQ_1_LEAF;
      break;
    case R.CMDQ_OP_CFGI_ALL:
      // every stream id
      w2 = 31;
      break;
    case R.CMDQ_OP_TLBI_NH_VA:
    case R.CMDQ_OP_TLBI_S2_IPA: {
      w0 |= (ent.num << R.CMDQ_TLBI_0_NUM_SHIFT) | (ent.scale << R.CMDQ_TLBI_0_SCALE_SHIFT);
      w1 = ent.vmid;
      if (ent.opcode === R.CMDQ_OP_TLBI_NH_VA) w1 |= ent.asid << R.CMDQ_TLBI_0_ASID_HI_SHIFT;
      const page = alignDown(ent.addr, 4096);
      // the address's low 12 bits are zero, so the fields add without carrying into it
      w2 = lo32(page) + (ent.leaf ? R.CMDQ_1_LEAF : 0) + (ent.ttl << R.CMDQ_TLBI_1_TTL_SHIFT) + (ent.tg << R.CMDQ_TLBI_1_TG_SHIFT);
      w3 = hi32(page);
      break;
    }
    case R.CMDQ_OP_TLBI_NH_ASID:
      w1 = (ent.asid << R.CMDQ_TLBI_0_ASID_HI_SHIFT) | ent.vmid;
      break;
    case R.CMDQ_OP_TLBI_S12_VMALL:
      w1 = ent.vmid;
      break;
    case R.CMDQ_OP_CMD_SYNC:
      w0 |= (R.SH_ISH << R.CMDQ_SYNC_0_MSH_SHIFT) | (R.CMDQ_SYNC_0_MSIATTR_OIWB << R.CMDQ_SYNC_0_MSIATTR_SHIFT);
      if (ent.msiaddr !== 0) {
        w0 |= R.CMDQ_SYNC_0_CS_IRQ << R.CMDQ_SYNC_0_CS_SHIFT;
        w2 = lo32(alignDown(ent.msiaddr, 4));
        w3 = hi32(ent.msiaddr);
      } else {
        w0 |= R.CMDQ_SYNC_0_CS_SEV << R.CMDQ_SYNC_0_CS_SHIFT;
      }
      break;
    default:
      return -2;
  }
  out[off] = w0 >>> 0;
  out[off + 1] = w1 >>> 0;
  out[off + 2] = w2 >>> 0;
  out[off + 3] = w3 >>> 0;
  return 0;
}

/** What the command queue needs of its SMMU. */
export interface CmdqEnv {
  readonly mmio: MmioBus;
  readonly memory: PhysicalMemory;
  readonly log: KernelLog;
  readonly dev: LogDevice;
  /** Complete CMD_SYNCs with an MSI write into the queue (ARM_SMMU_OPT_MSIPOLL). */
  readonly msipoll: boolean;
  /**
   * Runs the global error handler while a sync waits: on real hardware the gerror interrupt is taken
   * during the wait and its handler skips the failed command, after which the sync completes.
   */
  readonly handleGerror: () => void;
  readonly gerrorActive: () => boolean;
}

/**
 * The command queue as the driver drives it (arm_smmu_cmdq_issue_cmdlist and the batch helpers):
 * commands are written at the driver's PROD, PROD is published with one register write, and a
 * CMD_SYNC is waited for by reading CONS (or, with MSI polling, the sync entry the SMMU overwrites).
 * One CPU issues at a time, so the lock-free owner protocol of the kernel is not needed.
 */
export class ArmSmmuCmdq {
  private readonly sync = new Uint32Array(4);
  private readonly syncEnt = cmdqEnt(R.CMDQ_OP_CMD_SYNC);
  private readonly one = new Uint32Array(4);
  private syncBuilt = false;

  constructor(
    readonly q: ArmSmmuQueue,
    private readonly env: CmdqEnv,
  ) {}

  /** arm_smmu_cmdq_issue_cmd: one command, no sync. */
  issueCmd(ent: ArmSmmuCmdqEnt): number {
    return this.issueOne(ent, false);
  }

  /** arm_smmu_cmdq_issue_cmd_with_sync. */
  issueCmdWithSync(ent: ArmSmmuCmdqEnt): number {
    return this.issueOne(ent, true);
  }

  private issueOne(ent: ArmSmmuCmdqEnt, sync: boolean): number {
    if (armSmmuCmdqBuildCmd(this.one, 0, ent) !== 0) {
      this.env.log.devWarn(this.env.dev, `ignoring unknown CMDQ opcode 0x${ent.opcode.toString(16)}`);
      return -EINVAL;
    }
    return this.issueCmdlist(this.one, 1, sync);
  }

  /** arm_smmu_cmdq_issue_cmdlist: `n` encoded commands from `cmds`, then optionally a CMD_SYNC waited for. */
  issueCmdlist(cmds: Uint32Array, n: number, sync: boolean): number {
    const { mmio, memory, log, dev } = this.env;
    const q = this.q;
    const llq = q.llq;
    const shift = llq.maxNShift;
    const total = n + (sync ? 1 : 0);
    if (qSpace(llq.prod, llq.cons, shift) < total) {
      llq.cons = this.readCons();
      if (qSpace(llq.prod, llq.cons, shift) < total) {
        log.ratelimited('arm-smmu-v3 cmdq', 'err', `${devPrefix(dev)}CMDQ timeout`);
        return -ETIMEDOUT;
      }
    }
    for (let i = 0; i < n; i++) {
      const at = q.entry(qIdx(llq.prod, shift));
      const o = i * 4;
      memory.writeU32(at, cmds[o]!);
      memory.writeU32(at + 4, cmds[o + 1]!);
      memory.writeU32(at + 8, cmds[o + 2]!);
      memory.writeU32(at + 12, cmds[o + 3]!);
      llq.prod = qInc(llq.prod, shift);
    }
    let syncProd = 0;
    if (sync) {
      syncProd = llq.prod;
      // without MSI polling every CMD_SYNC is the same command, built once
      if (this.env.msipoll || !this.syncBuilt) {
        this.syncEnt.msiaddr = this.env.msipoll ? q.entry(qIdx(syncProd, shift)) : 0;
        armSmmuCmdqBuildCmd(this.sync, 0, this.syncEnt);
        this.syncBuilt = true;
      }
      const at = q.entry(qIdx(syncProd, shift));
      const sw = this.sync;
      memory.writeU32(at, sw[0]!);
      memory.writeU32(at + 4, sw[1]!);
      memory.writeU32(at + 8, sw[2]!);
      memory.writeU32(at + 12, sw[3]!);
      llq.prod = qInc(llq.prod, shift);
    }
    mmio.writel(q.prodReg, llq.prod);
    if (!sync) return 0;
    if (this.syncDone(syncProd)) return 0;
    // the interrupt a real CPU would take while it waits
    if (this.env.gerrorActive()) this.env.handleGerror();
    if (this.syncDone(syncProd)) return 0;
    log.ratelimited(
      'arm-smmu-v3 cmd_sync',
      'err',
      `${devPrefix(dev)}CMD_SYNC timeout at ${hex32(syncProd)} [hwprod ${hex32(mmio.readl(q.prodReg))}, hwcons ${hex32(mmio.readl(q.consReg))}]`,
    );
    return -ETIMEDOUT;
  }

  /** Whether the CMD_SYNC at `syncProd` has completed (MSI polling: its first word was zeroed). */
  private syncDone(syncProd: number): boolean {
    const q = this.q;
    if (this.env.msipoll) {
      if (this.env.memory.readU32(q.entry(qIdx(syncProd, q.llq.maxNShift))) !== 0) return false;
      q.llq.cons = qInc(syncProd, q.llq.maxNShift);
      return true;
    }
    const cons = this.readCons();
    q.llq.cons = cons;
    return qConsumed(cons, syncProd, q.llq.maxNShift);
  }

  /** CONS without its error field. */
  private readCons(): number {
    const v = this.env.mmio.readl(this.q.consReg);
    return (v & ~(R.CMDQ_CONS_ERR_MASK << R.CMDQ_CONS_ERR_SHIFT)) >>> 0;
  }

  /**
   * arm_smmu_cmdq_skip_err: log the CONS error, and for an illegal command print it and overwrite it
   * with a CMD_SYNC so the SMMU can go on once GERRORN acknowledges the error.
   */
  skipErr(): void {
    const { mmio, memory, log, dev } = this.env;
    const q = this.q;
    const cons = mmio.readl(q.consReg) >>> 0;
    const idx = (cons >>> R.CMDQ_CONS_ERR_SHIFT) & R.CMDQ_CONS_ERR_MASK;
    const names = ['No error', 'Illegal command', 'Abort on command fetch', 'ATC invalidate timeout'];
    log.devErr(dev, `CMDQ error (cons ${hex32(cons)}): ${names[idx] ?? 'Unknown'}`);
    if (idx === R.CMDQ_ERR_CERROR_ABT_IDX) {
      log.devErr(dev, 'retrying command fetch');
      return;
    }
    if (idx === R.CMDQ_ERR_CERROR_NONE_IDX || idx === R.CMDQ_ERR_CERROR_ATC_INV_IDX) return;
    const at = q.entry(qIdx(cons, q.llq.maxNShift));
    const cmd = new Uint32Array(4);
    queueRead(memory, at, cmd, 4);
    log.devErr(dev, 'skipping command in error state:');
    log.devErr(dev, `\t${hex64(cmd[0]!, cmd[1]!)}`);
    log.devErr(dev, `\t${hex64(cmd[2]!, cmd[3]!)}`);
    armSmmuCmdqBuildCmd(cmd, 0, cmdqEnt(R.CMDQ_OP_CMD_SYNC));
    queueWrite(memory, at, cmd, 4);
  }
}

/**
 * struct arm_smmu_cmdq_batch: commands gathered and issued together, the last batch with a sync
 * (arm_smmu_cmdq_batch_add / _submit).
 */
export class ArmSmmuCmdqBatch {
  private readonly cmds = new Uint32Array(CMDQ_BATCH_ENTRIES * 4);
  num = 0;

  constructor(private readonly cmdq: ArmSmmuCmdq) {}

  add(ent: ArmSmmuCmdqEnt): void {
    if (this.num === CMDQ_BATCH_ENTRIES) {
      this.cmdq.issueCmdlist(this.cmds, this.num, false);
      this.num = 0;
    }
    armSmmuCmdqBuildCmd(this.cmds, this.num * 4, ent);
    this.num++;
  }

  submit(): number {
    const ret = this.cmdq.issueCmdlist(this.cmds, this.num, true);
    this.num = 0;
    return ret;
  }
}
