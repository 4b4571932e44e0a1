/**
 * The printk conversions the driver's messages use, for a 32-bit ARM kernel (RK3288): `%pad` and
 * `%pa` print dma_addr_t / phys_addr_t as 0x and 8 hex digits; `%#0Nx` is C's alternate form
 * (0x prefix counted in the width, no prefix for zero).
 */
export function pad(addr: number): string {
  return `0x${addr.toString(16).padStart(8, '0')}`;
}

export function altHex(v: number, width: number): string {
  if (v === 0) return '0'.padStart(width, '0');
  return `0x${v.toString(16).padStart(width - 2, '0')}`;
}
