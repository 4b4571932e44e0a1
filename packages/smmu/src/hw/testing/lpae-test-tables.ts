import type { PhysicalMemory } from '@dmasim/core/standalone';

/** Access a test mapping grants. */
export interface TestMappingProt {
  readonly read?: boolean;
  readonly write?: boolean;
  /** Stage 1: AP[1], unprivileged access allowed (the default, as Linux maps DMA pages). */
  readonly unprivileged?: boolean;
  /** Stage 1: nG clear, so the leaf matches every ASID. */
  readonly global?: boolean;
  /** Access flag (default set); clear it to provoke an access flag fault. */
  readonly accessFlag?: boolean;
}

export interface TestTablesOptions {
  readonly memory: PhysicalMemory;
  /** Where tables are carved from (bump allocation, 4 KiB each). */
  readonly tableBase: number;
  readonly stage: 1 | 2;
  /** Level of the root table (0 for a 48-bit stage-1 space with 4 KiB pages). */
  readonly startLevel?: number;
  /** Concatenated root tables (stage 2 may start with up to 16). */
  readonly rootTables?: number;
}

const TWO_32 = 0x100000000;
const GRANULE = 4096;

/**
 * A tiny writer of 4 KiB-granule LPAE tables for tests and benchmarks of the SMMU model, so they do
 * not depend on the io-pgtable package. It writes descriptors straight into memory (as a coherent or
 * already-cleaned CPU store would leave them) and never frees tables.
 */
export class LpaeTestTables {
  readonly root: number;
  private next: number;
  private readonly memory: PhysicalMemory;
  readonly stage: 1 | 2;
  readonly startLevel: number;

  constructor(options: TestTablesOptions) {
    this.memory = options.memory;
    this.stage = options.stage;
    this.startLevel = options.startLevel ?? 0;
    this.next = options.tableBase;
    this.root = this.allocTable();
    for (let i = 1; i < (options.rootTables ?? 1); i++) this.allocTable();
  }

  /** Bytes of table memory used so far. */
  get used(): number {
    return this.next - this.root;
  }

  /** Maps [va, va+size) to pa with one leaf; size is 4 KiB (page), 2 MiB or 1 GiB (block). */
  map(va: number, pa: number, size: number, prot: TestMappingProt = { read: true, write: true }): void {
    const leafLevel = size === GRANULE ? 3 : size === 2 * 1024 * 1024 ? 2 : size === 1024 * 1024 * 1024 ? 1 : -1;
    if (leafLevel < 0) throw new RangeError(`LpaeTestTables: unsupported leaf size ${size}`);
    const table = this.tableFor(va, leafLevel);
    this.writeDesc(table + this.index(va, leafLevel) * 8, pa, this.leafAttrs(leafLevel, prot), 0);
  }

  /** Clears the leaf mapping va (no TLB maintenance: that is the driver's job). */
  unmap(va: number, size = GRANULE): void {
    const leafLevel = size === GRANULE ? 3 : size === 2 * 1024 * 1024 ? 2 : 1;
    const table = this.tableFor(va, leafLevel);
    this.writeDesc(table + this.index(va, leafLevel) * 8, 0, 0, 0);
  }

  private index(va: number, level: number): number {
    const idx = Math.floor(va / 2 ** (12 + 9 * (3 - level)));
    return level === this.startLevel ? idx : idx % 512;
  }

  /** Walks (creating tables) down to the table holding the level-`leafLevel` entry for va. */
  private tableFor(va: number, leafLevel: number): number {
    let table = this.root;
    for (let level = this.startLevel; level < leafLevel; level++) {
      const addr = table + this.index(va, level) * 8;
      const lo = this.memory.readU32(addr);
      const hi = this.memory.readU32(addr + 4);
      if ((lo & 3) === 3) {
        table = ((lo >>> 12) << 12 >>> 0) + (hi & 0xffff) * TWO_32;
        continue;
      }
      const t = this.allocTable();
      this.writeDesc(addr, t, 3, 0);
      table = t;
    }
    return table;
  }

  private leafAttrs(level: number, prot: TestMappingProt): number {
    let a = level === 3 ? 3 : 1;
    if (prot.accessFlag !== false) a |= 0x400;
    if (this.stage === 1) {
      a |= 0x300; // inner shareable
      if (prot.global !== true) a |= 0x800; // nG
      if (prot.unprivileged !== false) a |= 0x40; // AP[1]
      if (prot.write !== true) a |= 0x80; // AP[2]: read-only
    } else {
      a |= 0xf << 2; // MemAttr: normal write-back
      a |= 0x300;
      if (prot.read !== false) a |= 0x40;
      if (prot.write === true) a |= 0x80;
    }
    return a;
  }

  private writeDesc(addr: number, outAddr: number, loAttrs: number, hiAttrs: number): void {
    const hi = Math.floor(outAddr / TWO_32);
    const lo = outAddr - hi * TWO_32;
    this.memory.writeU32(addr, (lo + loAttrs) >>> 0);
    this.memory.writeU32(addr + 4, (hi + hiAttrs) >>> 0);
  }

  private allocTable(): number {
    const t = this.next;
    this.next += GRANULE;
    this.memory.fill(t, GRANULE, 0);
    return t;
  }
}
