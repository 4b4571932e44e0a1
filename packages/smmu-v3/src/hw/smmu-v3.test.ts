import { describe, expect, it } from 'vitest';
import * as R from './regs';
import { cmd, makeV3HwRig, RIG_BASE } from './testing/v3-test-rig';
import { SmmuV3Hardware } from './smmu-v3';
import { createCoreServices, MiB } from '@dmasim/core';

describe('SMMUv3 hardware', () => {
  it('passes transactions through while disabled, and aborts them once GBPA.ABORT is updated', () => {
    const core = createCoreServices({ memory: [{ base: 0, size: 16 * MiB }] });
    const hw = new SmmuV3Hardware({ memory: core.memory });
    hw.mapInto(core.mmio, RIG_BASE);
    expect(hw.translate(5, 0x1234, 'read')).toEqual({ ok: true, phys: 0x1234, length: 1 });
    core.mmio.writel(RIG_BASE + R.GBPA, R.GBPA_ABORT);
    expect(hw.translate(5, 0x1234, 'read').ok).toBe(true);
    core.mmio.writel(RIG_BASE + R.GBPA, (R.GBPA_ABORT | R.GBPA_UPDATE) >>> 0);
    expect(core.mmio.readl(RIG_BASE + R.GBPA)).toBe(R.GBPA_ABORT);
    const t = hw.translate(5, 0x1234, 'read');
    expect(!t.ok && t.fault.kind).toBe('gbpa-abort');
  });

  it('records C_BAD_STREAMID beyond the stream table and C_BAD_STE for an invalid entry, raising the event line', () => {
    const r = makeV3HwRig({ log2size: 4 });
    expect(r.hw.translate(16, 0x1000, 'read').ok).toBe(false);
    r.ste(3, 'invalid');
    expect(r.hw.translate(3, 0x1000, 'read').ok).toBe(false);
    expect(r.events().map((e) => [e[0]! & 0xff, e[1]])).toEqual([[R.EVT_ID_BAD_STREAMID, 16], [R.EVT_ID_BAD_STE, 3]]);
    expect(r.core.irqs.line(106).raised).toBe(true);
    r.writel(R.EVTQ_CONS, r.readl(R.EVTQ_PROD));
    expect(r.core.irqs.line(106).raised).toBe(false);
  });

  it('reports F_STE_FETCH with the address when the stream table is not in RAM', () => {
    const r = makeV3HwRig();
    r.writel(R.STRTAB_BASE + 4, 0x100);
    expect(r.hw.translate(2, 0x1000, 'write').ok).toBe(false);
    const [e] = r.events();
    expect((e?.[0] ?? 0) & 0xff).toBe(R.EVT_ID_STE_FETCH);
    expect(e?.[7]).toBe(0x100);
    expect(e?.[6]).toBe(0x100000 + 2 * 64);
  });

  it('translates through the CD and page tables and caches the walk', () => {
    const r = makeV3HwRig();
    r.tables.map(0x8000000000, 0x3000000, 4096);
    r.ste(1, 's1', 7);
    expect(r.hw.translate(1, 0x8000000010, 'write')).toEqual({ ok: true, phys: 0x3000010, length: 4096 - 0x10 });
    expect(r.hw.translate(1, 0x8000000020, 'read', 8)).toEqual({ ok: true, phys: 0x3000020, length: 8 });
    expect(r.hw.counters.walks).toBe(1);
    expect(r.hw.counters.hits).toBe(1);
  });

  it('keeps a stale TLB entry until TLBI_NH_VA is completed by CMD_SYNC', () => {
    const r = makeV3HwRig();
    r.tables.map(0x8000000000, 0x3000000, 4096);
    r.ste(1, 's1', 7);
    r.hw.translate(1, 0x8000000000, 'read');
    r.tables.unmap(0x8000000000);
    expect(r.hw.translate(1, 0x8000000000, 'read').ok).toBe(true);
    r.commands(cmd.tlbiNhVa(7, 0x8000000000));
    expect(r.hw.translate(1, 0x8000000000, 'read').ok).toBe(true);
    r.commands(cmd.sync());
    const t = r.hw.translate(1, 0x8000000000, 'read');
    expect(!t.ok && t.fault.kind).toBe('translation');
    // the command queue was consumed up to PROD
    expect(r.readl(R.CMDQ_CONS)).toBe(r.readl(R.CMDQ_PROD));
  });

  it('invalidates by ASID only the entries of that ASID', () => {
    const r = makeV3HwRig();
    r.tables.map(0x8000000000, 0x3000000, 4096);
    r.ste(1, 's1', 7);
    r.ste(2, 's1', 8);
    r.hw.translate(1, 0x8000000000, 'read');
    r.hw.translate(2, 0x8000000000, 'read');
    r.tables.unmap(0x8000000000);
    r.commands(cmd.tlbiNhAsid(7), cmd.sync());
    expect(r.hw.translate(1, 0x8000000000, 'read').ok).toBe(false);
    expect(r.hw.translate(2, 0x8000000000, 'read').ok).toBe(true);
  });

  it('keeps using a cached STE until CFGI_STE and a sync', () => {
    const r = makeV3HwRig();
    r.ste(4, 'bypass');
    expect(r.hw.translate(4, 0x5000, 'read').ok).toBe(true);
    r.ste(4, 'abort');
    expect(r.hw.translate(4, 0x5000, 'read').ok).toBe(true);
    r.commands(cmd.cfgiSte(4), cmd.sync());
    const t = r.hw.translate(4, 0x5000, 'read');
    expect(!t.ok && t.fault.kind).toBe('ste-abort');
    expect(r.events()).toEqual([]);
  });

  it('stops at an illegal command with CONS.ERR and GERROR.CMDQ_ERR until GERRORN acknowledges it', () => {
    const r = makeV3HwRig();
    r.commands([R.CMDQ_OP_TLBI_EL2_ALL, 0, 0, 0], cmd.sync());
    expect(r.readl(R.CMDQ_CONS)).toBe((R.CMDQ_ERR_CERROR_ILL_IDX << R.CMDQ_CONS_ERR_SHIFT) >>> 0);
    expect(r.readl(R.GERROR) & R.GERROR_CMDQ_ERR).toBe(R.GERROR_CMDQ_ERR);
    expect(r.core.irqs.line(109).raised).toBe(true);
    // the driver replaces the command with a CMD_SYNC and acknowledges
    r.core.memory.writeU32(0x200000, R.CMDQ_OP_CMD_SYNC);
    r.writel(R.GERRORN, r.readl(R.GERROR));
    expect(r.readl(R.CMDQ_CONS)).toBe(2);
    expect(r.core.irqs.line(109).raised).toBe(false);
    expect(r.hw.counters.syncs).toBe(2);
  });

  it('drops events when the queue is full and toggles the overflow flag once', () => {
    const r = makeV3HwRig();
    r.ste(1, 'invalid');
    for (let i = 0; i < 300; i++) r.hw.translate(1, 0, 'read');
    const prod = r.readl(R.EVTQ_PROD);
    expect((prod & R.Q_OVERFLOW_FLAG) !== 0).toBe(true);
    expect(r.hw.counters.events).toBe(256);
    expect(r.hw.counters.eventsLost).toBe(44);
  });

  it('completes a CMD_SYNC with an MSI write when the SMMU has MSIs', () => {
    const r = makeV3HwRig({ msi: true });
    r.core.memory.writeU32(0x300000, 0xffffffff);
    r.commands([R.CMDQ_OP_CMD_SYNC | (R.CMDQ_SYNC_0_CS_IRQ << R.CMDQ_SYNC_0_CS_SHIFT), 0, 0x300000, 0]);
    expect(r.core.memory.readU32(0x300000)).toBe(0);
  });
});
