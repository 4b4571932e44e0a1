import { ArmLpaeIoPgtable } from './arm-lpae';
import type { IoPgtableCfg, IoPgtableEnv, IoPgtableFmt } from './types';

/**
 * alloc_io_pgtable_ops: page tables of the given format for an IOMMU context, in the machine's
 * memory. `cookie` is handed back to every TLB callback. null when the configuration is not
 * supported or memory for the root table is short.
 */
export function allocIoPgtableOps(fmt: IoPgtableFmt, cfg: IoPgtableCfg, cookie: unknown, env: IoPgtableEnv): ArmLpaeIoPgtable | null {
  return ArmLpaeIoPgtable.alloc(fmt, cfg, cookie, env);
}

/** free_io_pgtable_ops: flushes the context's TLB and frees every table page. */
export function freeIoPgtableOps(ops: ArmLpaeIoPgtable | null): void {
  ops?.free();
}
