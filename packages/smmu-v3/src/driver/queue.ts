import { ENOMEM, GFP_KERNEL, ilog2, type KernelLog, type LogDevice, type MmioBus, type PageAllocator, type PhysicalMemory, PAGE_SIZE } from '@dmasim/core';
import * as R from '../hw/regs';
import { hi32, lo32 } from '../words';

/** struct arm_smmu_ll_queue: the driver's copy of a queue's pointers and its size. */
export interface ArmSmmuLlQueue {
  prod: number;
  cons: number;
  maxNShift: number;
}

/**
 * struct arm_smmu_queue: one queue in coherent memory (command, event) and the MMIO addresses of its
 * PROD and CONS registers.
 */
export class ArmSmmuQueue {
  readonly llq: ArmSmmuLlQueue;
  /** Physical (= DMA, the SMMU is not behind an IOMMU) address of the entries. */
  base = 0;
  /** The value of the queue's Q_BASE register, as two words. */
  qBaseLo = 0;
  qBaseHi = 0;

  constructor(
    readonly name: string,
    /** Bytes of one entry (16 for commands, 32 for events). */
    readonly entSize: number,
    readonly prodReg: number,
    readonly consReg: number,
    maxNShift: number,
  ) {
    this.llq = { prod: 0, cons: 0, maxNShift };
  }

  /** Address of entry `idx`. */
  entry(idx: number): number {
    return this.base + idx * this.entSize;
  }
}

/** What allocating coherent queue memory needs. */
export interface QueueAllocEnv {
  readonly log: KernelLog;
  readonly dev: LogDevice;
  readonly pages: PageAllocator;
  readonly memory: PhysicalMemory;
}

/**
 * arm_smmu_init_one_queue: allocate the entries (halving the queue while the allocation fails and
 * is at least a page), log `allocated %u entries for %s`, and build Q_BASE (RWA, address, LOG2SIZE).
 */
export function armSmmuInitOneQueue(env: QueueAllocEnv, q: ArmSmmuQueue): number {
  let order: number;
  let base: number | null = null;
  for (;;) {
    const qsz = 2 ** q.llq.maxNShift * q.entSize;
    order = Math.max(0, ilog2(qsz) - ilog2(PAGE_SIZE));
    base = env.pages.allocPages(order, GFP_KERNEL);
    if (base !== null || qsz < PAGE_SIZE || q.llq.maxNShift === 0) break;
    q.llq.maxNShift--;
  }
  if (base === null) {
    env.log.devErr(env.dev, `failed to allocate queue (0x${(2 ** q.llq.maxNShift * q.entSize).toString(16)} bytes) for ${q.name}`);
    return -ENOMEM;
  }
  // dma_alloc_coherent hands back zeroed memory
  env.memory.fill(base, PAGE_SIZE * 2 ** order, 0);
  q.base = base;
  env.log.devInfo(env.dev, `allocated ${2 ** q.llq.maxNShift} entries for ${q.name}`);
  // the base is page aligned, so adding the fields to its words cannot carry into the address
  q.qBaseLo = lo32(base) + q.llq.maxNShift;
  q.qBaseHi = hi32(base) + R.Q_BASE_RWA_HI;
  q.llq.prod = 0;
  q.llq.cons = 0;
  return 0;
}

/** queue_write: entry words to memory (the SMMU reads them coherently). */
export function queueWrite(memory: PhysicalMemory, addr: number, words: Uint32Array, n: number, off = 0): void {
  for (let i = 0; i < n; i++) memory.writeU32(addr + i * 4, words[off + i]!);
}

/** queue_read. */
export function queueRead(memory: PhysicalMemory, addr: number, out: Uint32Array, n: number): void {
  for (let i = 0; i < n; i++) out[i] = Math.max(0, memory.readU32(addr + i * 4));
}

/** A 64-bit register written as two 32-bit stores, low word first (writeq split by the interconnect). */
export function writeq(mmio: MmioBus, addr: number, lo: number, hi: number): void {
  mmio.writel(addr, lo >>> 0);
  mmio.writel(addr + 4, hi >>> 0);
}
