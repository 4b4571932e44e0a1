import { describe, expect, it } from 'vitest';
import { MiB } from '@dmasim/core';
import { LpaeTestTables } from './testing/lpae-test-tables';
import { enableSmmu, makeRig, programStage1, routeStream, type Rig } from './testing/test-rig';
import type { SmmuAccess } from './smmu';

const TABLES = 16 * MiB;
const DATA = 64 * MiB;
const SID = 0x42;

function twoRigs(): { a: Rig; b: Rig } {
  const build = (): Rig => {
    const rig = makeRig({ model: 'mmu-500', numContextBanks: 8, numStreamMatchRegisters: 16, iotlbEntries: 2 });
    const pt = new LpaeTestTables({ memory: rig.core.memory, tableBase: TABLES, stage: 1 });
    pt.map(0x1000, DATA, 4096);
    pt.map(0x2000, DATA + 0x5000, 4096, { read: true, write: false });
    pt.map(0x20_0000, DATA + 0x20_0000, 2 * MiB);
    programStage1(rig, 0, pt.root, 3);
    routeStream(rig, 0, SID, 0, 0);
    enableSmmu(rig, true);
    return rig;
  };
  return { a: build(), b: build() };
}

describe('SmmuHardware.translateFast', () => {
  it('answers and counts like translate, through hits, misses, faults and unknown streams', () => {
    // the same transactions on two identical SMMUs, one through each entry point
    const { a, b } = twoRigs();
    const txs: [number, number, SmmuAccess, number | undefined][] = [
      [SID, 0x1008, 'read', undefined],
      [SID, 0x1008, 'write', 16],
      [SID, 0x2010, 'write', undefined], // read-only page: permission fault
      [SID, 0x2010, 'read', 64],
      [SID, 0x21_2345, 'read', undefined], // 2 MiB block
      [SID, 0x9000, 'read', undefined], // unmapped: translation fault
      [0x7, 0x1000, 'read', undefined], // no SMR: unidentified stream
      [SID, 0x1ffc, 'read', 8],
    ];
    for (const [sid, iova, access, size] of txs) {
      const slow = a.smmu.translate(sid, iova, access, size);
      const fast = b.smmu.translateFast(sid, iova, access, size);
      if (slow.ok) expect({ phys: fast.phys, length: fast.length, fault: fast.fault }).toEqual({ phys: slow.phys, length: slow.length, fault: null });
      else expect(fast.fault).toEqual(slow.fault);
    }
    expect(b.smmu.counters).toEqual(a.smmu.counters);
    expect(b.smmu.iotlb.entries()).toEqual(a.smmu.iotlb.entries());
  });

  it('returns one result object, overwritten by the next call', () => {
    const { a } = twoRigs();
    const first = a.smmu.translateFast(SID, 0x1000, 'read');
    expect(first.phys).toBe(DATA);
    const second = a.smmu.translateFast(SID, 0x9000, 'read');
    expect(second).toBe(first);
    expect(first.fault?.kind).toBe('translation');
  });
});
