import type { MmioBus } from '@dmasim/core';

const TWO_32 = 0x100000000;

/**
 * The driver's window onto one SMMU's register file: every access is a 32-bit MMIO load or store
 * on the machine's bus, as arm_smmu_gr0_read/arm_smmu_cb_write and friends are. The page layout
 * (register page size, pages per half) is only known once ID1 has been read, so it starts as the
 * architectural minimum and `setLayout` fixes it during the configuration probe.
 */
export class SmmuRegs {
  /** log2 of the register page size (12 or 16, from ID1.PAGESIZE). */
  pgshift = 12;
  /** Pages in each half of the register space (SMMU_NUMPAGE); context bank n is page numpage + n. */
  numpage = 1;
  /**
   * Bytes of one register page, the address of GR1 and of context bank 0, worked out when the layout
   * changes: the TLB maintenance path touches context registers once per page it invalidates.
   */
  private pageSize = 4096;
  private gr1Base: number;
  private cb0Base: number;

  constructor(
    private readonly mmio: MmioBus,
    /** Physical address of the register file (the node's first `reg` entry). */
    readonly base: number,
    /** Bytes the firmware says the register file spans. */
    readonly size: number,
  ) {
    this.gr1Base = base + this.pageSize;
    this.cb0Base = base + this.numpage * this.pageSize;
  }

  setLayout(pgshift: number, numpage: number): void {
    this.pgshift = pgshift;
    this.numpage = numpage;
    this.pageSize = 2 ** pgshift;
    this.gr1Base = this.base + this.pageSize;
    this.cb0Base = this.base + numpage * this.pageSize;
  }

  gr0Read(off: number): number {
    return this.mmio.readl(this.base + off);
  }

  gr0Write(off: number, v: number): void {
    this.mmio.writel(this.base + off, v >>> 0);
  }

  gr1Read(off: number): number {
    return this.mmio.readl(this.gr1Base + off);
  }

  gr1Write(off: number, v: number): void {
    this.mmio.writel(this.gr1Base + off, v >>> 0);
  }

  private cbBase(n: number): number {
    return this.cb0Base + n * this.pageSize;
  }

  cbRead(n: number, off: number): number {
    return this.mmio.readl(this.cbBase(n) + off);
  }

  cbWrite(n: number, off: number, v: number): void {
    this.mmio.writel(this.cbBase(n) + off, v >>> 0);
  }

  /** A 64-bit context register read as two words (FAR, TTBR, PAR). */
  cbReadq(n: number, off: number): number {
    const base = this.cbBase(n) + off;
    return this.mmio.readl(base) + this.mmio.readl(base + 4) * TWO_32;
  }

  /**
   * A 64-bit context register written as two 32-bit stores, high word first (Linux's hi-lo
   * accessors): the TLB invalidation registers act on the low-word store, and values with an ASID
   * in bits 63:48 do not fit a JavaScript number.
   */
  cbWriteqHiLo(n: number, off: number, hi: number, lo: number): void {
    const base = this.cbBase(n) + off;
    this.mmio.writel(base + 4, hi >>> 0);
    this.mmio.writel(base, lo >>> 0);
  }

  /** A 64-bit address-valued register (TTBR) whose value is a safe integer. */
  cbWriteq(n: number, off: number, value: number): void {
    const hi = Math.floor(value / TWO_32);
    this.cbWriteqHiLo(n, off, hi, value - hi * TWO_32);
  }
}
