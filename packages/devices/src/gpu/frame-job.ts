import { putU32, putU64 } from '../common/port-io';

/**
 * The segment list both GPU models read (the v3d job's buffer list, the HVS display list): 16-byte
 * entries of a 64-bit bus address and a 32-bit length, in frame order.
 */
export const SEG_ENTRY_SIZE = 16;

export function encodeSegments(segs: readonly { addr: number; len: number }[]): Uint8Array {
  const out = new Uint8Array(segs.length * SEG_ENTRY_SIZE);
  segs.forEach((s, i) => {
    putU64(out, i * SEG_ENTRY_SIZE, s.addr);
    putU32(out, i * SEG_ENTRY_SIZE + 8, s.len);
  });
  return out;
}
