/**
 * The bounce copy itself: the kernel's memcpy between the original buffer and the bounce slot.
 *
 * Both are ordinary kernel memory, so the CPU does the copy and reads and writes the way the CPU
 * does. In the model:
 * - the original buffer is read as the CPU sees it (lines the CPU holds, dirty or stale, win over
 *   memory) and written as a CPU store (held lines are updated, keeping their dirty state);
 * - the bounce slot is read as the CPU sees it and written through to memory (held lines updated).
 *
 * Neither side allocates cache lines: the copy streams (a 64 MiB pool would otherwise flush the
 * whole modelled cache on every big mapping). The bounce slot's bytes are therefore in memory right
 * after a copy towards the device, which is where the kernel puts them too: for a non-coherent
 * device dma-direct cleans the slot right after swiotlb copied into it, and a coherent device snoops
 * the CPU's caches anyway. In the other direction, for a non-coherent device dma-direct invalidates
 * the slot before swiotlb copies out of it, so the CPU reads what the device wrote; if that
 * invalidate were missing and the CPU held stale lines of the slot, the copy would return those
 * stale bytes, as the hardware would. Whether the device is coherent is dma-direct's business
 * (cache maintenance of the slot), not swiotlb's: swiotlb's copies are the same for both.
 *
 * When the cache holds no line of either range the copy is one memory-to-memory move.
 */
import type { CpuCache, MemAccess, PhysicalMemory } from '@dmasim/core/standalone';

export class BounceCopier {
  constructor(
    private readonly memory: PhysicalMemory,
    private readonly cache: CpuCache | null,
  ) {}

  /**
   * Copies `size` bytes from src to dst: original → bounce slot on map and sync for device, bounce
   * slot → original on unmap and sync for CPU. One small function so the engine inlines it into the
   * bounce path.
   */
  copy(dst: number, src: number, size: number): MemAccess {
    const cache = this.cache;
    if (cache === null || (!cache.holdsLines(src, size) && !cache.holdsLines(dst, size))) {
      return this.memory.copy(dst, src, size);
    }
    return this.copyThroughCache(dst, src, size);
  }

  private copyThroughCache(dst: number, src: number, size: number): MemAccess {
    const cache = this.cache!;
    const tmp = new Uint8Array(size);
    const r = cache.cpuReadNoAllocate(src, tmp);
    if (!r.ok) return r;
    return cache.cpuWriteNoAllocate(dst, tmp);
  }
}
