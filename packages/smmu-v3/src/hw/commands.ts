import { join64 } from '../words';
import * as R from './regs';

/** The page address of a TLBI command: ADDR, bits [63:12] of dword 1 (two words). */
export function tlbiAddr(w2: number, w3: number): number {
  return join64((w2 >>> 12) << 12, w3 & 0xfffff);
}

/**
 * Bytes a TLBI range command covers: (NUM + 1) × 2^SCALE translation granules of its TG; 0 when
 * TG is 0 (the command names a single address).
 */
export function tlbiRangeBytes(w0: number, w2: number): number {
  const tg = (w2 >>> R.CMDQ_TLBI_1_TG_SHIFT) & 3;
  if (tg === 0) return 0;
  const num = (w0 >>> R.CMDQ_TLBI_0_NUM_SHIFT) & 0x1f;
  const scale = (w0 >>> R.CMDQ_TLBI_0_SCALE_SHIFT) & 0x1f;
  return (num + 1) * POW2[scale]! * TG_GRANULE[tg]!;
}

/** Translation granule of a TLBI TG code (1: 4 KiB, 2: 16 KiB, 3: 64 KiB). */
const TG_GRANULE: readonly number[] = [0, 4096, 16384, 65536];
/** 2^n for the 5-bit SCALE field and shifts (a table: `**` costs more than the rest of a TLBI decode). */
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
