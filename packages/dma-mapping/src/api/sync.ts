import type { Device } from '@dmasim/bus';
import type { DmaDataDirection } from '../constants';
import type { Scatterlist, SgTable } from '../scatterlist/sg-table';
import { checkDirection, targetOf } from './resolve';
import { dmaArgsInvalid, sgNents } from './args';

/**
 * The four sync calls: ownership of a streaming mapping passes to the CPU (`ForCpu`: after the
 * device wrote, before the CPU reads) or back to the device (`ForDevice`: after the CPU wrote, before
 * the device reads). On a non-coherent device they do the cache maintenance; on a bounced mapping
 * they copy between the buffer and its bounce slot.
 */

export function dmaSyncSingleForCpu(dev: Device, addr: number, size: number, dir: DmaDataDirection): void {
  const t = targetOf(dev);
  checkDirection(t, dir, 'dma_sync_single_for_cpu');
  if (dmaArgsInvalid(t, dev, 'dma_sync_single_for_cpu', { addr, size })) return;
  t.ops.syncSingleForCpu(dev, addr, size, dir);
  t.debug?.syncSingle(dev, addr, size, dir, true);
}

export function dmaSyncSingleForDevice(dev: Device, addr: number, size: number, dir: DmaDataDirection): void {
  const t = targetOf(dev);
  checkDirection(t, dir, 'dma_sync_single_for_device');
  if (dmaArgsInvalid(t, dev, 'dma_sync_single_for_device', { addr, size })) return;
  t.ops.syncSingleForDevice(dev, addr, size, dir);
  t.debug?.syncSingle(dev, addr, size, dir, false);
}

/** dma_sync_sg_for_cpu(): `nelems` is the nents passed to dmaMapSg. */
export function dmaSyncSgForCpu(dev: Device, sgl: Scatterlist[], nelems: number, dir: DmaDataDirection): void {
  const t = targetOf(dev);
  checkDirection(t, dir, 'dma_sync_sg_for_cpu');
  const n = sgNents(t, dev, 'dma_sync_sg_for_cpu', sgl, nelems);
  if (n <= 0) return;
  t.ops.syncSgForCpu(dev, sgl, n, dir);
  t.debug?.syncSg(dev, sgl, n, dir, true);
}

export function dmaSyncSgForDevice(dev: Device, sgl: Scatterlist[], nelems: number, dir: DmaDataDirection): void {
  const t = targetOf(dev);
  checkDirection(t, dir, 'dma_sync_sg_for_device');
  const n = sgNents(t, dev, 'dma_sync_sg_for_device', sgl, nelems);
  if (n <= 0) return;
  t.ops.syncSgForDevice(dev, sgl, n, dir);
  t.debug?.syncSg(dev, sgl, n, dir, false);
}

export function dmaSyncSgtableForCpu(dev: Device, sgt: SgTable, dir: DmaDataDirection): void {
  dmaSyncSgForCpu(dev, sgt.sgl, sgt.origNents, dir);
}

export function dmaSyncSgtableForDevice(dev: Device, sgt: SgTable, dir: DmaDataDirection): void {
  dmaSyncSgForDevice(dev, sgt.sgl, sgt.origNents, dir);
}
