import { describe, expect, it } from 'vitest';
import { createCoreServices, MiB } from '@dmasim/core';
import { rkMkDte, rkMkPte } from '../format';
import {
  RK_MMU_CMD_ENABLE_PAGING,
  RK_MMU_CMD_FORCE_RESET,
  RK_MMU_CMD_PAGE_FAULT_DONE,
  RK_MMU_CMD_ZAP_CACHE,
  RK_MMU_COMMAND,
  RK_MMU_DTE_ADDR,
  RK_MMU_INT_CLEAR,
  RK_MMU_INT_MASK,
  RK_MMU_INT_RAWSTAT,
  RK_MMU_INT_STATUS,
  RK_MMU_PAGE_FAULT_ADDR,
  RK_MMU_STATUS,
  RK_MMU_ZAP_ONE_LINE,
} from './regs';
import { RkIommuHardware } from './rk-iommu-hw';

const BASE = 0xff930300;
const DT = 0x100000;
const PT = 0x101000;

function rig() {
  const core = createCoreServices({ memory: [{ base: 0, size: 16 * MiB }] });
  const line = core.irqs.line(47);
  const hw = new RkIommuHardware({ name: 'vopb_mmu', memory: core.memory, irq: line });
  hw.mapInto(core.mmio, BASE);
  const w = (off: number, v: number) => core.mmio.writel(BASE + off, v);
  const r = (off: number) => core.mmio.readl(BASE + off);
  // iova 0x00401000 → DTE 1, PTE 1 → page 0x200000, read-only
  core.memory.writeU32(DT + 4, rkMkDte(PT));
  core.memory.writeU32(PT + 4, rkMkPte(0x200000, true, false));
  return { core, hw, line, w, r };
}

describe('RK3288 IOMMU hardware', () => {
  it('passes DMA untranslated until paging is enabled, then walks the two-level table in memory', () => {
    const { hw, w, r } = rig();
    expect(hw.translate(0x00401234, 'read')).toMatchObject({ ok: true, phys: 0x00401234 });
    w(RK_MMU_DTE_ADDR, DT + 0x123); // the low 12 bits are not implemented
    expect(r(RK_MMU_DTE_ADDR)).toBe(DT);
    w(RK_MMU_COMMAND, RK_MMU_CMD_ENABLE_PAGING);
    expect(r(RK_MMU_STATUS) % 2).toBe(1);
    expect(hw.translate(0x00401234, 'read')).toEqual({ ok: true, phys: 0x200234, length: 0x1000 - 0x234 });
  });

  it('records a page fault in its registers, interrupts when unmasked, and refuses DMA until PAGE_FAULT_DONE', () => {
    const { hw, line, w, r } = rig();
    w(RK_MMU_DTE_ADDR, DT);
    w(RK_MMU_COMMAND, RK_MMU_CMD_ENABLE_PAGING);
    // a write to the read-only page
    expect(hw.translate(0x00401010, 'write')).toEqual({ ok: false, kind: 'permission' });
    expect(r(RK_MMU_PAGE_FAULT_ADDR)).toBe(0x00401010);
    expect(Math.floor(r(RK_MMU_STATUS) / 0x20) % 2).toBe(1); // PAGE_FAULT_IS_WRITE
    expect(r(RK_MMU_INT_RAWSTAT)).toBe(1);
    expect(r(RK_MMU_INT_STATUS)).toBe(0);
    expect(line.raised).toBe(false);
    w(RK_MMU_INT_MASK, 3);
    expect(line.raised).toBe(true);
    expect(hw.translate(0x00401000, 'read')).toEqual({ ok: false, kind: 'stalled' });
    w(RK_MMU_COMMAND, RK_MMU_CMD_PAGE_FAULT_DONE);
    w(RK_MMU_INT_CLEAR, 1);
    expect(line.raised).toBe(false);
    expect(hw.translate(0x00401000, 'read')).toMatchObject({ ok: true, phys: 0x200000 });
    // nothing mapped in DTE 5
    expect(hw.translate(0x01400000, 'read')).toEqual({ ok: false, kind: 'page-fault' });
    expect(r(RK_MMU_PAGE_FAULT_ADDR)).toBe(0x01400000);
  });

  it('keeps a stale translation in its IOTLB until the line is zapped', () => {
    const { core, hw, w } = rig();
    w(RK_MMU_DTE_ADDR, DT);
    w(RK_MMU_COMMAND, RK_MMU_CMD_ENABLE_PAGING);
    expect(hw.translate(0x00401000, 'read')).toMatchObject({ ok: true, phys: 0x200000 });
    core.memory.writeU32(PT + 4, rkMkPte(0x300000, true, false));
    expect(hw.translate(0x00401000, 'read')).toMatchObject({ ok: true, phys: 0x200000 });
    w(RK_MMU_ZAP_ONE_LINE, 0x00401000);
    expect(hw.translate(0x00401000, 'read')).toMatchObject({ ok: true, phys: 0x300000 });
    core.memory.writeU32(PT + 4, 0);
    w(RK_MMU_COMMAND, RK_MMU_CMD_ZAP_CACHE);
    expect(hw.translate(0x00401000, 'read')).toEqual({ ok: false, kind: 'page-fault' });
  });

  it('FORCE_RESET clears every register and turns translation off', () => {
    const { hw, w, r } = rig();
    w(RK_MMU_DTE_ADDR, DT);
    w(RK_MMU_INT_MASK, 3);
    w(RK_MMU_COMMAND, RK_MMU_CMD_ENABLE_PAGING);
    w(RK_MMU_COMMAND, RK_MMU_CMD_FORCE_RESET);
    expect([r(RK_MMU_DTE_ADDR), r(RK_MMU_INT_MASK), r(RK_MMU_STATUS) % 2]).toEqual([0, 0, 0]);
    expect(hw.pagingEnabled).toBe(false);
  });
});
