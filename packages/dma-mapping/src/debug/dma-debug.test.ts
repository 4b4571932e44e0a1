import { describe, expect, it } from 'vitest';
import { dmaAllocCoherent, dmaFreeCoherent } from '../api/coherent';
import { dmaMapPage, dmaMapSg, dmaMapSingle, dmaMappingError, dmaUnmapPage, dmaUnmapSg, dmaUnmapSingle } from '../api/mapping';
import { dmaSyncSgForCpu, dmaSyncSingleForCpu, dmaSyncSingleForDevice } from '../api/sync';
import { DMA_BIDIRECTIONAL, DMA_FROM_DEVICE, DMA_MAPPING_ERROR, DMA_TO_DEVICE } from '../constants';
import { SgTable, sgAllocTableFromPages } from '../scatterlist/sg-table';
import { makeDevice, makeMachine, type TestMachine } from '../testing/fixtures';
import type { DmaDebugOptions } from './dma-debug';
import type { DmaDebugErrorClass } from './messages';

const BUF = 0x0010_0000;

function setup(options: DmaDebugOptions = {}): { m: TestMachine; dev: ReturnType<typeof makeDevice> } {
  const m = makeMachine({ dmaDebug: { allErrors: true, ...options } });
  const dev = makeDevice(m, 'sata0', { driver: 'ahci', coherent: true });
  return { m, dev };
}

/** Maps and checks the result, as a correct driver does. */
function mapChecked(dev: ReturnType<typeof makeDevice>, addr: number, size: number, dir = DMA_TO_DEVICE): number {
  const dma = dmaMapSingle(dev, addr, size, dir);
  expect(dmaMappingError(dev, dma)).toBe(0);
  return dma;
}

function only(m: TestMachine, cls: DmaDebugErrorClass, message: string): void {
  const dbg = m.ctx.debug!;
  expect(dbg.findings.map((f) => f.errorClass)).toEqual([cls]);
  expect(dbg.findings[0]!.message).toBe(message);
  expect(m.core.log.lines.map((l) => l.text)).toContain(`DMA-API: ahci sata0: ${message}`);
}

describe('dma-debug: unmap and free checks', () => {
  it('correct use reports nothing and leaves no entries', () => {
    const { m, dev } = setup();
    const dma = mapChecked(dev, BUF, 4096);
    dmaUnmapSingle(dev, dma, 4096, DMA_TO_DEVICE);
    expect(m.ctx.debug!.errorCount).toBe(0);
    expect(m.ctx.debug!.activeCount).toBe(0);
    expect(m.core.log.warnCount).toBe(0);
  });

  it('unmapping what was never mapped', () => {
    const { m, dev } = setup();
    dmaUnmapSingle(dev, 0x5000, 256, DMA_TO_DEVICE);
    only(m, 'freeNotAllocated', 'device driver tries to free DMA memory it has not allocated [device address=0x0000000000005000] [size=256 bytes]');
  });

  it('double unmap warns (and the run goes on)', () => {
    const { m, dev } = setup();
    const dma = mapChecked(dev, BUF, 512);
    dmaUnmapSingle(dev, dma, 512, DMA_TO_DEVICE);
    dmaUnmapSingle(dev, dma, 512, DMA_TO_DEVICE);
    only(m, 'freeNotAllocated', 'device driver tries to free DMA memory it has not allocated [device address=0x0000000000100000] [size=512 bytes]');
  });

  it('unmapping the error address', () => {
    const { m, dev } = setup();
    dmaUnmapSingle(dev, DMA_MAPPING_ERROR, 512, DMA_TO_DEVICE);
    only(m, 'freeInvalid', 'device driver tries to free an invalid DMA memory address');
  });

  it('wrong size', () => {
    const { m, dev } = setup();
    const dma = mapChecked(dev, BUF, 4096);
    dmaUnmapSingle(dev, dma, 2048, DMA_TO_DEVICE);
    only(m, 'sizeMismatch', 'device driver frees DMA memory with different size [device address=0x0000000000100000] [map size=4096 bytes] [unmap size=2048 bytes]');
  });

  it('wrong direction', () => {
    const { m, dev } = setup();
    const dma = mapChecked(dev, BUF, 4096, DMA_FROM_DEVICE);
    dmaUnmapSingle(dev, dma, 4096, DMA_TO_DEVICE);
    only(m, 'directionMismatch', 'device driver frees DMA memory with different direction [device address=0x0000000000100000] [size=4096 bytes] [mapped with DMA_FROM_DEVICE] [unmapped with DMA_TO_DEVICE]');
  });

  it('wrong function: single vs page (older kernels record dma_map_page as "page")', () => {
    const { m, dev } = setup({ pageType: true });
    const dma = mapChecked(dev, BUF, 4096);
    dmaUnmapPage(dev, dma, 4096, DMA_TO_DEVICE);
    only(m, 'typeMismatch', 'device driver frees DMA memory with wrong function [device address=0x0000000000100000] [size=4096 bytes] [mapped as single] [unmapped as page]');
  });

  it('single and page are the same type in later kernels', () => {
    const { m, dev } = setup();
    const dma = dmaMapPage(dev, BUF, 0, 4096, DMA_TO_DEVICE);
    dmaMappingError(dev, dma);
    dmaUnmapSingle(dev, dma, 4096, DMA_TO_DEVICE);
    expect(m.ctx.debug!.errorCount).toBe(0);
  });

  it('wrong function: coherent memory unmapped as single', () => {
    const { m, dev } = setup();
    const buf = dmaAllocCoherent(dev, 4096)!;
    dmaUnmapSingle(dev, buf.dmaHandle, 4096, DMA_BIDIRECTIONAL);
    expect(m.ctx.debug!.findings.map((f) => f.errorClass)).toEqual(['typeMismatch']);
    expect(m.ctx.debug!.findings[0]!.message).toMatch(/\[mapped as coherent\] \[unmapped as single\]$/);
  });

  it('wrong function: sg unmapped as single', () => {
    const { m, dev } = setup();
    const sgt = new SgTable();
    sgAllocTableFromPages(sgt, [BUF], 0, 4096);
    expect(dmaMapSg(dev, sgt.sgl, 1, DMA_TO_DEVICE)).toBe(1);
    dmaUnmapSingle(dev, sgt.sgl[0]!.dmaAddress, 4096, DMA_TO_DEVICE);
    only(m, 'typeMismatch', 'device driver frees DMA memory with wrong function [device address=0x0000000000100000] [size=4096 bytes] [mapped as scatter-gather] [unmapped as single]');
  });

  it('freeing coherent memory with a different CPU address', () => {
    const { m, dev } = setup();
    const buf = dmaAllocCoherent(dev, 4096)!;
    dmaFreeCoherent(dev, 4096, buf.cpuAddr + 4096, buf.dmaHandle);
    const h = buf.dmaHandle.toString(16).padStart(16, '0');
    const c1 = buf.cpuAddr.toString(16).padStart(16, '0');
    const c2 = (buf.cpuAddr + 4096).toString(16).padStart(16, '0');
    only(m, 'cpuAddressMismatch', `device driver frees DMA memory with different CPU address [device address=0x${h}] [size=4096 bytes] [cpu alloc address=0x${c1}] [cpu free address=0x${c2}]`);
  });

  it('sg list unmapped with a different entry count', () => {
    const { m, dev } = setup();
    const sgt = new SgTable();
    sgAllocTableFromPages(sgt, [BUF, BUF + 0x10000, BUF + 0x20000], 0, 3 * 4096);
    expect(dmaMapSg(dev, sgt.sgl, 3, DMA_TO_DEVICE)).toBe(3);
    dmaUnmapSg(dev, sgt.sgl, 2, DMA_TO_DEVICE);
    const dbg = m.ctx.debug!;
    expect(dbg.count('sgCountMismatch')).toBe(2); // one per entry checked
    expect(dbg.findings[0]!.message).toBe('device driver frees DMA sg list with different entry count [map count=3] [unmap count=2]');
  });

  it('map error never checked', () => {
    const { m, dev } = setup();
    const dma = dmaMapSingle(dev, BUF, 64, DMA_TO_DEVICE);
    dmaUnmapSingle(dev, dma, 64, DMA_TO_DEVICE);
    only(m, 'mapErrorNotChecked', 'device driver failed to check map error[device address=0x0000000000100000] [size=64 bytes] [mapped as single]');
  });

  it('a failed mapping is not recorded', () => {
    const { m, dev } = setup();
    const d = makeDevice(m, 'small', { maskBits: 24, driver: 'ahci' });
    expect(dmaMapSingle(d, 0x4000_0000, 64, DMA_TO_DEVICE)).toBe(DMA_MAPPING_ERROR);
    expect(m.ctx.debug!.activeCount).toBe(0);
    void dev;
  });
});

describe('dma-debug: sync checks', () => {
  it('sync of memory never mapped, and of a range running past the mapping', () => {
    const { m, dev } = setup();
    dmaSyncSingleForCpu(dev, 0x9000, 64, DMA_FROM_DEVICE);
    const dma = mapChecked(dev, BUF, 4096, DMA_FROM_DEVICE);
    dmaSyncSingleForCpu(dev, dma + 4000, 200, DMA_FROM_DEVICE);
    const dbg = m.ctx.debug!;
    expect(dbg.count('syncNotAllocated')).toBe(2);
    expect(dbg.findings.map((f) => f.message)).toEqual([
      'device driver tries to sync DMA memory it has not allocated [device address=0x0000000000009000] [size=64 bytes]',
      'device driver tries to sync DMA memory it has not allocated [device address=0x0000000000100fa0] [size=200 bytes]',
    ]);
    // a sync inside the mapping is fine
    dmaSyncSingleForCpu(dev, dma + 1000, 200, DMA_FROM_DEVICE);
    expect(dbg.errorCount).toBe(2);
  });

  it('sync inside a mapping that spans hash buckets is found', () => {
    const { m, dev } = setup();
    const dma = mapChecked(dev, BUF, 64 * 1024, DMA_FROM_DEVICE);
    dmaSyncSingleForCpu(dev, dma + 40 * 1024, 4096, DMA_FROM_DEVICE);
    expect(m.ctx.debug!.errorCount).toBe(0);
  });

  it('sync with a different direction', () => {
    const { m, dev } = setup();
    const dma = mapChecked(dev, BUF, 4096, DMA_FROM_DEVICE);
    dmaSyncSingleForCpu(dev, dma, 4096, DMA_BIDIRECTIONAL);
    only(m, 'syncDirectionMismatch', 'device driver syncs DMA memory with different direction [device address=0x0000000000100000] [size=4096 bytes] [mapped with DMA_FROM_DEVICE] [synced with DMA_BIDIRECTIONAL]');
  });

  it('syncing device read-only memory for the CPU', () => {
    const { m, dev } = setup();
    const dma = mapChecked(dev, BUF, 4096, DMA_TO_DEVICE);
    dmaSyncSingleForCpu(dev, dma, 4096, DMA_FROM_DEVICE);
    const dbg = m.ctx.debug!;
    expect(dbg.findings.map((f) => f.errorClass)).toEqual(['syncDirectionMismatch', 'syncReadOnlyForCpu']);
    expect(dbg.findings[1]!.message).toBe('device driver syncs device read-only DMA memory for cpu [device address=0x0000000000100000] [size=4096 bytes] [mapped with DMA_TO_DEVICE] [synced with DMA_FROM_DEVICE]');
  });

  it('syncing device write-only memory to the device', () => {
    const { m, dev } = setup();
    const dma = mapChecked(dev, BUF, 4096, DMA_FROM_DEVICE);
    dmaSyncSingleForDevice(dev, dma, 4096, DMA_TO_DEVICE);
    const dbg = m.ctx.debug!;
    expect(dbg.findings.map((f) => f.errorClass)).toEqual(['syncDirectionMismatch', 'syncWriteOnlyToDevice']);
    expect(dbg.findings[1]!.message).toBe('device driver syncs device write-only DMA memory to device [device address=0x0000000000100000] [size=4096 bytes] [mapped with DMA_FROM_DEVICE] [synced with DMA_TO_DEVICE]');
  });

  it('sg sync with a different entry count', () => {
    const { m, dev } = setup();
    const sgt = new SgTable();
    sgAllocTableFromPages(sgt, [BUF, BUF + 0x10000], 0, 2 * 4096);
    expect(dmaMapSg(dev, sgt.sgl, 2, DMA_FROM_DEVICE)).toBe(2);
    dmaSyncSgForCpu(dev, sgt.sgl, 1, DMA_FROM_DEVICE);
    only(m, 'syncSgCountMismatch', 'device driver syncs DMA sg list with different entry count [map count=2] [sync count=1]');
  });
});

describe('dma-debug: map-time checks, unbind, reporting', () => {
  it('mapping memory that is not RAM', () => {
    const { m, dev } = setup();
    const dma = dmaMapSingle(dev, 0x1_0000_0000_0, 64, DMA_TO_DEVICE);
    void dma;
    expect(m.ctx.debug!.findings[0]!.message).toBe('device driver maps memory from invalid area [addr=0x0000001000000000] [len=64]');
  });

  it('sg segments longer than the device supports or crossing its boundary', () => {
    const { m, dev } = setup();
    dev.dma.maxSegmentSize = 4096;
    dev.dma.segmentBoundaryMask = 0xffff;
    const sgt = new SgTable();
    sgAllocTableFromPages(sgt, [0x1f000, 0x20000], 0, 8192);
    expect(sgt.origNents).toBe(1);
    expect(dmaMapSg(dev, sgt.sgl, 1, DMA_TO_DEVICE)).toBe(1);
    expect(m.ctx.debug!.findings.map((f) => f.message)).toEqual([
      'mapping sg segment longer than device claims to support [len=8192] [max=4096]',
      'mapping sg segment across boundary [start=0x000000000001f000] [end=0x0000000000020fff] [boundary=0x000000000000ffff]',
    ]);
  });

  it('pending mappings when the driver unbinds', () => {
    const { m, dev } = setup();
    mapChecked(dev, BUF, 4096, DMA_FROM_DEVICE);
    mapChecked(dev, BUF + 8192, 128, DMA_TO_DEVICE);
    expect(m.ctx.deviceUnbound(dev)).toBe(2);
    only(
      m,
      'pendingAtUnbind',
      'device driver has pending DMA allocations while released from device [count=2]\nOne of leaked entries details: [device address=0x0000000000100000] [size=4096 bytes] [mapped with DMA_FROM_DEVICE] [mapped as single]',
    );
  });

  it('only the first error WARNs by default; every error is counted; the stack of the mapping is shown', () => {
    const m = makeMachine({ dmaDebug: true });
    const dev = makeDevice(m, 'eth0', { driver: 'xgmac', coherent: true });
    const dma = dmaMapSingle(dev, BUF, 64, DMA_TO_DEVICE);
    dmaUnmapSingle(dev, dma, 32, DMA_FROM_DEVICE); // size, direction, unchecked: three errors
    dmaUnmapSingle(dev, 0x7000, 8, DMA_TO_DEVICE);
    const dbg = m.ctx.debug!;
    expect(dbg.errorCount).toBe(4);
    expect(dbg.count('sizeMismatch')).toBe(1);
    expect(dbg.count('directionMismatch')).toBe(1);
    expect(dbg.count('mapErrorNotChecked')).toBe(1);
    expect(dbg.count('freeNotAllocated')).toBe(1);
    expect(m.core.log.warnCount).toBe(1);
    const text = m.core.log.lines.map((l) => l.text);
    expect(text).toContain('DMA-API: xgmac eth0: device driver frees DMA memory with different size [device address=0x0000000000100000] [map size=64 bytes] [unmap size=32 bytes]');
    expect(text).toContain('Mapped at:');
    expect(text.some((t) => t.includes('different direction'))).toBe(false);
  });

  it('a driver filter prints only that driver but counts all', () => {
    const m = makeMachine({ dmaDebug: { driverFilter: 'other', numErrors: 10 } });
    const dev = makeDevice(m, 'eth0', { driver: 'xgmac', coherent: true });
    dmaUnmapSingle(dev, 0x7000, 8, DMA_TO_DEVICE);
    expect(m.ctx.debug!.errorCount).toBe(1);
    expect(m.core.log.warnCount).toBe(0);
  });

  it('best fit: two mappings of one address are told apart by size and direction', () => {
    const { m, dev } = setup();
    const a = mapChecked(dev, BUF, 4096, DMA_TO_DEVICE);
    const b = mapChecked(dev, BUF, 2048, DMA_FROM_DEVICE);
    expect(a).toBe(b);
    dmaUnmapSingle(dev, b, 2048, DMA_FROM_DEVICE);
    dmaUnmapSingle(dev, a, 4096, DMA_TO_DEVICE);
    expect(m.ctx.debug!.errorCount).toBe(0);
  });
});
