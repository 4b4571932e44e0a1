import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { createCoreServices, MiB } from '@dmasim/core';
import { LpaeWalker, prepareWalkConfig } from './walker';
import { LpaeTestTables } from './testing/lpae-test-tables';

describe('LPAE table walker', () => {
  it('finds exactly the pages that were mapped, at the right output address (stage 1, 4 levels)', () => {
    fc.assert(
      fc.property(fc.uniqueArray(fc.integer({ min: 0, max: 2 ** 36 - 1 }), { minLength: 1, maxLength: 20 }), fc.integer({ min: 0, max: 2 ** 36 - 1 }), (vpns, probe) => {
        const core = createCoreServices({ memory: [{ base: 0, size: 64 * MiB }] });
        const pt = new LpaeTestTables({ memory: core.memory, tableBase: 0, stage: 1 });
        vpns.forEach((vpn, i) => pt.map(vpn * 4096, (2 ** 35 + i) * 4096, 4096));
        const walker = new LpaeWalker(core.memory, undefined, true);
        const cfg = prepareWalkConfig({ stage: 1, granuleShift: 12, startLevel: 0, inputBits: 48, outputBits: 48, ttb: pt.root });
        vpns.forEach((vpn, i) => {
          const r = walker.walk(cfg, vpn * 4096 + 123);
          expect(r.ok).toBe(true);
          expect(r.pa).toBe((2 ** 35 + i) * 4096);
          expect(r.reads).toBe(4);
        });
        const r = walker.walk(cfg, probe * 4096);
        expect(r.ok).toBe(vpns.includes(probe));
      }),
      { numRuns: 50 },
    );
  });

  it('sees descriptors still in a dirty CPU cache line only when the walk is coherent', () => {
    const core = createCoreServices({ memory: [{ base: 0, size: 64 * MiB }] });
    const pt = new LpaeTestTables({ memory: core.memory, tableBase: 0, stage: 1 });
    pt.map(0x5000, 0x800000, 4096);
    // The CPU now rewrites the leaf through its cache (to point at 0x900000) without cleaning it.
    const leafAddr = [...Array(4096 / 8).keys()].map((i) => pt.root + 3 * 4096 + i * 8).find((a) => core.memory.readU32(a) !== 0)!;
    const lo = core.memory.readU32(leafAddr);
    const b = new Uint8Array(4);
    new DataView(b.buffer).setUint32(0, lo - 0x800000 + 0x900000, true);
    core.cache.cpuWrite(leafAddr, b);
    const cfg = prepareWalkConfig({ stage: 1, granuleShift: 12, startLevel: 0, inputBits: 48, outputBits: 48, ttb: pt.root });
    expect(new LpaeWalker(core.memory, core.cache, true).walk(cfg, 0x5000).pa).toBe(0x900000);
    expect(new LpaeWalker(core.memory, core.cache, false).walk(cfg, 0x5000).pa).toBe(0x800000);
  });

  it('faults on an access flag of zero and on an output address beyond the output size', () => {
    const core = createCoreServices({ memory: [{ base: 0, size: 64 * MiB }] });
    const pt = new LpaeTestTables({ memory: core.memory, tableBase: 0, stage: 1 });
    pt.map(0x1000, 0x100000, 4096, { read: true, accessFlag: false });
    pt.map(0x2000, 2 ** 41, 4096);
    const walker = new LpaeWalker(core.memory, undefined, true);
    const cfg = prepareWalkConfig({ stage: 1, granuleShift: 12, startLevel: 0, inputBits: 48, outputBits: 40, ttb: pt.root });
    expect(walker.walk(cfg, 0x1000)).toMatchObject({ ok: false, fault: 'access-flag', level: 3 });
    expect(walker.walk(cfg, 0x2000)).toMatchObject({ ok: false, fault: 'address-size', level: 3 });
    expect(walker.walk(cfg, 2 ** 48)).toMatchObject({ ok: false, fault: 'translation' });
  });
});
