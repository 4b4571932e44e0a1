import { GiB, MiB } from '@dmasim/core';
import { describe, expect, it } from 'vitest';
import { parseBoard } from '../board/load';
import type { BoardInput } from '../board/schema';
import { Machine } from './machine';
import { ofDmaGetMaxCpuAddress, zoneLimits } from './kernel-memory';

const rpi4: BoardInput = {
  name: 'pi',
  kernel: { arch: 'arm64', profile: 'linux-6.x' },
  cpus: 4,
  memory: [
    { base: 0, size: 0x3b400000 },
    { base: 0x40000000, size: 0xbc000000 },
  ],
  buses: [
    { name: 'soc', type: 'platform', dmaRanges: [{ bus: 0xc0000000, cpu: 0, size: GiB }] },
    { name: 'scb', type: 'platform' },
  ],
};

/** QEMU virt: RAM at 1 GiB, no dma-ranges, 2 CPUs. */
const virt = (ram: number, kernel: BoardInput['kernel'] = {}): BoardInput => ({
  name: 'virt',
  kernel: { arch: 'arm64', profile: 'linux-6.x', ...kernel },
  cpus: 2,
  memory: [{ base: 0x40000000, size: ram }],
  buses: [{ name: 'soc', type: 'platform' }],
});

const boot = (b: BoardInput) => {
  const m = new Machine(parseBoard(b));
  return { m, log: m.core.log.lines.map((l) => l.text) };
};
const tlbLines = (log: string[]) => log.filter((l) => l.startsWith('software IO TLB:'));

describe('arm64 ZONE_DMA, as zone_sizes_init derives it', () => {
  it('RPi4 without kernel.dmaZone: 30 bits from /soc dma-ranges, the pool below 1 GiB where vc4 reaches', () => {
    const b = parseBoard(rpi4).board;
    expect(ofDmaGetMaxCpuAddress(b)).toBe(GiB - 1);
    expect(zoneLimits(b).dmaZoneEnd).toBe(GiB);
    const { m, log } = boot(rpi4);
    const pool = m.swiotlb!.defaultMem!.defpool;
    // the top of the first bank, as on a real Pi 4
    expect(pool.start).toBe(0x37400000);
    expect(tlbLines(log)).toEqual(['software IO TLB: area num 4.', 'software IO TLB: mapped [mem 0x0000000037400000-0x000000003b400000] (64MB)']);
  });

  it('kernel.dmaZone still overrides', () => {
    expect(zoneLimits(parseBoard({ ...rpi4, kernel: { ...rpi4.kernel, dmaZone: '512MiB' } }).board).dmaZoneEnd).toBe(512 * MiB);
  });

  it('no dma-ranges: 32 bits, capped at the end of RAM; RAM starting above 4 GiB is all ZONE_DMA', () => {
    expect(zoneLimits(parseBoard(virt(2 * GiB)).board).dmaZoneEnd).toBe(0xc0000000);
    expect(zoneLimits(parseBoard(virt(8 * GiB)).board).dmaZoneEnd).toBe(4 * GiB);
    const high = parseBoard({ ...virt(GiB), memory: [{ base: 0x8_0000_0000, size: GiB }] }).board;
    expect(zoneLimits(high).dmaZoneEnd).toBe(0x8_4000_0000);
  });
});

describe('arm64 swiotlb presence, as mem_init decides it', () => {
  it('8 GiB virt: RAM above ZONE_DMA, the 64 MiB pool below 4 GiB with one area per CPU (the real boot)', () => {
    const { m, log } = boot(virt(8 * GiB));
    expect(tlbLines(log)).toEqual(['software IO TLB: area num 2.', expect.stringMatching(/^software IO TLB: mapped \[mem 0x00000000f[0-9a-f]{7}-0x0000000(0f|10)[0-9a-f]{7}\] \(64MB\)$/)]);
    expect(m.swiotlb!.defaultMem!.defpool.end).toBeLessThanOrEqual(4 * GiB);
  });

  it('2 GiB virt on 6.1 (no kmalloc bouncing): no pool and no software IO TLB line, as the real boot', () => {
    const { m, log } = boot(virt(2 * GiB, { swiotlb: { kmallocBounce: false } }));
    expect(m.swiotlb).toBeNull();
    expect(tlbLines(log)).toEqual([]);
  });

  it('2 GiB virt on 6.5+: the small kmalloc-bouncing pool, 1 MB per GB', () => {
    const { m, log } = boot(virt(2 * GiB));
    expect(tlbLines(log)).toEqual([
      'software IO TLB: SWIOTLB bounce buffer size adjusted to 2MB',
      'software IO TLB: area num 2.',
      expect.stringMatching(/mapped \[mem .*\] \(2MB\)$/),
    ]);
    expect(m.swiotlb!.defaultMem!.nslabs).toBe(1024);
  });

  it('linux-4.2 arm64 always had the pool, without areas', () => {
    const { m, log } = boot(virt(2 * GiB, { profile: 'linux-4.2' }));
    expect(m.swiotlb!.defaultMem!.nslabs).toBe(32768);
    expect(log.some((l) => l.includes('area num'))).toBe(false);
  });

  it('32-bit arm under linux-4.2 has no swiotlb at all', () => {
    const { m, log } = boot({ ...virt(2 * GiB), kernel: { arch: 'arm', profile: 'linux-4.2' } });
    expect(m.swiotlb).toBeNull();
    expect(tlbLines(log)).toEqual([]);
  });
});
