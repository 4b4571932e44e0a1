import { KernelLog, PageAllocator, PhysicalMemory, type RamRegion } from '@dmasim/core/standalone';
import { ArmLpaeIoPgtable } from './arm-lpae';
import type { IoPgtableCfg, IoPgtableEnv, IoPgtableFmt } from './types';

/** A recorded TLB callback. */
export type TlbCall =
  | { op: 'all' }
  | { op: 'walk'; iova: number; size: number; granule: number }
  | { op: 'page'; iova: number; granule: number };

export interface TestTables {
  readonly ops: ArmLpaeIoPgtable;
  readonly env: IoPgtableEnv & { memory: PhysicalMemory; pages: PageAllocator; log: KernelLog };
  readonly tlbCalls: TlbCall[];
  /** Free pages in the allocator before the tables were allocated. */
  readonly freeAtStart: number;
  readonly blocksAtStart: number;
}

export const SZ_4K = 4096;
export const SZ_2M = 2 * 1024 * 1024;
export const SZ_1G = 1024 * 1024 * 1024;
export const PGSIZE_4K_2M_1G = SZ_4K + SZ_2M + SZ_1G;

/** Memory, a page allocator and page tables for a test (tables come from 64 MiB at 2 GiB). */
export function makeTables(
  fmt: IoPgtableFmt,
  over: Partial<IoPgtableCfg> = {},
  ram: readonly RamRegion[] = [{ base: 0x8000_0000, size: 64 * 1024 * 1024 }],
): TestTables {
  const env = { memory: new PhysicalMemory(ram), pages: new PageAllocator(ram), log: new KernelLog() };
  const tlbCalls: TlbCall[] = [];
  const cfg: IoPgtableCfg = {
    pgsizeBitmap: PGSIZE_4K_2M_1G,
    ias: 48,
    oas: 48,
    coherentWalk: true,
    tlb: {
      tlbFlushAll: () => void tlbCalls.push({ op: 'all' }),
      tlbFlushWalk: (iova, size, granule) => void tlbCalls.push({ op: 'walk', iova, size, granule }),
      tlbAddPage: (iova, granule) => void tlbCalls.push({ op: 'page', iova, granule }),
    },
    ...over,
  };
  const freeAtStart = env.pages.freePagesTotal;
  const blocksAtStart = env.pages.allocatedBlocks;
  const ops = ArmLpaeIoPgtable.alloc(fmt, cfg, 'cookie', env);
  if (ops === null) throw new Error('test set-up: allocation of the tables failed');
  return { ops, env, tlbCalls, freeAtStart, blocksAtStart };
}
