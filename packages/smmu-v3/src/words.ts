/**
 * 64-bit values as two 32-bit words, and the producer/consumer pointers of SMMUv3 queues. Shared by
 * the hardware model and the driver because both follow the architecture's formats; addresses stay
 * safe integers and are split with arithmetic, never with bitwise operators.
 */

export const TWO_32 = 0x100000000;

/** Low word of a non-negative safe integer. */
export function lo32(v: number): number {
  return v - Math.floor(v / TWO_32) * TWO_32;
}

/** High word of a non-negative safe integer. */
export function hi32(v: number): number {
  return Math.floor(v / TWO_32);
}

/** A double word from its halves (the high half below 2^21, so the result is a safe integer). */
export function join64(lo: number, hi: number): number {
  return hi * TWO_32 + (lo >>> 0);
}

/** `0x%016llx` of a double word given as halves (the kernel prints queue entries this way). */
export function hex64(lo: number, hi: number): string {
  return `0x${(hi >>> 0).toString(16).padStart(8, '0')}${(lo >>> 0).toString(16).padStart(8, '0')}`;
}

/** `0x%08x`. */
export function hex32(v: number): string {
  return `0x${(v >>> 0).toString(16).padStart(8, '0')}`;
}

// ---- Queue pointers: index in bits [shift-1:0], wrap bit `shift`, overflow flag bit 31 ----------
// (32-bit register values with shift at most 19, so bitwise operators are exact here)

/** Q_IDX. */
export function qIdx(p: number, shift: number): number {
  return p & ((1 << shift) - 1);
}

/** Q_WRP. */
export function qWrp(p: number, shift: number): number {
  return p & (1 << shift);
}

/** Q_OVF. */
export function qOvf(p: number): number {
  return p & 0x80000000;
}

/** The pointer after `p` (index and wrap advance together; the overflow flag is kept). */
export function qInc(p: number, shift: number): number {
  const next = ((p & ((2 << shift) - 1)) + 1) & ((2 << shift) - 1);
  return (qOvf(p) | next) >>> 0;
}

/** queue_full: same index, different wrap. */
export function qFull(prod: number, cons: number, shift: number): boolean {
  return qIdx(prod, shift) === qIdx(cons, shift) && qWrp(prod, shift) !== qWrp(cons, shift);
}

/** queue_empty: same index and wrap. */
export function qEmpty(prod: number, cons: number, shift: number): boolean {
  return qIdx(prod, shift) === qIdx(cons, shift) && qWrp(prod, shift) === qWrp(cons, shift);
}

/** Free entries between cons and prod (queue_has_space's count). */
export function qSpace(prod: number, cons: number, shift: number): number {
  const size = 1 << shift;
  const used = qWrp(prod, shift) === qWrp(cons, shift) ? qIdx(prod, shift) - qIdx(cons, shift) : size - qIdx(cons, shift) + qIdx(prod, shift);
  return size - used;
}

/** queue_consumed: whether the entry at `prod` has been consumed once cons reads `cons`. */
export function qConsumed(cons: number, prod: number, shift: number): boolean {
  return (
    (qWrp(cons, shift) === qWrp(prod, shift) && qIdx(cons, shift) > qIdx(prod, shift)) ||
    (qWrp(cons, shift) !== qWrp(prod, shift) && qIdx(cons, shift) <= qIdx(prod, shift))
  );
}
