import { KiB, PAGE_SIZE, type CpuCache, type PageAllocator } from '@dmasim/core';

/** DEFAULT_DMA_COHERENT_POOL_SIZE on arm64 in 2015 (and the atomic pool's usual size since). */
export const DEFAULT_DMA_COHERENT_POOL_SIZE = 256 * KiB;

/**
 * The atomic pool: memory set aside at boot, already flushed and mapped uncached, from which
 * allocations that cannot sleep (and so cannot remap pages) are carved for non-coherent devices.
 * Page-granular first fit, as the kernel's gen_pool with a page-order minimum.
 */
export class AtomicPool {
  readonly base: number;
  readonly size: number;
  private readonly used: Uint8Array;
  private readonly lengths = new Map<number, number>();

  private constructor(base: number, size: number) {
    this.base = base;
    this.size = size;
    this.used = new Uint8Array(size / PAGE_SIZE);
  }

  /** atomic_pool_init(): null when the pages cannot be had. */
  static create(pages: PageAllocator, cache: CpuCache, size = DEFAULT_DMA_COHERENT_POOL_SIZE): AtomicPool | null {
    const base = pages.allocPagesExact(size);
    if (base === null) return null;
    // no dirty line may sit over memory the CPU will only reach uncached from now on
    cache.cleanInvalidate(base, size);
    return new AtomicPool(base, size);
  }

  /** __alloc_from_pool(): a page-aligned block, or null. */
  alloc(size: number): number | null {
    const n = Math.ceil(size / PAGE_SIZE);
    let run = 0;
    for (let i = 0; i < this.used.length; i++) {
      run = this.used[i] === 0 ? run + 1 : 0;
      if (run === n) {
        const first = i - n + 1;
        this.used.fill(1, first, i + 1);
        const addr = this.base + first * PAGE_SIZE;
        this.lengths.set(addr, n);
        return addr;
      }
    }
    return null;
  }

  /** __in_atomic_pool(). */
  contains(addr: number, size: number): boolean {
    return addr >= this.base && addr + size <= this.base + this.size;
  }

  /** __free_from_pool(): false when the block is not the pool's. */
  free(addr: number): boolean {
    const n = this.lengths.get(addr);
    if (n === undefined) return false;
    this.lengths.delete(addr);
    const first = (addr - this.base) / PAGE_SIZE;
    this.used.fill(0, first, first + n);
    return true;
  }

  get usedPages(): number {
    let n = 0;
    for (const u of this.used) n += u;
    return n;
  }
}
