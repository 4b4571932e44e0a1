import type { CpuCache, IrqLine, MmioBus, MmioHandler, MmioRegion, PhysicalMemory } from '@dmasim/core/standalone';
import { ContextBank } from './context-bank';
import { ASID_GLOBAL, Iotlb, PERM_PRIV_READ, PERM_PRIV_WRITE, PERM_UNPRIV_READ, PERM_UNPRIV_WRITE } from './iotlb';
import { encodeId0, encodeId1, encodeId2, resolveSmmuParams, type SmmuOptions, type SmmuParams } from './params';
import * as R from './regs';
import { LpaeWalker, type WalkFaultKind } from './walker';

export type SmmuAccess = 'read' | 'write';

export type SmmuFaultKind = WalkFaultKind | 'permission' | 'unidentified-stream' | 'stream-match-conflict' | 'invalid-context';

/** What the transaction saw when the SMMU refused it. */
export interface SmmuFault {
  readonly kind: SmmuFaultKind;
  /** Recorded in a context bank (FSR/FAR/FSYNR0) or in the global fault registers (sGFSR...). */
  readonly scope: 'context' | 'global';
  readonly streamId: number;
  readonly iova: number;
  readonly access: SmmuAccess;
  readonly contextBank: number | null;
  /** Table level of a translation-table fault. */
  readonly level: number | null;
  /**
   * `abort`: the client gets an error response (CFRE/GFRE set); `raz-wi`: the transaction
   * completes with reads of zero and writes ignored, as the architecture does when reporting is off.
   */
  readonly response: 'abort' | 'raz-wi';
}

/**
 * A translated transaction: `phys` is where `iova` goes, and `length` bytes from there are covered by
 * the same translation (at most the size asked for; up to the end of the page or block otherwise).
 */
export type SmmuTranslation = { readonly ok: true; readonly phys: number; readonly length: number } | { readonly ok: false; readonly fault: SmmuFault };

/**
 * The answer of `translateFast`, one object per SMMU overwritten by every call: `fault` is null when
 * the transaction was translated (then `phys` and `length` are as in SmmuTranslation).
 */
export interface SmmuFastTranslation {
  phys: number;
  length: number;
  fault: SmmuFault | null;
}

export interface SmmuCounters {
  translations: number;
  hits: number;
  misses: number;
  walks: number;
  walkReads: number;
  bypasses: number;
  faults: number;
  contextFaults: number;
  globalFaults: number;
  tlbInvalidations: number;
  tlbSyncs: number;
}

export interface SmmuHardwareOptions extends SmmuOptions {
  /** Name used for the MMIO region. */
  readonly name?: string;
  readonly memory: PhysicalMemory;
  /** Lets coherent table walks see dirty CPU cache lines; without it walks read memory. */
  readonly cache?: CpuCache;
  /** Global fault interrupt(s); the first is raised. */
  readonly globalIrqs?: readonly IrqLine[];
  /** Context interrupts, by IRPTNDX (SMMUv1) or context bank index (SMMUv2); may repeat a line. */
  readonly contextIrqs?: readonly IrqLine[];
}

const TWO_32 = 0x100000000;
const MATCH_UNKNOWN = -3;
const MATCH_CONFLICT = -2;
const MATCH_NONE = -1;
const S2CR_RESET = R.S2CR_TYPE_FAULT << R.S2CR_TYPE_SHIFT;

/** What a posted invalidation does when a sync completes it. */
const INV_VA = 0;
const INV_ASID = 1;
const INV_CONTEXT = 2;
const INV_VMID = 3;
const INV_ALL = 4;
/** `arg2` of an INV_VA that matches any ASID (TLBIVAA, TLBIIPAS2). */
const ANY_ASID = -1;

/**
 * Invalidations written but not yet completed by a sync, as parallel arrays (one TLBI register write
 * per unmapped page must not allocate): op kind, bank whose TLBSYNC completes it (-1 for a global,
 * TLBGSYNC operation) and up to two operands (address, ASID or VMID).
 */
class PendingInvalidations {
  kind: number[] = [];
  cb: number[] = [];
  arg1: number[] = [];
  arg2: number[] = [];
  length = 0;

  push(kind: number, cb: number, arg1: number, arg2: number): void {
    const n = this.length++;
    this.kind[n] = kind;
    this.cb[n] = cb;
    this.arg1[n] = arg1;
    this.arg2[n] = arg2;
  }
}

/**
 * An ARM SMMU (architecture v1/v2) as hardware: a register file on the MMIO bus, interrupt lines,
 * and a translation path for device DMA. A driver reaches it only through registers; devices reach
 * it through `translate`. Page tables are read from simulated memory by a table walker, and
 * translations are cached in an IOTLB that only TLB invalidation registers (followed by a sync)
 * clean.
 *
 * Model notes: TLB invalidations are posted and complete at the next TLBSYNC of their bank or the
 * next TLBGSYNC (TLBSTATUS/TLBGSTATUS never read as active). Device transactions are unprivileged
 * unless the S2CR's PRIVCFG forces privileged. Nested (S1+S2) banks are walked as stage 1 only.
 * sCR0 resets with CLIENTPD set, so an unprogrammed SMMU passes everything through.
 */
export class SmmuHardware implements MmioHandler {
  readonly params: SmmuParams;
  readonly name: string;
  readonly iotlb: Iotlb;
  readonly counters: SmmuCounters = {
    translations: 0, hits: 0, misses: 0, walks: 0, walkReads: 0, bypasses: 0,
    faults: 0, contextFaults: 0, globalFaults: 0, tlbInvalidations: 0, tlbSyncs: 0,
  };

  private readonly id0: number;
  private readonly id1: number;
  private readonly id2: number;
  private readonly gr0: Uint32Array;
  private readonly smr: Uint32Array;
  private readonly s2cr: Uint32Array;
  private readonly cbs: ContextBank[] = [];
  private readonly walker: LpaeWalker;
  private readonly globalIrqs: readonly IrqLine[];
  private readonly contextIrqs: readonly IrqLine[];
  /** Stream ID → matching SMR index (or MATCH_*), rebuilt lazily after any SMR write. */
  private readonly matchCache: Int32Array;
  private readonly sidMask: number;
  /**
   * The register page layout as shift and mask (register offsets are genuine 32-bit values, the
   * page size a power of two) and the first page of context banks: every register access decodes it.
   */
  private readonly pageShift: number;
  private readonly pageMask: number;
  private readonly cbFirstPage: number;
  private scr0 = R.SCR0_CLIENTPD;
  private readonly pending = new PendingInvalidations();
  /** What translateFast returns (a single object, so the data path allocates nothing). */
  private readonly result: SmmuFastTranslation = { phys: 0, length: 0, fault: null };

  constructor(options: SmmuHardwareOptions) {
    this.params = resolveSmmuParams(options);
    const p = this.params;
    this.name = options.name ?? `smmu-${p.model}`;
    this.id0 = encodeId0(p);
    this.id1 = encodeId1(p);
    this.id2 = encodeId2(p);
    this.gr0 = new Uint32Array(p.registerPageSize / 4);
    this.smr = new Uint32Array(p.numStreamMatchRegisters);
    this.s2cr = new Uint32Array(p.numStreamMatchRegisters).fill(S2CR_RESET);
    for (let i = 0; i < p.numContextBanks; i++) this.cbs.push(new ContextBank(i, p));
    this.iotlb = new Iotlb(p.iotlbEntries, p.numContextBanks);
    this.walker = new LpaeWalker(options.memory, options.cache, p.coherentWalk);
    this.globalIrqs = options.globalIrqs ?? [];
    this.contextIrqs = options.contextIrqs ?? [];
    this.sidMask = 2 ** p.streamIdBits - 1;
    this.matchCache = new Int32Array(this.sidMask + 1).fill(MATCH_UNKNOWN);
    this.pageShift = Math.log2(p.registerPageSize);
    this.pageMask = p.registerPageSize - 1;
    this.cbFirstPage = p.numPages;
  }

  /** Bytes of register space the SMMU decodes (map it with this size). */
  get size(): number {
    return this.params.regionSize;
  }

  /** Maps the register file on an MMIO bus at `base`. */
  mapInto(bus: MmioBus, base: number): MmioRegion {
    return bus.map(this.name, base, this.size, this);
  }

  // ---- Device side ------------------------------------------------------------------------------

  /** Translates one device transaction from stream `streamId` at `iova`. */
  translate(streamId: number, iova: number, access: SmmuAccess, size?: number): SmmuTranslation {
    const r = this.translateFast(streamId, iova, access, size);
    return r.fault === null ? { ok: true, phys: r.phys, length: r.length } : { ok: false, fault: r.fault };
  }

  /**
   * `translate` without an allocation per call, for DMA port adapters on the data path: the answer
   * is written to one result object owned by this SMMU and returned, valid until the next call.
   * Same effects as `translate` (counters, IOTLB fills, fault registers and interrupts).
   */
  translateFast(streamId: number, iova: number, access: SmmuAccess, size?: number): Readonly<SmmuFastTranslation> {
    const c = this.counters;
    c.translations++;
    if ((this.scr0 & R.SCR0_CLIENTPD) !== 0) return this.bypass(iova, size);
    const sid = streamId & this.sidMask;
    let m = this.matchCache[sid]!;
    if (m === MATCH_UNKNOWN) m = this.matchStream(sid);
    if (m < 0) {
      if (m === MATCH_CONFLICT) return this.globalFault(R.SGFSR_SMCF, 'stream-match-conflict', streamId, iova, access);
      if ((this.scr0 & R.SCR0_USFCFG) === 0) return this.bypass(iova, size);
      return this.globalFault(R.SGFSR_USF, 'unidentified-stream', streamId, iova, access);
    }
    const s2cr = this.s2cr[m]!;
    const type = (s2cr >>> R.S2CR_TYPE_SHIFT) & 3;
    if (type === R.S2CR_TYPE_BYPASS) return this.bypass(iova, size);
    if (type !== R.S2CR_TYPE_TRANS) return this.globalFault(R.SGFSR_USF, 'unidentified-stream', streamId, iova, access);
    const cbIndex = s2cr & R.S2CR_CBNDX_MASK;
    const cb = this.cbs[cbIndex];
    if (cb === undefined) return this.globalFault(R.SGFSR_UCBF, 'invalid-context', streamId, iova, access);
    if (!cb.enabled) return this.bypass(iova, size);
    const privileged = (s2cr >>> R.S2CR_PRIVCFG_SHIFT) === R.S2CR_PRIVCFG_PRIV;
    const need = access === 'write' ? (privileged ? PERM_PRIV_WRITE : PERM_UNPRIV_WRITE) : privileged ? PERM_PRIV_READ : PERM_UNPRIV_READ;

    const e = this.iotlb.lookup(cbIndex, iova);
    if (e !== undefined && e.vmid === cb.vmid && (e.asid === cb.asid || e.asid === ASID_GLOBAL)) {
      c.hits++;
      if ((e.perm & need) === 0) return this.contextFault(cb, R.FSR_PF, 'permission', e.level, streamId, iova, access);
      return this.translated(e.pa, iova - e.va, e.size, size);
    }
    c.misses++;
    const cfg = cb.walk;
    if (cfg === null) return this.contextFault(cb, R.FSR_TF, 'translation', 0, streamId, iova, access);
    c.walks++;
    const w = this.walker.walk(cfg, iova);
    c.walkReads += w.reads;
    if (!w.ok) {
      const bit = w.fault === 'translation' ? R.FSR_TF : w.fault === 'access-flag' ? R.FSR_AFF : w.fault === 'address-size' ? R.FSR_ASF : R.FSR_EF;
      return this.contextFault(cb, bit, w.fault, w.level, streamId, iova, access);
    }
    const asid = cb.stage === 1 && !w.global ? cb.asid : ASID_GLOBAL;
    const entry = this.iotlb.insert(cbIndex, asid, cb.vmid, iova, w.size, w.pa, w.perm, w.level);
    if ((entry.perm & need) === 0) return this.contextFault(cb, R.FSR_PF, 'permission', entry.level, streamId, iova, access);
    return this.translated(entry.pa, iova - entry.va, entry.size, size);
  }

  /**
   * Where a transaction from `streamId` would go now, without performing one (no counters, no
   * faults): through untranslated, into context bank `contextBank`, or refused. Reports ask this to
   * tell a master whose DMA silently bypasses the SMMU from one that is translated or blocked.
   */
  streamRoute(streamId: number): { readonly kind: 'bypass' } | { readonly kind: 'translate'; readonly contextBank: number } | { readonly kind: 'fault' } {
    if ((this.scr0 & R.SCR0_CLIENTPD) !== 0) return { kind: 'bypass' };
    const sid = streamId & this.sidMask;
    let m = this.matchCache[sid]!;
    if (m === MATCH_UNKNOWN) m = this.matchStream(sid);
    if (m === MATCH_CONFLICT) return { kind: 'fault' };
    if (m < 0) return (this.scr0 & R.SCR0_USFCFG) === 0 ? { kind: 'bypass' } : { kind: 'fault' };
    const s2cr = this.s2cr[m]!;
    const type = (s2cr >>> R.S2CR_TYPE_SHIFT) & 3;
    if (type === R.S2CR_TYPE_BYPASS) return { kind: 'bypass' };
    if (type !== R.S2CR_TYPE_TRANS) return { kind: 'fault' };
    const cbIndex = s2cr & R.S2CR_CBNDX_MASK;
    const cb = this.cbs[cbIndex];
    if (cb === undefined) return { kind: 'fault' };
    return cb.enabled ? { kind: 'translate', contextBank: cbIndex } : { kind: 'bypass' };
  }

  /** Fills the result for `off` bytes into a leaf of `leafSize` bytes at `pa`. */
  private translated(pa: number, off: number, leafSize: number, size: number | undefined): SmmuFastTranslation {
    const r = this.result;
    const left = leafSize - off;
    r.phys = pa + off;
    r.length = size === undefined || size > left ? left : size;
    r.fault = null;
    return r;
  }

  private bypass(iova: number, size: number | undefined): SmmuFastTranslation {
    this.counters.bypasses++;
    const r = this.result;
    r.phys = iova;
    r.length = size ?? 4096 - (iova % 4096);
    r.fault = null;
    return r;
  }

  private failed(fault: SmmuFault): SmmuFastTranslation {
    const r = this.result;
    r.phys = 0;
    r.length = 0;
    r.fault = fault;
    return r;
  }

  /** Finds the SMR matching a stream ID: ID bits compared except where MASK is set. */
  private matchStream(sid: number): number {
    let found = MATCH_NONE;
    for (let i = 0; i < this.smr.length; i++) {
      const v = this.smr[i]!;
      if ((v & R.SMR_VALID) === 0) continue;
      const id = v & 0x7fff;
      const mask = (v >>> R.SMR_MASK_SHIFT) & 0x7fff;
      if (((sid ^ id) & ~mask & this.sidMask) !== 0) continue;
      if (found !== MATCH_NONE) {
        found = MATCH_CONFLICT;
        break;
      }
      found = i;
    }
    this.matchCache[sid] = found;
    return found;
  }

  // ---- Faults and interrupts ---------------------------------------------------------------------

  private contextFault(cb: ContextBank, bit: number, kind: SmmuFaultKind, level: number, streamId: number, iova: number, access: SmmuAccess): SmmuFastTranslation {
    this.counters.faults++;
    this.counters.contextFaults++;
    const fsr = cb.reg(R.CB_FSR);
    if ((fsr & R.FSR_FAULT) !== 0) {
      // A fault is already outstanding: keep its syndrome and note that another happened.
      this.setCb(cb, R.CB_FSR, (fsr | R.FSR_MULTI) >>> 0);
    } else {
      this.setCb(cb, R.CB_FSR, (bit | (cb.fsrFormat << R.FSR_FORMAT_SHIFT)) >>> 0);
      const hi = Math.floor(iova / TWO_32);
      this.setCb(cb, R.CB_FAR_LO, iova - hi * TWO_32);
      this.setCb(cb, R.CB_FAR_HI, hi);
      this.setCb(cb, R.CB_FSYNR0, ((level & R.FSYNR0_PLVL_MASK) | (access === 'write' ? R.FSYNR0_WNR : 0)) >>> 0);
      cb.cbfrsynra = streamId & 0xffff;
    }
    this.updateIrqs();
    const fault: SmmuFault = {
      kind, scope: 'context', streamId, iova, access, contextBank: cb.index, level, response: cb.cfre ? 'abort' : 'raz-wi',
    };
    return this.failed(fault);
  }

  private globalFault(bit: number, kind: SmmuFaultKind, streamId: number, iova: number, access: SmmuAccess): SmmuFastTranslation {
    this.counters.faults++;
    this.counters.globalFaults++;
    const g = this.gr0;
    const gfsr = g[R.GR0_SGFSR / 4]!;
    if (gfsr !== 0) {
      g[R.GR0_SGFSR / 4] = (gfsr | R.SGFSR_MULTI) >>> 0;
    } else {
      g[R.GR0_SGFSR / 4] = bit >>> 0;
      const hi = Math.floor(iova / TWO_32);
      g[R.GR0_SGFAR_LO / 4] = iova - hi * TWO_32;
      g[R.GR0_SGFAR_HI / 4] = hi;
      g[R.GR0_SGFSYNR0 / 4] = access === 'write' ? R.SGFSYNR0_WNR : 0;
      g[R.GR0_SGFSYNR1 / 4] = streamId & 0xffff;
      g[R.GR0_SGFSYNR2 / 4] = 0;
    }
    this.updateIrqs();
    const fault: SmmuFault = {
      kind, scope: 'global', streamId, iova, access, contextBank: null, level: null,
      response: (this.scr0 & R.SCR0_GFRE) !== 0 ? 'abort' : 'raz-wi',
    };
    return this.failed(fault);
  }

  /** The context interrupt line of a bank, if it has one. */
  contextIrqOf(cbIndex: number): IrqLine | undefined {
    const cb = this.cbs[cbIndex];
    if (cb === undefined || this.contextIrqs.length === 0) return undefined;
    return this.contextIrqs[cb.irptndx % this.contextIrqs.length];
  }

  /** Drives every line from the fault state: raised while a reported fault is outstanding. */
  private updateIrqs(): void {
    const want = new Set<IrqLine>();
    const gl = this.globalIrqs[0];
    if (gl !== undefined && (this.scr0 & R.SCR0_GFIE) !== 0 && this.gr0[R.GR0_SGFSR / 4] !== 0) want.add(gl);
    for (const cb of this.cbs) {
      if (!cb.cfie || (cb.reg(R.CB_FSR) & R.FSR_FAULT) === 0) continue;
      const line = this.contextIrqOf(cb.index);
      if (line !== undefined) want.add(line);
    }
    for (const line of new Set([...this.globalIrqs, ...this.contextIrqs])) {
      if (want.has(line)) {
        if (!line.raised) line.raise();
      } else if (line.raised) {
        line.lower();
      }
    }
  }

  // ---- Register file -----------------------------------------------------------------------------

  read32(offset: number): number {
    const page = offset >>> this.pageShift;
    const off = offset & this.pageMask;
    if (page === 0) return this.readGr0(off);
    if (page === 1) return this.readGr1(off);
    const cb = this.cbs[page - this.cbFirstPage];
    // Pages past the last bank's, and the unimplemented ones of the first half, are RAZ/WI.
    return cb === undefined || page < this.cbFirstPage ? 0 : this.readCb(cb, off);
  }

  write32(offset: number, value: number): void {
    const v = value >>> 0;
    const page = offset >>> this.pageShift;
    const off = offset & this.pageMask;
    if (page === 0) this.writeGr0(off, v);
    else if (page === 1) this.writeGr1(off, v);
    else if (page >= this.cbFirstPage) {
      const cb = this.cbs[page - this.cbFirstPage];
      if (cb !== undefined) this.writeCb(cb, off, v);
    }
  }

  read64(offset: number): number {
    return this.read32(offset) + this.read32(offset + 4) * TWO_32;
  }

  /**
   * A 64-bit store, done high word first so that the TLB invalidation registers (which act on the
   * low-word write) see the whole value. Values of 2^53 and above cannot be passed as a number: a
   * driver writes those as two 32-bit stores, high first, as Linux's hi-lo accessors do.
   */
  write64(offset: number, value: number): void {
    const hi = Math.floor(value / TWO_32);
    this.write32(offset + 4, hi);
    this.write32(offset, value - hi * TWO_32);
  }

  private readGr0(off: number): number {
    switch (off) {
      case R.GR0_SCR0:
        return this.scr0 >>> 0;
      case R.GR0_ID0:
        return this.id0;
      case R.GR0_ID1:
        return this.id1;
      case R.GR0_ID2:
        return this.id2;
      case R.GR0_TLBGSTATUS:
        return 0; // invalidations complete at the sync itself
      default:
        break;
    }
    if (off >= R.GR0_SMR_BASE && off < R.GR0_S2CR_BASE) return this.smr[(off - R.GR0_SMR_BASE) / 4] ?? 0;
    if (off >= R.GR0_S2CR_BASE && off < R.GR0_S2CR_BASE + 0x400) return this.s2cr[(off - R.GR0_S2CR_BASE) / 4] ?? 0;
    if (off >= R.GR0_ID0 && off <= R.GR0_ID7) return 0;
    return this.gr0[off / 4] ?? 0;
  }

  private writeGr0(off: number, v: number): void {
    switch (off) {
      case R.GR0_SCR0:
        this.scr0 = v;
        this.updateIrqs();
        return;
      case R.GR0_SGFSR:
        this.gr0[off / 4] = (this.gr0[off / 4]! & ~v) >>> 0; // write one to clear
        this.updateIrqs();
        return;
      case R.GR0_SGFSRRESTORE:
        this.gr0[R.GR0_SGFSR / 4] = v;
        this.updateIrqs();
        return;
      case R.GR0_TLBIVMID: {
        this.post(INV_VMID, -1, v & 0xffff, 0);
        return;
      }
      case R.GR0_TLBIALLNSNH:
        this.post(INV_ALL, -1, 0, 0);
        return;
      case R.GR0_TLBIALLH:
        // Hypervisor-mode entries: this model has no hyp contexts, so nothing is cached for them.
        this.counters.tlbInvalidations++;
        return;
      case R.GR0_TLBGSYNC:
        this.sync(null);
        return;
      default:
        break;
    }
    if (off >= R.GR0_ID0 && off <= R.GR0_ID7) return; // read-only
    if (off === R.GR0_TLBGSTATUS) return;
    if (off >= R.GR0_SMR_BASE && off < R.GR0_S2CR_BASE) {
      const i = (off - R.GR0_SMR_BASE) / 4;
      if (i < this.smr.length) {
        this.smr[i] = v;
        this.matchCache.fill(MATCH_UNKNOWN);
      }
      return;
    }
    if (off >= R.GR0_S2CR_BASE && off < R.GR0_S2CR_BASE + 0x400) {
      const i = (off - R.GR0_S2CR_BASE) / 4;
      if (i < this.s2cr.length) this.s2cr[i] = v;
      return;
    }
    this.gr0[off / 4] = v;
  }

  private readGr1(off: number): number {
    const n = Math.floor(off / 4) % 256;
    const cb = this.cbs[n];
    if (cb === undefined) return 0;
    if (off < R.GR1_CBFRSYNRA_BASE) return cb.cbar;
    if (off < R.GR1_CBA2R_BASE) return cb.cbfrsynra;
    if (off < R.GR1_CBA2R_BASE + 0x400) return this.params.version === 2 ? cb.cba2r : 0;
    return 0;
  }

  private writeGr1(off: number, v: number): void {
    const n = Math.floor(off / 4) % 256;
    const cb = this.cbs[n];
    if (cb === undefined) return;
    if (off < R.GR1_CBFRSYNRA_BASE) {
      let cbar = v;
      const p = this.params;
      // Stage-2-only banks (and stage-2-only SMMUs) hold the S2 type whatever is written.
      if (n < p.numS2ContextBanks || !p.stage1) cbar = (cbar & ~(3 << R.CBAR_TYPE_SHIFT)) | (R.CBAR_TYPE_S2_TRANS << R.CBAR_TYPE_SHIFT);
      else if (!p.stage2 && ((cbar >>> R.CBAR_TYPE_SHIFT) & 3) === R.CBAR_TYPE_S2_TRANS) cbar |= R.CBAR_TYPE_S1_TRANS_S2_BYPASS << R.CBAR_TYPE_SHIFT;
      cb.cbar = cbar >>> 0;
      cb.decode();
      this.updateIrqs();
    } else if (off >= R.GR1_CBA2R_BASE && off < R.GR1_CBA2R_BASE + 0x400 && this.params.version === 2) {
      cb.cba2r = v;
      cb.decode();
    }
  }

  private readCb(cb: ContextBank, off: number): number {
    if (off === R.CB_TLBSTATUS) return 0;
    if (off >= R.CB_TLBIVA && off < R.CB_TLBSYNC) return 0; // write-only
    return cb.reg(off);
  }

  private setCb(cb: ContextBank, off: number, v: number): void {
    cb.regs[off / 4] = v;
  }

  private writeCb(cb: ContextBank, off: number, v: number): void {
    // The TLB maintenance page first: an unmap writes it once or twice per page.
    if (off >= R.CB_TLBIVA && off <= R.CB_TLBSTATUS) {
      this.writeCbTlb(cb, off, v);
      return;
    }
    switch (off) {
      case R.CB_FSR:
        this.setCb(cb, off, (cb.reg(off) & ~v) >>> 0); // write one to clear
        this.updateIrqs();
        return;
      case R.CB_FSRRESTORE:
        this.setCb(cb, R.CB_FSR, v);
        this.updateIrqs();
        return;
      case R.CB_RESUME:
        return; // stall mode is not modelled: faulting transactions are always terminated
      default:
        break;
    }
    this.setCb(cb, off, v);
    if (off === R.CB_SCTLR || off === R.CB_TCR || off === R.CB_TCR2 || off === R.CB_TTBR0_LO || off === R.CB_TTBR0_HI) {
      cb.decode();
      if (off === R.CB_SCTLR) this.updateIrqs();
    }
  }

  /** Writes to the bank's TLB maintenance registers (TLBIVA ... TLBSTATUS); other offsets there are WI. */
  private writeCbTlb(cb: ContextBank, off: number, v: number): void {
    switch (off) {
      case R.CB_TLBSYNC:
        this.sync(cb.index);
        return;
      case R.CB_TLBIVA + 4:
      case R.CB_TLBIVAA + 4:
      case R.CB_TLBIVAL + 4:
      case R.CB_TLBIVAAL + 4:
      case R.CB_TLBIIPAS2 + 4:
      case R.CB_TLBIIPAS2L + 4:
        cb.tlbiHigh = v;
        return;
      case R.CB_TLBIVA:
      case R.CB_TLBIVAL:
      case R.CB_TLBIVAA:
      case R.CB_TLBIVAAL:
        this.tlbiVa(cb, v, off === R.CB_TLBIVA || off === R.CB_TLBIVAL);
        return;
      case R.CB_TLBIIPAS2:
      case R.CB_TLBIIPAS2L: {
        const ipa = (v + (cb.tlbiHigh & 0xf) * TWO_32) * 4096;
        cb.tlbiHigh = 0;
        this.post(INV_VA, cb.index, ipa, ANY_ASID);
        return;
      }
      case R.CB_TLBIASID:
        this.post(INV_ASID, cb.index, v & 0xffff, 0);
        return;
      case R.CB_TLBIALL:
        this.post(INV_CONTEXT, cb.index, 0, 0);
        return;
      default:
        return; // TLBSTATUS and the gaps are read-only / write-ignored
    }
  }

  /** TLBIVA-family decode: AArch64 format is VA[55:12] + ASID[63:48]; AArch32 is VA[31:12] + ASID[7:0]. */
  private tlbiVa(cb: ContextBank, lo: number, byAsid: boolean): void {
    let va: number;
    let asid: number;
    if (cb.va64) {
      va = (lo + (cb.tlbiHigh & 0xfff) * TWO_32) * 4096;
      asid = cb.tlbiHigh >>> 16;
    } else {
      va = (lo >>> 12) * 4096;
      asid = lo & 0xff;
    }
    cb.tlbiHigh = 0;
    this.post(INV_VA, cb.index, va, byAsid ? asid : ANY_ASID);
  }

  private post(kind: number, cb: number, arg1: number, arg2: number): void {
    this.counters.tlbInvalidations++;
    this.pending.push(kind, cb, arg1, arg2);
  }

  /**
   * Completes posted invalidations, in the order they were written: a bank's own (cb given) or all
   * of them (TLBGSYNC). Those of other banks stay pending, in order.
   */
  private sync(cb: number | null): void {
    this.counters.tlbSyncs++;
    const p = this.pending;
    const n = p.length;
    if (n === 0) return;
    let kept = 0;
    for (let i = 0; i < n; i++) {
      const opCb = p.cb[i]!;
      if (cb === null || opCb === cb) {
        this.complete(p.kind[i]!, opCb, p.arg1[i]!, p.arg2[i]!);
      } else {
        p.kind[kept] = p.kind[i]!;
        p.cb[kept] = opCb;
        p.arg1[kept] = p.arg1[i]!;
        p.arg2[kept] = p.arg2[i]!;
        kept++;
      }
    }
    p.length = kept;
  }

  /** Applies one posted invalidation to the IOTLB. */
  private complete(kind: number, cb: number, arg1: number, arg2: number): void {
    switch (kind) {
      case INV_VA:
        this.iotlb.invalidateVa(cb, arg1, arg2 === ANY_ASID ? undefined : arg2);
        return;
      case INV_ASID:
        this.iotlb.invalidateAsid(cb, arg1);
        return;
      case INV_CONTEXT:
        this.iotlb.invalidateContext(cb);
        return;
      case INV_VMID:
        this.iotlb.invalidateVmid(arg1);
        return;
      case INV_ALL:
        this.iotlb.invalidateAll();
        return;
    }
  }

  // ---- Observation (tests, reports) -------------------------------------------------------------

  /** Invalidations written but not yet completed by a sync. */
  get pendingInvalidations(): number {
    return this.pending.length;
  }

  /** A context bank's decoded state (read-only view for reports). */
  contextBank(index: number): Readonly<ContextBank> | undefined {
    return this.cbs[index];
  }
}
