import { join64 } from '../words';
import * as R from './regs';

/** A command decoded from its two double words (the fields the model acts on). */
export interface DecodedCommand {
  opcode: number;
  sid: number;
  asid: number;
  vmid: number;
  /** TLBI address (bits [63:12] of dword 1), or CMD_SYNC's MSI address. */
  addr: number;
  leaf: boolean;
  /** TLBI range: TG (0: a single address), NUM and SCALE. */
  tg: number;
  num: number;
  scale: number;
  /** CFGI_ALL / CFGI_STE_RANGE: RANGE. */
  range: number;
  /** CMD_SYNC: CS and MSIDATA. */
  cs: number;
  msiData: number;
}

/** Decodes the command in `w` (4 words) into `cmd` (reused, so command processing allocates nothing). */
export function decodeCommand(w: Uint32Array, cmd: DecodedCommand): DecodedCommand {
  const w0 = w[0]!;
  const w1 = w[1]!;
  const w2 = w[2]!;
  const w3 = w[3]!;
  cmd.opcode = w0 & 0xff;
  cmd.sid = w1 >>> 0;
  cmd.vmid = w1 & 0xffff;
  cmd.asid = w1 >>> R.CMDQ_TLBI_0_ASID_HI_SHIFT;
  cmd.num = (w0 >>> R.CMDQ_TLBI_0_NUM_SHIFT) & 0x1f;
  cmd.scale = (w0 >>> R.CMDQ_TLBI_0_SCALE_SHIFT) & 0x1f;
  cmd.leaf = (w2 & R.CMDQ_1_LEAF) !== 0;
  cmd.tg = (w2 >>> R.CMDQ_TLBI_1_TG_SHIFT) & 3;
  cmd.range = w2 & R.CMDQ_CFGI_1_RANGE_MASK;
  cmd.cs = (w0 >>> R.CMDQ_SYNC_0_CS_SHIFT) & 3;
  cmd.msiData = w1 >>> 0;
  if (cmd.opcode === R.CMDQ_OP_CMD_SYNC) {
    // MSIADDR [51:2]
    cmd.addr = join64((w2 >>> 2) << 2, w3 & 0xfffff);
  } else {
    // ADDR [63:12]: the page-aligned address
    cmd.addr = join64((w2 >>> 12) << 12, w3 & 0xfffff);
  }
  return cmd;
}

export function emptyCommand(): DecodedCommand {
  return { opcode: 0, sid: 0, asid: 0, vmid: 0, addr: 0, leaf: false, tg: 0, num: 0, scale: 0, range: 0, cs: 0, msiData: 0 };
}

/** Bytes a TLBI range command covers: (NUM + 1) × 2^SCALE translation granules; 0 for a single address. */
export function tlbiRangeBytes(cmd: DecodedCommand): number {
  if (cmd.tg === 0) return 0;
  return (cmd.num + 1) * POW2[cmd.scale]! * TG_GRANULE[cmd.tg]!;
}

/** Translation granule of a TLBI TG code (1: 4 KiB, 2: 16 KiB, 3: 64 KiB). */
const TG_GRANULE: readonly number[] = [0, 4096, 16384, 65536];
/** 2^n for the 5-bit SCALE field (a table: `**` costs more than the rest of a TLBI decode). */
export const POW2: readonly number[] = Array.from({ length: 64 }, (_, n) => 2 ** n);

/** The kind of pending work a command posts until the next CMD_SYNC. */
export const PEND_CFG_SID = 0;
export const PEND_CFG_ALL = 1;
export const PEND_TLBI_ASID = 2;
export const PEND_TLBI_VA = 3;
export const PEND_TLBI_VAA = 4;
export const PEND_TLBI_NH_ALL = 5;
export const PEND_TLBI_VMID = 6;
export const PEND_TLBI_IPA = 7;
export const PEND_TLBI_ALL = 8;
export const PEND_CFG_RANGE = 9;

/**
 * Invalidations consumed from the command queue but not yet completed by a CMD_SYNC, as parallel
 * arrays: one TLBI per unmapped page must not allocate. `a` is a stream id, ASID or VMID, `addr`
 * an address and `len` the bytes of a range (0: just the address's entries).
 */
export class PendingWork {
  readonly kind: number[] = [];
  readonly a: number[] = [];
  readonly addr: number[] = [];
  readonly len: number[] = [];
  length = 0;

  push(kind: number, a: number, addr: number, len: number): void {
    const n = this.length++;
    this.kind[n] = kind;
    this.a[n] = a;
    this.addr[n] = addr;
    this.len[n] = len;
  }
}
