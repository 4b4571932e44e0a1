import type { Device } from '@dmasim/bus';
import type { DmaDataDirection } from '../constants';
import type { Scatterlist, SgTable } from '../scatterlist/sg-table';
import { checkDirection, targetOf } from './resolve';

/**
 * The four sync calls: ownership of a streaming mapping passes to the CPU (`ForCpu`: after the
 * device wrote, before the CPU reads) or back to the device (`ForDevice`: after the CPU wrote, before
 * the device reads). On a non-coherent device they do the cache maintenance; on a bounced mapping
 * they copy between the buffer and its bounce slot.
 */

export function dmaSyncSingleForCpu(dev: Device, addr: number, size: number, dir: DmaDataDirection): void {
  const t = targetOf(dev);
  checkDirection(t, dir, 'dma_sync_single_for_cpu');
  t.ops.syncSingleForCpu(dev, addr, size, dir);
  t.debug?.syncSingle(dev, addr, size, dir, true);
}

export function dmaSyncSingleForDevice(dev: Device, addr: number, size: number, dir: DmaDataDirection): void {
  const t = targetOf(dev);
  checkDirection(t, dir, 'dma_sync_single_for_device');
  t.ops.syncSingleForDevice(dev, addr, size, dir);
  t.debug?.syncSingle(dev, addr, size, dir, false);
}

/** dma_sync_sg_for_cpu(): `nelems` is the nents passed to dmaMapSg. */
export function dmaSyncSgForCpu(dev: Device, sgl: Scatterlist[], nelems: number, dir: DmaDataDirection): void {
  const t = targetOf(dev);
  checkDirection(t, dir, 'dma_sync_sg_for_cpu');
  t.ops.syncSgForCpu(dev, sgl, nelems, dir);
  t.debug?.syncSg(dev, sgl, nelems, dir, true);
}

export function dmaSyncSgForDevice(dev: Device, sgl: Scatterlist[], nelems: number, dir: DmaDataDirection): void {
  const t = targetOf(dev);
  checkDirection(t, dir, 'dma_sync_sg_for_device');
  t.ops.syncSgForDevice(dev, sgl, nelems, dir);
  t.debug?.syncSg(dev, sgl, nelems, dir, false);
}

export function dmaSyncSgtableForCpu(dev: Device, sgt: SgTable, dir: DmaDataDirection): void {
  dmaSyncSgForCpu(dev, sgt.sgl, sgt.origNents, dir);
}

export function dmaSyncSgtableForDevice(dev: Device, sgt: SgTable, dir: DmaDataDirection): void {
  dmaSyncSgForDevice(dev, sgt.sgl, sgt.origNents, dir);
}
