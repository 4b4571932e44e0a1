import { describe, expect, it } from 'vitest';
import { parseBoard } from '../board/load';
import type { BoardInput } from '../board/schema';
import { Machine } from './machine';

/** Six masters added before their 4-bank SMMU: bus_iommu_probe runs out of banks inside iommu_device_register. */
const board: BoardInput = {
  name: 'masters-first',
  kernel: { arch: 'generic', profile: 'linux-6.x', probe: { order: ['m0', 'm1', 'm2', 'm3', 'm4', 'm5', 'smmu0'] } },
  memory: [{ base: 0x80000000, size: '2GiB' }],
  iommus: [{ name: 'smmu0', compatible: 'arm,mmu-401', base: 0x2b500000, contextBanks: 4, streamMatchRegisters: 32, irq: 40 }],
  buses: [{ name: 'soc', type: 'platform' }],
  devices: [0, 1, 2, 3, 4, 5].map((i) => ({ name: `m${i}`, compatible: 'generic-ehci', bus: 'soc', base: 0x7ff00000 + i * 0x10000, iommus: [{ iommu: 'smmu0', streamIds: [i] }] })),
};

describe('a failed SMMU probe (devm)', () => {
  it('releases its interrupt handlers: the enabled hardware still blocks, but no unbound driver reports it', () => {
    const m = new Machine(parseBoard(board));
    const r = m.run();
    expect(r.log.some((l) => l.endsWith('arm-smmu smmu0: Failed to register iommu'))).toBe(true);
    // the SMMU was reset before registering, so with bypass disabled every stream is blocked...
    expect(r.faults.length).toBeGreaterThan(0);
    expect(r.devices.every((d) => d.state === 'failed')).toBe(true);
    // ...and the global fault line has no handler left to print about it
    expect(r.log.some((l) => l.includes('Blocked unknown Stream ID'))).toBe(false);
    expect(m.core.irqs.line(40).handlers).toEqual([]);
  });
});
