import { PAGE_SIZE, TiB, type CpuCache, type CpuMapping, type MemAccess } from '@dmasim/core';

/** Start of the window remapped buffers get when their pages are not contiguous (the vmalloc area). */
export const VMALLOC_START = 512 * TiB;

/** A block of pages from the page allocator: what must be freed, and how. */
export interface PageChunk {
  readonly phys: number;
  readonly order: number;
}

/** A CPU remap of an iommu-dma allocation (struct vm_struct with its pages). */
export interface VmArea {
  /** The CPU address handed out. */
  readonly addr: number;
  readonly size: number;
  /** Page addresses in buffer order. */
  readonly pages: readonly number[];
  /** The blocks to give back to the page allocator. */
  readonly chunks: readonly PageChunk[];
  /** Whether the pages are physically contiguous (then `addr` is also their linear-map address). */
  readonly contiguous: boolean;
}

/**
 * The CPU side of dma_common_pages_remap(): gives an allocation made of scattered pages one
 * virtually contiguous CPU address. dmasim's CPU addresses are physical (the linear map), so pages
 * that happen to be contiguous keep their linear address and drivers use it directly; otherwise the
 * buffer gets an address in a window above RAM, reached through `cpuWrite` / `cpuRead` here.
 */
export class DmaRemapArea {
  private readonly areas = new Map<number, VmArea>();
  private next = VMALLOC_START;

  constructor(private readonly cache: CpuCache) {}

  remap(pages: readonly number[], chunks: readonly PageChunk[], size: number): VmArea {
    let contiguous = true;
    for (let i = 1; i < pages.length; i++) if (pages[i] !== pages[0]! + i * PAGE_SIZE) contiguous = false;
    let addr: number;
    if (contiguous) addr = pages[0]!;
    else {
      addr = this.next;
      // a guard page between areas, as vmalloc leaves
      this.next += (pages.length + 1) * PAGE_SIZE;
    }
    const area: VmArea = { addr, size, pages, chunks, contiguous };
    this.areas.set(addr, area);
    return area;
  }

  /** find_vm_area(). */
  find(addr: number): VmArea | undefined {
    return this.areas.get(addr);
  }

  /** dma_common_free_remap(). */
  unmap(addr: number): VmArea | undefined {
    const a = this.areas.get(addr);
    if (a !== undefined) this.areas.delete(addr);
    return a;
  }

  /** The physical address behind a CPU address of a remapped area (vmalloc_to_phys), or -1. */
  toPhys(addr: number): number {
    if (addr < VMALLOC_START) return addr;
    for (const a of this.areas.values()) {
      if (a.contiguous || addr < a.addr || addr >= a.addr + a.pages.length * PAGE_SIZE) continue;
      const off = addr - a.addr;
      return a.pages[Math.floor(off / PAGE_SIZE)]! + (off % PAGE_SIZE);
    }
    return -1;
  }

  /** CPU write through a remapped address (page by page), or a linear one. */
  cpuWrite(addr: number, src: Uint8Array, mapping: CpuMapping): MemAccess {
    return this.walk(addr, src.length, (phys, from, len) => this.cache.cpuWrite(phys, src.subarray(from, from + len), mapping));
  }

  cpuRead(addr: number, dst: Uint8Array, mapping: CpuMapping): MemAccess {
    return this.walk(addr, dst.length, (phys, from, len) => this.cache.cpuRead(phys, dst.subarray(from, from + len), mapping));
  }

  private walk(addr: number, len: number, fn: (phys: number, from: number, len: number) => MemAccess): MemAccess {
    let done = 0;
    while (done < len) {
      const va = addr + done;
      const phys = this.toPhys(va);
      if (phys < 0) return { ok: false, fault: 'bus-error', addr: va };
      const n = Math.min(len - done, PAGE_SIZE - (va % PAGE_SIZE));
      const r = fn(phys, done, n);
      if (!r.ok) return r;
      done += n;
    }
    return { ok: true };
  }
}
