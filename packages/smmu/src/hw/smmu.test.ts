import { describe, expect, it } from 'vitest';
import { MiB } from '@dmasim/core';
import * as R from './regs';
import { LpaeTestTables } from './testing/lpae-test-tables';
import { enableSmmu, makeRig, programStage1, programStage2, routeStream, type Rig } from './testing/test-rig';

const TABLES = 16 * MiB;
const DATA = 64 * MiB;
const SID = 0x42;

/** An MMU-500 with stream SID routed to context bank 0, stage-1 tables at TABLES. */
function stage1Rig(iotlbEntries?: number): { rig: Rig; pt: LpaeTestTables } {
  const rig = makeRig({ model: 'mmu-500', numContextBanks: 8, numStreamMatchRegisters: 16, ...(iotlbEntries ? { iotlbEntries } : {}) });
  const pt = new LpaeTestTables({ memory: rig.core.memory, tableBase: TABLES, stage: 1 });
  programStage1(rig, 0, pt.root, 3);
  routeStream(rig, 0, SID, 0, 0);
  enableSmmu(rig, true);
  return { rig, pt };
}

describe('SMMU hardware: ID registers', () => {
  it('MMU-401 reports Juno PCIe SMMU parameters the way arm_smmu_device_cfg_probe decodes them', () => {
    const rig = makeRig({ model: 'mmu-401' });
    const id0 = rig.gr0Read(R.GR0_ID0);
    const id1 = rig.gr0Read(R.GR0_ID1);
    const id2 = rig.gr0Read(R.GR0_ID2);
    expect(id0 & R.ID0_S1TS).toBe(0);
    expect(id0 & R.ID0_S2TS).not.toBe(0);
    expect(id0 & R.ID0_NTS).toBe(0);
    expect(id0 & R.ID0_SMS).not.toBe(0);
    expect(id0 & R.ID0_CTTW).not.toBe(0);
    expect(id0 & R.ID0_NUMSMRG_MASK).toBe(32);
    expect((id0 >>> R.ID0_NUMSIDB_SHIFT) & 0xf).toBe(15);
    expect(id1 & R.ID1_NUMCB_MASK).toBe(4);
    expect((id1 >>> R.ID1_NUMS2CB_SHIFT) & 0xff).toBe(4);
    expect(id1 & R.ID1_PAGESIZE).toBe(0);
    // Linux: register space = 2 * (1 << (NUMPAGENDXB + 1)) pages; Juno's reg is 64 KiB.
    const numPage = 1 << (((id1 >>> R.ID1_NUMPAGENDXB_SHIFT) & 7) + 1);
    expect(2 * numPage * 4096).toBe(0x10000);
    expect(rig.smmu.size).toBe(0x10000);
    expect(R.decodeAddressSize((id2 >>> R.ID2_IAS_SHIFT) & 0xf)).toBe(40);
    expect(R.decodeAddressSize((id2 >>> R.ID2_OAS_SHIFT) & 0xf)).toBe(40);
    // AArch32 long format (4K|2M|1G) + the v1 64K AArch64 format: the Juno log's 0x60211000.
    expect(id0 & R.ID0_PTFS_NO_AARCH32).toBe(0);
    expect(id0 & R.ID0_PTFS_NO_AARCH32S).not.toBe(0);
    expect(rig.smmu.params.pageSizes).toBe(0x60211000);
  });

  it('a board-sized MMU-500 reports its own counts, sizes, granules and 64K register pages', () => {
    const rig = makeRig({ model: 'mmu-500', numContextBanks: 24, numStreamMatchRegisters: 64, registerPageSize: 65536, vaBits: 48, ipaBits: 44, paBits: 42, coherentWalk: false, pageSizes: 0x40201000 });
    const id0 = rig.gr0Read(R.GR0_ID0);
    const id1 = rig.gr0Read(R.GR0_ID1);
    const id2 = rig.gr0Read(R.GR0_ID2);
    expect(id0 & (R.ID0_S1TS | R.ID0_S2TS | R.ID0_NTS)).toBe((R.ID0_S1TS | R.ID0_S2TS | R.ID0_NTS) >>> 0);
    expect(id0 & R.ID0_NUMSMRG_MASK).toBe(64);
    expect(id0 & R.ID0_CTTW).toBe(0);
    expect((id0 >>> R.ID0_NUMIRPT_SHIFT) & 0xff).toBe(24);
    expect(id1 & R.ID1_NUMCB_MASK).toBe(24);
    expect((id1 >>> R.ID1_NUMS2CB_SHIFT) & 0xff).toBe(0);
    expect(id1 & R.ID1_PAGESIZE).not.toBe(0);
    expect(2 * (1 << (((id1 >>> R.ID1_NUMPAGENDXB_SHIFT) & 7) + 1)) * 65536).toBe(rig.smmu.size);
    expect(R.decodeAddressSize((id2 >>> R.ID2_UBS_SHIFT) & 0xf)).toBe(48);
    expect(R.decodeAddressSize((id2 >>> R.ID2_IAS_SHIFT) & 0xf)).toBe(44);
    expect(R.decodeAddressSize((id2 >>> R.ID2_OAS_SHIFT) & 0xf)).toBe(42);
    expect(id2 & R.ID2_PTFS_4K).not.toBe(0);
    expect(id2 & R.ID2_PTFS_64K).toBe(0);
    // ID registers are read-only.
    rig.gr0Write(R.GR0_ID0, 0);
    expect(rig.gr0Read(R.GR0_ID0)).toBe(id0);
  });

  it('rejects parameters the ID registers cannot express', () => {
    expect(() => makeRig({ model: 'mmu-500', paBits: 39 })).toThrow(RangeError);
    expect(() => makeRig({ model: 'mmu-401', stage1: false, numS2ContextBanks: 2 })).toThrow(RangeError);
  });
});

describe('SMMU hardware: stream mapping', () => {
  it('SMR and S2CR words read back as written; unimplemented ones are RAZ/WI', () => {
    const rig = makeRig({ model: 'mmu-401', numStreamMatchRegisters: 2 });
    routeStream(rig, 1, 0x10, 0x3, 2);
    expect(rig.gr0Read(R.gr0Smr(1))).toBe((R.SMR_VALID | (0x3 << 16) | 0x10) >>> 0);
    expect(rig.gr0Read(R.gr0S2cr(1))).toBe(2);
    rig.gr0Write(R.gr0Smr(2), 0x80000001);
    expect(rig.gr0Read(R.gr0Smr(2))).toBe(0);
  });

  it('matches stream IDs under the SMR mask and routes them by S2CR type', () => {
    const { rig, pt } = stage1Rig();
    pt.map(0x1000, DATA, 4096);
    rig.gr0Write(R.gr0S2cr(1), (R.S2CR_TYPE_TRANS << R.S2CR_TYPE_SHIFT) | 0);
    rig.gr0Write(R.gr0Smr(1), (R.SMR_VALID | (0x3 << 16) | 0x10) >>> 0); // ids 0x10..0x13
    for (const sid of [0x10, 0x11, 0x12, 0x13]) expect(rig.smmu.translate(sid, 0x1234, 'read')).toEqual({ ok: true, phys: DATA + 0x234, length: 4096 - 0x234 });
    const r = rig.smmu.translate(0x14, 0x1234, 'read');
    expect(r.ok).toBe(false);
    // S2CR bypass: the stream's addresses go through untranslated.
    rig.gr0Write(R.gr0S2cr(1), R.S2CR_TYPE_BYPASS << R.S2CR_TYPE_SHIFT);
    expect(rig.smmu.translate(0x11, 0x1234, 'read')).toMatchObject({ ok: true, phys: 0x1234 });
    // S2CR fault: refused and recorded as an unidentified stream.
    rig.gr0Write(R.gr0S2cr(1), R.S2CR_TYPE_FAULT << R.S2CR_TYPE_SHIFT);
    expect(rig.smmu.translate(0x11, 0x1234, 'read')).toMatchObject({ ok: false, fault: { kind: 'unidentified-stream', scope: 'global' } });
  });

  it('streamRoute says where a stream goes, as translate would, without counting or faulting', () => {
    const { rig, pt } = stage1Rig();
    pt.map(0x1000, DATA, 4096);
    rig.gr0Write(R.gr0S2cr(1), (R.S2CR_TYPE_TRANS << R.S2CR_TYPE_SHIFT) | 0);
    rig.gr0Write(R.gr0Smr(1), (R.SMR_VALID | 0x10) >>> 0);
    const before = { ...rig.smmu.counters };
    expect(rig.smmu.streamRoute(0x10)).toEqual({ kind: 'translate', contextBank: 0 });
    rig.gr0Write(R.gr0S2cr(1), R.S2CR_TYPE_BYPASS << R.S2CR_TYPE_SHIFT);
    expect(rig.smmu.streamRoute(0x10)).toEqual({ kind: 'bypass' });
    rig.gr0Write(R.gr0S2cr(1), R.S2CR_TYPE_FAULT << R.S2CR_TYPE_SHIFT);
    expect(rig.smmu.streamRoute(0x10)).toEqual({ kind: 'fault' });
    expect(rig.smmu.counters).toEqual(before);
    expect(rig.gr0Read(R.GR0_SGFSR)).toBe(0);
    expect(rig.smmu.translate(0x10, 0x1234, 'read').ok).toBe(false);
  });

  it('two SMRs matching one stream is a stream match conflict', () => {
    const { rig } = stage1Rig();
    rig.gr0Write(R.gr0Smr(5), (R.SMR_VALID | (0xff << 16) | 0x40) >>> 0); // also covers SID 0x42
    const r = rig.smmu.translate(SID, 0, 'read');
    expect(r).toMatchObject({ ok: false, fault: { kind: 'stream-match-conflict' } });
    expect(rig.gr0Read(R.GR0_SGFSR) & R.SGFSR_SMCF).not.toBe(0);
  });

  it('an unmatched stream bypasses with USFCFG=0 and faults with sGFSR.USF when USFCFG=1', () => {
    const { rig } = stage1Rig();
    enableSmmu(rig, false);
    expect(rig.smmu.translate(0x99, 0x12345678, 'write')).toMatchObject({ ok: true, phys: 0x12345678 });
    expect(rig.gr0Read(R.GR0_SGFSR)).toBe(0);
    expect(rig.globalIrq.raised).toBe(false);

    enableSmmu(rig, true);
    const r = rig.smmu.translate(0x99, 0x12345678, 'write');
    expect(r).toMatchObject({ ok: false, fault: { kind: 'unidentified-stream', scope: 'global', response: 'abort' } });
    expect(rig.gr0Read(R.GR0_SGFSR)).toBe(R.SGFSR_USF);
    expect(rig.gr0Read(R.GR0_SGFSYNR1) & 0xffff).toBe(0x99);
    expect(rig.gr0Read(R.GR0_SGFSYNR0) & R.SGFSYNR0_WNR).not.toBe(0);
    expect(rig.gr0Read(R.GR0_SGFAR_LO)).toBe(0x12345678);
    expect(rig.globalIrq.raised).toBe(true);
    // The handler clears sGFSR by writing it back; the line drops.
    rig.gr0Write(R.GR0_SGFSR, rig.gr0Read(R.GR0_SGFSR));
    expect(rig.gr0Read(R.GR0_SGFSR)).toBe(0);
    expect(rig.globalIrq.raised).toBe(false);
  });

  it('CLIENTPD=1 lets every transaction through untranslated (the reset state)', () => {
    const rig = makeRig({ model: 'mmu-500' });
    expect(rig.gr0Read(R.GR0_SCR0) & R.SCR0_CLIENTPD).toBe(R.SCR0_CLIENTPD);
    expect(rig.smmu.translate(7, 0xabc000, 'read')).toMatchObject({ ok: true, phys: 0xabc000 });
    expect(rig.smmu.streamRoute(7)).toEqual({ kind: 'bypass' });
    const { rig: r2 } = stage1Rig();
    r2.gr0Write(R.GR0_SCR0, R.SCR0_CLIENTPD | R.SCR0_USFCFG);
    expect(r2.smmu.translate(SID, 0x5000, 'write')).toMatchObject({ ok: true, phys: 0x5000 });
    expect(r2.smmu.translate(0x77, 0x5000, 'write')).toMatchObject({ ok: true, phys: 0x5000 });
  });
});

describe('SMMU hardware: context faults', () => {
  it('an access to an unmapped IOVA sets FSR/FAR/FSYNR0/CBFRSYNRA and raises the context interrupt', () => {
    const { rig, pt } = stage1Rig();
    pt.map(0x10000, DATA, 4096);
    let handled = 0;
    rig.contextIrq.request('arm-smmu-context-fault', () => {
      const fsr = rig.cbRead(0, R.CB_FSR);
      if ((fsr & R.FSR_FAULT) === 0) return 'none';
      handled++;
      rig.cbWrite(0, R.CB_FSR, fsr);
      return 'handled';
    });
    const iova = 0x45678000 + 0x10; // level-0 entry 0 exists (it maps 0x10000), level-1 entry 1 is empty
    const r = rig.smmu.translate(SID, iova, 'write');
    expect(r).toMatchObject({ ok: false, fault: { kind: 'translation', scope: 'context', contextBank: 0, response: 'abort' } });
    const fsr = rig.cbRead(0, R.CB_FSR);
    expect(fsr & R.FSR_TF).toBe(R.FSR_TF);
    expect((fsr >>> R.FSR_FORMAT_SHIFT) & 3).toBe(R.FSR_FORMAT_AARCH64);
    expect(rig.cbRead(0, R.CB_FAR_LO) + rig.cbRead(0, R.CB_FAR_HI) * 0x100000000).toBe(iova);
    const fsynr0 = rig.cbRead(0, R.CB_FSYNR0);
    expect(fsynr0 & R.FSYNR0_WNR).toBe(R.FSYNR0_WNR);
    expect(fsynr0 & R.FSYNR0_PLVL_MASK).toBe(1);
    expect(rig.gr1Read(R.gr1Cbfrsynra(0))).toBe(SID);
    expect(rig.contextIrq.raised).toBe(true);
    rig.core.sched.runUntilIdle();
    expect(handled).toBe(1);
    expect(rig.cbRead(0, R.CB_FSR)).toBe(0);
    expect(rig.contextIrq.raised).toBe(false);
  });

  it('a second fault while one is outstanding sets MULTI and keeps the first syndrome', () => {
    const { rig } = stage1Rig();
    rig.smmu.translate(SID, 0x1000, 'read');
    rig.smmu.translate(SID, 0x2000, 'write');
    expect(rig.cbRead(0, R.CB_FSR) & R.FSR_MULTI).not.toBe(0);
    expect(rig.cbRead(0, R.CB_FAR_LO)).toBe(0x1000);
    expect(rig.cbRead(0, R.CB_FSYNR0) & R.FSYNR0_WNR).toBe(0);
  });

  it('a write to a read-only page is a permission fault; reads of it succeed', () => {
    const { rig, pt } = stage1Rig();
    pt.map(0x40000, DATA + 0x8000, 4096, { read: true, write: false });
    expect(rig.smmu.translate(SID, 0x40010, 'read')).toEqual({ ok: true, phys: DATA + 0x8010, length: 4096 - 0x10 });
    const r = rig.smmu.translate(SID, 0x40020, 'write');
    expect(r).toMatchObject({ ok: false, fault: { kind: 'permission', level: 3 } });
    expect(rig.cbRead(0, R.CB_FSR) & R.FSR_PF).toBe(R.FSR_PF);
    expect(rig.cbRead(0, R.CB_FSYNR0) & R.FSYNR0_PLVL_MASK).toBe(3);
    expect(rig.cbRead(0, R.CB_FAR_LO)).toBe(0x40020);
  });

  it('with CFIE clear the fault is recorded but no interrupt is raised; CFRE clear means RAZ/WI', () => {
    const { rig } = stage1Rig();
    rig.cbWrite(0, R.CB_SCTLR, R.SCTLR_M);
    const r = rig.smmu.translate(SID, 0x9000, 'read');
    expect(r).toMatchObject({ ok: false, fault: { response: 'raz-wi' } });
    expect(rig.cbRead(0, R.CB_FSR) & R.FSR_TF).toBe(R.FSR_TF);
    expect(rig.contextIrq.raised).toBe(false);
  });

  it('an SMMUv1 with one shared interrupt line raises it for a context fault', () => {
    const rig = makeRig({ model: 'mmu-401' }, true);
    const pt = new LpaeTestTables({ memory: rig.core.memory, tableBase: TABLES, stage: 2, startLevel: 1, rootTables: 2 });
    programStage2(rig, 1, pt.root, 2, 40, 1);
    routeStream(rig, 0, 0, 0, 1);
    enableSmmu(rig, true);
    pt.map(0x80_0000_0000 + 0x3000, DATA, 4096, { read: true, write: true }); // above 2^39: second root table
    expect(rig.smmu.translate(0, 0x80_0000_0000 + 0x3004, 'write')).toMatchObject({ ok: true, phys: DATA + 4 });
    expect(rig.smmu.translate(0, 0x4000, 'read')).toMatchObject({ ok: false, fault: { kind: 'translation', contextBank: 1 } });
    expect(rig.globalIrq.raised).toBe(true);
    expect(rig.cbRead(1, R.CB_FSR) & R.FSR_TF).toBe(R.FSR_TF);
    expect((rig.cbRead(1, R.CB_FSR) >>> R.FSR_FORMAT_SHIFT) & 3).toBe(R.FSR_FORMAT_AARCH32_LONG);
  });
});

describe('SMMU hardware: stage 2 permissions', () => {
  it('S2AP read-only refuses writes', () => {
    const rig = makeRig({ model: 'mmu-401' });
    const pt = new LpaeTestTables({ memory: rig.core.memory, tableBase: TABLES, stage: 2, startLevel: 1, rootTables: 2 });
    programStage2(rig, 0, pt.root, 1, 40, 1);
    routeStream(rig, 0, 5, 0, 0);
    enableSmmu(rig, false);
    pt.map(0x200000, 0x400000, 2 * MiB, { read: true, write: false });
    expect(rig.smmu.translate(5, 0x2abcde, 'read')).toMatchObject({ ok: true, phys: 0x4abcde });
    expect(rig.smmu.translate(5, 0x2abcde, 'write')).toMatchObject({ ok: false, fault: { kind: 'permission', level: 2 } });
  });
});

describe('SMMU hardware: IOTLB', () => {
  it('a translation cached before the tables changed is used until TLBIVA + TLBSYNC', () => {
    const { rig, pt } = stage1Rig();
    pt.map(0x7000, DATA, 4096);
    expect(rig.smmu.translate(SID, 0x7008, 'read')).toMatchObject({ ok: true, phys: DATA + 8 });
    // The driver unmaps and reuses the page without TLB maintenance: devices still reach the old page.
    pt.unmap(0x7000);
    expect(rig.smmu.translate(SID, 0x7008, 'write')).toMatchObject({ ok: true, phys: DATA + 8 });
    expect(rig.smmu.counters.hits).toBe(1);
    // TLBIVA alone is posted; the sync completes it.
    rig.cbWrite64(0, R.CB_TLBIVA, 0x7000 / 4096 + 3 * 2 ** 48);
    expect(rig.smmu.pendingInvalidations).toBe(1);
    expect(rig.smmu.translate(SID, 0x7008, 'read')).toMatchObject({ ok: true, phys: DATA + 8 });
    rig.cbWrite(0, R.CB_TLBSYNC, 0);
    expect(rig.cbRead(0, R.CB_TLBSTATUS) & R.TLBSTATUS_SACTIVE).toBe(0);
    expect(rig.smmu.translate(SID, 0x7008, 'read')).toMatchObject({ ok: false, fault: { kind: 'translation' } });
  });

  it('TLBIVA with another ASID leaves the entry; TLBIASID and TLBIALL remove it', () => {
    const { rig, pt } = stage1Rig();
    pt.map(0x7000, DATA, 4096);
    pt.map(0x8000, DATA + 4096, 4096);
    rig.smmu.translate(SID, 0x7000, 'read');
    rig.smmu.translate(SID, 0x8000, 'read');
    // 32-bit halves, high word first (how a 32-bit kernel writes a 64-bit register).
    rig.cbWrite(0, R.CB_TLBIVA + 4, 9 << 16);
    rig.cbWrite(0, R.CB_TLBIVA, 0x7);
    rig.cbWrite(0, R.CB_TLBSYNC, 0);
    expect(rig.smmu.iotlb.size).toBe(2);
    rig.cbWrite(0, R.CB_TLBIASID, 3);
    rig.cbWrite(0, R.CB_TLBSYNC, 0);
    expect(rig.smmu.iotlb.size).toBe(0);
    rig.smmu.translate(SID, 0x7000, 'read');
    rig.cbWrite(0, R.CB_TLBIALL, 0);
    rig.gr0Write(R.GR0_TLBGSYNC, 0);
    expect(rig.gr0Read(R.GR0_TLBGSTATUS)).toBe(0);
    expect(rig.smmu.iotlb.size).toBe(0);
  });

  it("a bank's TLBSYNC completes only that bank's invalidations; the others stay posted until theirs or TLBGSYNC", () => {
    const rig = makeRig({ model: 'mmu-500', numContextBanks: 8, numStreamMatchRegisters: 16 });
    const pt0 = new LpaeTestTables({ memory: rig.core.memory, tableBase: TABLES, stage: 1 });
    const pt1 = new LpaeTestTables({ memory: rig.core.memory, tableBase: TABLES + 4 * MiB, stage: 1 });
    programStage1(rig, 0, pt0.root, 3);
    programStage1(rig, 1, pt1.root, 4);
    routeStream(rig, 0, SID, 0, 0);
    routeStream(rig, 1, SID + 1, 0, 1);
    enableSmmu(rig, true);
    pt0.map(0x7000, DATA, 4096);
    pt1.map(0x7000, DATA + 4096, 4096);
    pt1.map(0x9000, DATA + 8192, 4096);
    for (const [sid, va] of [[SID, 0x7000], [SID + 1, 0x7000], [SID + 1, 0x9000]] as const) rig.smmu.translate(sid, va, 'read');
    expect(rig.smmu.iotlb.size).toBe(3);
    rig.cbWrite64(1, R.CB_TLBIVAL, 0x7000 / 4096 + 4 * 2 ** 48);
    rig.cbWrite64(0, R.CB_TLBIVAL, 0x7000 / 4096 + 3 * 2 ** 48);
    rig.cbWrite(1, R.CB_TLBIASID, 4);
    expect(rig.smmu.pendingInvalidations).toBe(3);
    rig.cbWrite(0, R.CB_TLBSYNC, 0);
    expect(rig.smmu.pendingInvalidations).toBe(2);
    expect(rig.smmu.iotlb.entries().map((e) => [e.cb, e.va])).toEqual([[1, 0x7000], [1, 0x9000]]);
    rig.gr0Write(R.GR0_TLBGSYNC, 0);
    expect(rig.smmu.pendingInvalidations).toBe(0);
    expect(rig.smmu.iotlb.size).toBe(0);
    expect(rig.smmu.counters.tlbInvalidations).toBe(3);
  });

  it('entries are tagged with the ASID: a new ASID in TTBR0 does not hit old entries', () => {
    const { rig, pt } = stage1Rig();
    pt.map(0x7000, DATA, 4096);
    rig.smmu.translate(SID, 0x7000, 'read');
    rig.cbWrite(0, R.CB_TTBR0_HI, 4 << 16);
    pt.unmap(0x7000);
    expect(rig.smmu.translate(SID, 0x7000, 'read').ok).toBe(false);
  });

  it('TLBIVMID invalidates a stage-2 bank by VMID', () => {
    const rig = makeRig({ model: 'mmu-401' });
    const pt = new LpaeTestTables({ memory: rig.core.memory, tableBase: TABLES, stage: 2, startLevel: 1, rootTables: 2 });
    programStage2(rig, 0, pt.root, 1, 40, 1);
    routeStream(rig, 0, 5, 0, 0);
    enableSmmu(rig, false);
    pt.map(0x3000, DATA, 4096, { read: true, write: true });
    rig.smmu.translate(5, 0x3000, 'read');
    rig.gr0Write(R.GR0_TLBIVMID, 2);
    rig.gr0Write(R.GR0_TLBGSYNC, 0);
    expect(rig.smmu.iotlb.size).toBe(1);
    rig.gr0Write(R.GR0_TLBIVMID, 1);
    rig.gr0Write(R.GR0_TLBGSYNC, 0);
    expect(rig.smmu.iotlb.size).toBe(0);
  });

  it('evicts the oldest entry when full: the evicted page is walked again', () => {
    const { rig, pt } = stage1Rig(4);
    for (let i = 0; i < 5; i++) pt.map(0x100000 + i * 4096, DATA + i * 4096, 4096);
    for (let i = 0; i < 5; i++) rig.smmu.translate(SID, 0x100000 + i * 4096, 'read');
    expect(rig.smmu.iotlb.size).toBe(4);
    expect(rig.smmu.iotlb.stats.evictions).toBe(1);
    // Unmapping without invalidation: the evicted page faults, the cached ones are still stale hits.
    for (let i = 0; i < 5; i++) pt.unmap(0x100000 + i * 4096);
    expect(rig.smmu.translate(SID, 0x100000 + 4 * 4096, 'read').ok).toBe(true);
    const walks = rig.smmu.counters.walks;
    expect(rig.smmu.translate(SID, 0x100000, 'read').ok).toBe(false);
    expect(rig.smmu.counters.walks).toBe(walks + 1);
  });

  it('a 2 MiB block is cached once and serves every page in it; TLBIVA anywhere inside removes it', () => {
    const { rig, pt } = stage1Rig();
    pt.map(0x40000000, 0x4000000, 2 * MiB);
    expect(rig.smmu.translate(SID, 0x40000000 + 0x12345, 'read')).toMatchObject({ ok: true, phys: 0x4000000 + 0x12345 });
    expect(rig.smmu.translate(SID, 0x40000000 + 0x1ff000, 'read', 16)).toEqual({ ok: true, phys: 0x4000000 + 0x1ff000, length: 16 });
    expect(rig.smmu.counters.walks).toBe(1);
    rig.cbWrite64(0, R.CB_TLBIVA, (0x40000000 + 0x5000) / 4096 + 3 * 2 ** 48);
    rig.cbWrite(0, R.CB_TLBSYNC, 0);
    expect(rig.smmu.iotlb.size).toBe(0);
  });
});
