/**
 * The kernel's early memory decisions for a board: where ZONE_DMA and ZONE_DMA32 end, and whether
 * (and how big) the default swiotlb pool is, per arch and profile, as the arch's zone_sizes_init and
 * mem_init make them. The swiotlb package does the pool itself; this only decides its inputs.
 */
import { GiB, PAGE_SIZE, alignDown, ilog2 } from '@dmasim/core';
import type { Board } from '../board/schema';

/** PHYS_ADDR_MAX, as far as a safe integer reaches. */
export const PHYS_ADDR_MAX = Number.MAX_SAFE_INTEGER;

export interface ZoneLimits {
  /** End (exclusive) of ZONE_DMA; undefined: no ZONE_DMA. */
  readonly dmaZoneEnd?: number;
  /** End (exclusive) of ZONE_DMA32; undefined: 4 GiB. */
  readonly dma32ZoneEnd?: number;
}

export interface SwiotlbPlan {
  readonly size: number;
  /** swiotlb_adjust_size() from the arch, or undefined. */
  readonly adjustSize?: number;
  /** num_possible_cpus() for swiotlb_adjust_nareas, or undefined (kernels without areas). */
  readonly nareas?: number;
}

const ramStart = (b: Board): number => Math.min(...b.memory.map((m) => m.base));
const ramEnd = (b: Board): number => Math.max(...b.memory.map((m) => m.base + m.size));
const ramBytes = (b: Board): number => b.memory.reduce((n, m) => n + m.size, 0);

/**
 * of_dma_get_max_cpu_address(NULL): of every bus with dma-ranges, the highest CPU address its
 * ranges reach; the lowest of those over the tree, or PHYS_ADDR_MAX when no bus limits DMA.
 */
export function ofDmaGetMaxCpuAddress(board: Board): number {
  let max = PHYS_ADDR_MAX;
  for (const bus of board.buses) {
    if (bus.dmaRanges === undefined || bus.dmaRanges.length === 0) continue;
    const cpuEnd = Math.max(...bus.dmaRanges.map((r) => r.cpu + r.size - 1));
    max = Math.min(max, cpuEnd);
  }
  return max;
}

/** fls64(): the number of bits needed for x (0 for 0). */
const fls64 = (x: number): number => (x <= 0 ? 0 : ilog2(x) + 1);

/**
 * max_zone_phys() (arch/arm64/mm/init.c): the end of a zone of `bits` address bits; RAM starting
 * above 4 GiB takes all of it, RAM starting above the zone's mask is capped at 4 GiB instead.
 */
export function maxZonePhys(board: Board, bits: number): number {
  let zoneLimit = 2 ** bits - 1;
  const start = ramStart(board);
  if (start > 2 ** 32 - 1) zoneLimit = PHYS_ADDR_MAX;
  else if (start > zoneLimit) zoneLimit = 2 ** 32 - 1;
  return Math.min(zoneLimit, ramEnd(board) - 1) + 1;
}

/**
 * The arm64 limit of ZONE_DMA (arm64_dma_phys_limit). 6.x zone_sizes_init: zone_dma_bits is the
 * smaller of 32 and fls64(of_dma_get_max_cpu_address(NULL)). 4.2's max_zone_dma_phys: the first
 * 4 GiB of the 4 GiB-aligned window RAM starts in, capped at the end of RAM.
 */
export function arm64DmaPhysLimit(board: Board): number {
  if (board.kernel.profile === 'linux-4.2') {
    const offset = alignDown(ramStart(board), 2 ** 32);
    return Math.min(offset + 2 ** 32, ramEnd(board));
  }
  const bits = Math.min(32, fls64(ofDmaGetMaxCpuAddress(board)));
  return maxZonePhys(board, bits);
}

/** Where the board's zones end: `kernel.dmaZone` overrides; arm64 derives them; other arches have none. */
export function zoneLimits(board: Board): ZoneLimits {
  const k = board.kernel;
  if (k.dmaZone !== undefined) return { dmaZoneEnd: k.dmaZone };
  if (k.arch !== 'arm64') return {};
  const dmaZoneEnd = arm64DmaPhysLimit(board);
  const dma32 = maxZonePhys(board, 32);
  // max_zone_phys(32) is at least ZONE_DMA's end here; the page allocator wants DMA32 to start there
  return { dmaZoneEnd, dma32ZoneEnd: Math.max(dma32, dmaZoneEnd) };
}

/**
 * The default swiotlb pool, or null when the kernel would make none:
 * - arm64 mem_init (6.x): a pool only when RAM lies above ZONE_DMA (max_pfn >
 *   PFN_DOWN(arm64_dma_phys_limit)) or swiotlb=force; otherwise, with DMA_BOUNCE_UNALIGNED_KMALLOC
 *   (6.5+, `swiotlb.kmallocBounce`), a small pool of 1 MB per GB of RAM (mem_init, later
 *   arch_mm_preinit); 6.1-6.4 none at all. 4.2 always made the pool (swiotlb_init(1)).
 * - 32-bit arm: no swiotlb under 4.2; 6.x (LPAE) only when RAM lies above arm_dma_pfn_limit.
 * - generic: the board's pool as given.
 * Areas follow the CPU count under 6.x (swiotlb areas appeared in 6.0). The pool goes below the end
 * of ZONE_DMA (the swiotlb default), as memblock_alloc_low places it.
 */
export function swiotlbPlan(board: Board, zones: ZoneLimits): SwiotlbPlan | null {
  const k = board.kernel;
  const t = k.swiotlb;
  if (t.size <= 0) return null;
  const modern = k.profile === 'linux-6.x';
  const areas = modern ? { nareas: board.cpus } : {};
  const maxPfn = Math.floor(ramEnd(board) / PAGE_SIZE);
  if (k.arch === 'arm64') {
    if (!modern) return { size: t.size };
    const limit = zones.dmaZoneEnd ?? 4 * GiB;
    if (t.force || maxPfn > Math.floor(limit / PAGE_SIZE)) return { size: t.size, ...areas };
    if (!t.kmallocBounce) return null;
    return { size: t.size, adjustSize: Math.min(t.size, Math.ceil(ramBytes(board) / 1024)), ...areas };
  }
  if (k.arch === 'arm') {
    if (!modern) return null;
    const limit = zones.dmaZoneEnd ?? 4 * GiB;
    if (t.force || maxPfn > Math.floor(limit / PAGE_SIZE)) return { size: t.size, ...areas };
    return null;
  }
  return { size: t.size, ...areas };
}

/** CONFIG_DMA_BOUNCE_UNALIGNED_KMALLOC: arm64 from 6.5 (`swiotlb.kmallocBounce`), nowhere else. */
export function kmallocBounceOf(board: Board): boolean {
  return board.kernel.arch === 'arm64' && board.kernel.profile === 'linux-6.x' && board.kernel.swiotlb.kmallocBounce;
}
