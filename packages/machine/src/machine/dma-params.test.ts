import { GiB } from '@dmasim/core';
import { describe, expect, it } from 'vitest';
import { parseBoard } from '../board/load';
import type { BoardInput } from '../board/schema';
import { Machine } from './machine';

/** No IOMMU: an NVMe (64-bit capable) and a memcpy engine on PCI, a USB controller on the platform bus. */
const board = (nvmeMask?: number): BoardInput => ({
  name: 'plain',
  kernel: { arch: 'generic', profile: 'linux-6.x' },
  memory: [{ base: 0x40000000, size: 8 * GiB }],
  buses: [
    { name: 'soc', type: 'platform' },
    { name: 'pcie0', type: 'pci', parent: 'soc' },
  ],
  devices: [
    { name: 'nvme0', pci: { bdf: '01:00.0', vendor: 0x1b36, device: 0x0010 }, bus: 'pcie0', ...(nvmeMask === undefined ? {} : { dmaMask: nvmeMask }) },
    { name: 'ehci', compatible: 'generic-ehci', bus: 'soc', base: 0x1c050000 },
  ],
  workloads: [{ kind: 'nvme-io', device: 'nvme0', requests: 50, blockSize: '16KiB' }],
});

const run = (b: BoardInput) => {
  const m = new Machine(parseBoard(b));
  return { m, r: m.run() };
};

describe('DMA parameters a kernel engineer reads', () => {
  it('a 64-bit mask prints as the kernel prints it, not as 2^53 - 1', () => {
    const { r } = run(board());
    expect(r.devices.find((d) => d.name === 'nvme0')!.dmaLimit).toBe('0xffffffffffffffff');
  });

  it("a board's dmaMask is a hardware limit: the driver's 64-bit dma_set_mask does not lift it", () => {
    const { m, r } = run(board(32));
    const nvme = r.devices.find((d) => d.name === 'nvme0')!;
    expect(nvme.dmaLimit).toBe('0xffffffff');
    // the driver asked for 64 bits and got them; the limit still holds, so high buffers bounce
    const dev = m.bus.core.devices.get('0000:01:00.0')!;
    expect(dev.dma.maskBits).toBe(64);
    expect(r.workloads[0]).toMatchObject({ ok: true });
    expect(m.swiotlb!.stats().maxUsedSlots).toBeGreaterThan(0);
  });

  it('platform devices have no segment boundary (ULONG_MAX); PCI functions get 4 GiB and 64 KiB segments', () => {
    const { m } = run(board());
    const ehci = m.bus.core.devices.get('ehci')!;
    const nvme = m.bus.core.devices.get('0000:01:00.0')!;
    expect(ehci.dma.segmentBoundaryMask).toBe(Number.MAX_SAFE_INTEGER);
    expect(nvme.dma.segmentBoundaryMask).toBe(0xffffffff);
    expect(nvme.dma.maxSegmentSize).toBe(65536);
  });
});

describe('the JSON report log', () => {
  it('logRecords holds the log lines with printk levels and devices', () => {
    const { r } = run(board(32));
    expect(r.logRecords).toHaveLength(r.log.length);
    const i = r.log.findIndex((l) => l.includes('nvme nvme0') || l.includes('nvme 0000:01:00.0'));
    expect(i).toBeGreaterThanOrEqual(0);
    expect(r.logRecords[i]).toMatchObject({ level: 'info' });
    expect(r.log[i]).toContain(r.logRecords[i]!.msg);
    expect(r.logRecords.some((x) => x.dev === 'nvme0' && x.msg === 'pci function 0000:01:00.0')).toBe(true);
  });
});
