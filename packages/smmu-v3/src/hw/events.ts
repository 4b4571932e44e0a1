import { hi32, lo32 } from '../words';
import * as R from './regs';

/** The kernel's names of SMMUv3 event ids (the `F_`/`C_` names of the architecture). */
export const EVENT_NAMES: Readonly<Record<number, string>> = {
  [R.EVT_ID_UUT]: 'F_UUT',
  [R.EVT_ID_BAD_STREAMID]: 'C_BAD_STREAMID',
  [R.EVT_ID_STE_FETCH]: 'F_STE_FETCH',
  [R.EVT_ID_BAD_STE]: 'C_BAD_STE',
  [R.EVT_ID_STREAM_DISABLED]: 'F_STREAM_DISABLED',
  [R.EVT_ID_BAD_SUBSTREAMID]: 'C_BAD_SUBSTREAMID',
  [R.EVT_ID_CD_FETCH]: 'F_CD_FETCH',
  [R.EVT_ID_BAD_CD]: 'C_BAD_CD',
  [R.EVT_ID_WALK_EABT]: 'F_WALK_EABT',
  [R.EVT_ID_TRANSLATION_FAULT]: 'F_TRANSLATION',
  [R.EVT_ID_ADDR_SIZE_FAULT]: 'F_ADDR_SIZE',
  [R.EVT_ID_ACCESS_FAULT]: 'F_ACCESS',
  [R.EVT_ID_PERMISSION_FAULT]: 'F_PERMISSION',
};

/** What one event record says (the fields an event of this model fills in). */
export interface EventFields {
  readonly id: number;
  readonly sid: number;
  /** Input address (translation-stage faults). */
  readonly addr?: number;
  /** IPA (stage-2 faults) or the fetch address (F_STE_FETCH, F_CD_FETCH), bits [51:3]. */
  readonly addr2?: number;
  readonly read?: boolean;
  readonly stage2?: boolean;
  readonly cls?: number;
}

/**
 * Fills `out` (8 words, 4 double words low word first) with the record of an event, laid out as
 * the architecture's event queue entry: ID and SID in dword 0, RnW/S2/CLASS in dword 1, the input
 * address in dword 2 and the IPA or fetch address in dword 3.
 */
export function encodeEvent(e: EventFields, out: Uint32Array): Uint32Array {
  out.fill(0);
  out[0] = e.id;
  out[1] = e.sid >>> 0;
  let w3 = 0;
  if (e.read === true) w3 |= R.EVTQ_1_RNW_HI;
  if (e.stage2 === true) w3 |= R.EVTQ_1_S2_HI;
  if (e.cls !== undefined) w3 |= e.cls << R.EVTQ_1_CLASS_HI_SHIFT;
  out[3] = w3 >>> 0;
  if (e.addr !== undefined) {
    out[4] = lo32(e.addr);
    out[5] = hi32(e.addr);
  }
  if (e.addr2 !== undefined) {
    const a = Math.floor(e.addr2 / 8) * 8;
    out[6] = lo32(a);
    out[7] = hi32(a);
  }
  return out;
}
