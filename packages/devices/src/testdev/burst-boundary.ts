import type { DmaPort, DmaPortResult } from '@dmasim/core';
import type { DeviceHardware, HardwareContext } from '../model';
import { DmaEngineHw } from './dma-engine-hw';

/**
 * The memcpy engine's burst limit: like many real DMA engines (IDE PRDs, some USB and SD hosts), one
 * transfer cannot cross a 64 KiB boundary of the device's address space. A transfer that would is
 * refused with a bus error at the first address past the boundary; its driver must tell the DMA layer
 * (dma_set_seg_boundary) so that no mapped segment it is given ever crosses one.
 */
export const DMA_ENGINE_BOUNDARY = 64 * 1024;

/** Whether [addr, addr+len) crosses a multiple of `boundary` (a power of two). */
export function crossesBoundary(addr: number, len: number, boundary: number): boolean {
  return len > 0 && Math.floor(addr / boundary) !== Math.floor((addr + len - 1) / boundary);
}

/** The engine's side of its DMA port: bursts that cross the boundary never reach the bus. */
export class BoundaryCheckedPort implements DmaPort {
  constructor(
    private readonly inner: DmaPort,
    private readonly boundary: number,
  ) {}

  read(addr: number, dst: Uint8Array): DmaPortResult {
    return this.refuse(addr, dst.length) ?? this.inner.read(addr, dst);
  }

  write(addr: number, src: Uint8Array): DmaPortResult {
    return this.refuse(addr, src.length) ?? this.inner.write(addr, src);
  }

  private refuse(addr: number, len: number): DmaPortResult | null {
    if (!crossesBoundary(addr, len, this.boundary)) return null;
    return { ok: false, fault: 'bus-error', addr: (Math.floor(addr / this.boundary) + 1) * this.boundary };
  }
}

/** The DMA-engine hardware with its burst limit in front of the port the board gave it. */
export function createDmaEngineHardware(ctx: HardwareContext, pci?: { vendor: number; device: number; classCode: number }): DeviceHardware {
  return new DmaEngineHw({ ...ctx, dmaPort: new BoundaryCheckedPort(ctx.dmaPort, DMA_ENGINE_BOUNDARY) }, pci);
}
