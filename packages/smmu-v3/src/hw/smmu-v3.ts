import type { CpuCache, IrqLine, MmioBus, MmioHandler, MmioRegion, PhysicalMemory } from '@dmasim/core';
import { ASID_GLOBAL, LpaeWalker, PERM_UNPRIV_READ, PERM_UNPRIV_WRITE } from '@dmasim/smmu/hw';
import { join64, qEmpty, qFull, qIdx, qInc, qOvf } from '../words';
import * as C from './commands';
import { encodeEvent, type EventFields } from './events';
import { encodeIdrs, resolveSmmuV3Params, type SmmuV3Options, type SmmuV3Params } from './params';
import * as R from './regs';
import { fetchStreamConfig, isConfigError, type StreamConfig, type StreamTableRegs } from './stream-config';
import { TlbContexts } from './tlb-contexts';

export type SmmuV3Access = 'read' | 'write';

export type SmmuV3FaultKind =
  | 'translation'
  | 'access-flag'
  | 'address-size'
  | 'permission'
  | 'walk-abort'
  | 'bad-streamid'
  | 'ste-fetch'
  | 'bad-ste'
  | 'cd-fetch'
  | 'bad-cd'
  /** The STE says abort (no event is recorded). */
  | 'ste-abort'
  /** The SMMU is disabled and GBPA says abort. */
  | 'gbpa-abort';

export interface SmmuV3Fault {
  readonly kind: SmmuV3FaultKind;
  readonly streamId: number;
  readonly iova: number;
  readonly access: SmmuV3Access;
  /** The event id recorded for it, or null when none was (STE abort, CD.R clear, queue disabled or full). */
  readonly eventId: number | null;
  /** `abort`: the master sees an error; `raz-wi`: reads return zero and writes are dropped (CD.A clear). */
  readonly response: 'abort' | 'raz-wi';
}

/** The answer of translateFast, one object per SMMU overwritten by every call (`fault` null: translated). */
export interface SmmuV3FastTranslation {
  phys: number;
  length: number;
  fault: SmmuV3Fault | null;
}

export type SmmuV3Translation = { readonly ok: true; readonly phys: number; readonly length: number } | { readonly ok: false; readonly fault: SmmuV3Fault };

export interface SmmuV3Counters {
  translations: number;
  hits: number;
  misses: number;
  walks: number;
  walkReads: number;
  bypasses: number;
  faults: number;
  events: number;
  eventsLost: number;
  configFetches: number;
  commands: number;
  syncs: number;
  tlbInvalidations: number;
  cfgInvalidations: number;
}

export interface SmmuV3HardwareOptions extends SmmuV3Options {
  readonly name?: string;
  readonly memory: PhysicalMemory;
  /** Lets coherent table walks see dirty CPU cache lines. */
  readonly cache?: CpuCache;
  /** Wired interrupts by their DT names; a line may be shared (`combined`). */
  readonly irqs?: { readonly eventq?: IrqLine; readonly gerror?: IrqLine; readonly priq?: IrqLine; readonly cmdqSync?: IrqLine };
}

const WALK_FAULT_EVENT: Readonly<Record<string, number>> = {
  translation: R.EVT_ID_TRANSLATION_FAULT,
  'access-flag': R.EVT_ID_ACCESS_FAULT,
  'address-size': R.EVT_ID_ADDR_SIZE_FAULT,
  external: R.EVT_ID_WALK_EABT,
};
const CONFIG_FAULT_KIND: Readonly<Record<number, SmmuV3FaultKind>> = {
  [R.EVT_ID_BAD_STREAMID]: 'bad-streamid',
  [R.EVT_ID_STE_FETCH]: 'ste-fetch',
  [R.EVT_ID_BAD_STE]: 'bad-ste',
  [R.EVT_ID_CD_FETCH]: 'cd-fetch',
  [R.EVT_ID_BAD_CD]: 'bad-cd',
};
/** Range invalidations longer than this many granules flush the whole context instead (allowed: a TLB may over-invalidate). */
const MAX_RANGE_STEPS = 512;

/**
 * An ARM SMMUv3 as hardware (QEMU's hw/arm/smmuv3.c counterpart): a register file on the MMIO bus,
 * a stream table, context descriptors and LPAE page tables read from simulated memory, a command
 * queue it consumes when the driver moves CMDQ_PROD, an event queue it fills, GERROR, and wired
 * interrupts. Devices reach it through `translate`.
 *
 * Model choices: commands are consumed at once when PROD is written (CONS catches up before the
 * write returns); invalidations (CFGI_*, TLBI_*) take effect at the next CMD_SYNC, so a driver that
 * forgets the sync keeps a stale STE, CD or TLB entry. STEs and CDs are cached per stream after the
 * first transaction (failed fetches are not cached). Queue and table accesses are coherent. Only
 * substream 0, linear CD tables, AArch64 tables with 4 KiB or 64 KiB granules, no stalls, ATS, PRI
 * or nesting.
 */
type CachedConfig = StreamConfig & { readonly ctx: number };

/** Stream id → cached configuration. */
class ConfigCache {
  private readonly small: (CachedConfig | undefined)[] = [];
  private readonly large = new Map<number, CachedConfig>();

  get(sid: number): CachedConfig | undefined {
    return sid < 0x10000 ? this.small[sid] : this.large.get(sid);
  }

  set(sid: number, cfg: CachedConfig): void {
    if (sid < 0x10000) {
      while (this.small.length < sid) this.small.push(undefined);
      this.small[sid] = cfg;
    } else this.large.set(sid, cfg);
  }

  delete(sid: number): void {
    if (sid < 0x10000) {
      if (sid < this.small.length) this.small[sid] = undefined;
    } else this.large.delete(sid);
  }

  clear(): void {
    this.small.length = 0;
    this.large.clear();
  }

  keys(): number[] {
    const out: number[] = [];
    this.small.forEach((c, sid) => {
      if (c !== undefined) out.push(sid);
    });
    return [...out, ...this.large.keys()];
  }
}

export class SmmuV3Hardware implements MmioHandler {
  readonly params: SmmuV3Params;
  readonly name: string;
  readonly counters: SmmuV3Counters = {
    translations: 0, hits: 0, misses: 0, walks: 0, walkReads: 0, bypasses: 0, faults: 0, events: 0,
    eventsLost: 0, configFetches: 0, commands: 0, syncs: 0, tlbInvalidations: 0, cfgInvalidations: 0,
  };
  readonly tlb: TlbContexts;

  private readonly memory: PhysicalMemory;
  private readonly idr: readonly number[];
  private readonly walker: LpaeWalker;
  private readonly irqs: NonNullable<SmmuV3HardwareOptions['irqs']>;
  private cr0 = 0;
  private cr1 = 0;
  private cr2 = 0;
  private gbpa = R.GBPA_RESET;
  private irqCtrl = 0;
  private gerror = 0;
  private gerrorn = 0;
  private strtabBaseLo = 0;
  private strtabBaseHi = 0;
  private strtabBaseCfg = 0;
  private cmdqBaseLo = 0;
  private cmdqBaseHi = 0;
  private cmdqProd = 0;
  private cmdqCons = 0;
  private evtqBaseLo = 0;
  private evtqBaseHi = 0;
  private evtqProd = 0;
  private evtqCons = 0;
  /** Registers the model only stores (IRQ_CFG*, PRIQ_BASE...), by offset. */
  private readonly plain = new Map<number, number>();
  /**
   * Decoded configuration per stream id, filled by the first transaction: an array for ids below
   * 2^16 (the look-up of every transaction), a map beyond.
   */
  private readonly configs = new ConfigCache();
  private readonly pending = new C.PendingWork();
  private readonly evtWords = new Uint32Array(8);
  private readonly cfgWords = new Uint32Array(8);
  private readonly result: SmmuV3FastTranslation = { phys: 0, length: 0, fault: null };
  private processing = false;

  constructor(options: SmmuV3HardwareOptions) {
    this.params = resolveSmmuV3Params(options);
    this.name = options.name ?? 'smmuv3';
    this.memory = options.memory;
    this.idr = encodeIdrs(this.params);
    this.walker = new LpaeWalker(options.memory, options.cache, this.params.coherent);
    this.irqs = options.irqs ?? {};
    this.tlb = new TlbContexts(this.params.iotlbEntries);
    this.tlb.onFlush = () => this.configs.clear();
  }

  /** Bytes of register space (two 64 KiB pages). */
  get size(): number {
    return R.REGION_SIZE;
  }

  mapInto(bus: MmioBus, base: number): MmioRegion {
    return bus.map(this.name, base, this.size, this);
  }

  /** Whether the SMMU translates (CR0.SMMUEN). */
  get enabled(): boolean {
    return (this.cr0 & R.CR0_SMMUEN) !== 0;
  }

  // ---- Device side ------------------------------------------------------------------------------

  translate(streamId: number, iova: number, access: SmmuV3Access, size?: number): SmmuV3Translation {
    const r = this.translateFast(streamId, iova, access, size);
    return r.fault === null ? { ok: true, phys: r.phys, length: r.length } : { ok: false, fault: r.fault };
  }

  /**
   * `translate` without an allocation per call (for DMA ports): the answer is written to one object
   * owned by the SMMU, valid until the next call. STE → CD → IOTLB → table walk → permission check;
   * a fault records its event (when the configuration asks for it) and raises the event interrupt.
   */
  translateFast(streamId: number, iova: number, access: SmmuV3Access, size?: number): Readonly<SmmuV3FastTranslation> {
    const c = this.counters;
    const r = this.result;
    c.translations++;
    if ((this.cr0 & R.CR0_SMMUEN) === 0) {
      if ((this.gbpa & R.GBPA_ABORT) !== 0) return this.fail(streamId, iova, access, 'gbpa-abort', null, true);
      return this.bypass(iova, size);
    }
    let cfg = this.configs.get(streamId);
    if (cfg === undefined) {
      c.configFetches++;
      const fetched = fetchStreamConfig(this.memory, this.streamTable(), streamId, this.params, this.cfgWords);
      if (isConfigError(fetched)) {
        const recorded = this.recordEvent({ id: fetched.eventId, sid: streamId, ...(fetched.fetchAddr !== 0 ? { addr2: fetched.fetchAddr } : {}) });
        return this.fail(streamId, iova, access, CONFIG_FAULT_KIND[fetched.eventId]!, recorded ? fetched.eventId : null, true);
      }
      const ctx = fetched.kind === 'translate' ? this.tlb.contextOf(TlbContexts.tagOf(fetched.stage, fetched.asid, fetched.vmid)) : -1;
      cfg = { ...fetched, ctx };
      this.configs.set(streamId, cfg);
    }
    if (cfg.kind === 'bypass') return this.bypass(iova, size);
    if (cfg.kind === 'abort') return this.fail(streamId, iova, access, 'ste-abort', null, true);
    const want = access === 'read' ? PERM_UNPRIV_READ : PERM_UNPRIV_WRITE;
    const e = this.tlb.iotlb.lookup(cfg.ctx, iova);
    let pa: number;
    let leafVa: number;
    let leafSize: number;
    let perm: number;
    if (e !== undefined) {
      c.hits++;
      pa = e.pa;
      leafVa = e.va;
      leafSize = e.size;
      perm = e.perm;
    } else {
      c.misses++;
      const walk = cfg.walk;
      if (walk === null) return this.translationFault(cfg, streamId, iova, access, R.EVT_ID_TRANSLATION_FAULT, 'translation');
      c.walks++;
      const w = this.walker.walk(walk, iova);
      c.walkReads += w.reads;
      if (!w.ok) {
        const kind = w.fault === 'external' ? 'walk-abort' : w.fault;
        return this.translationFault(cfg, streamId, iova, access, WALK_FAULT_EVENT[w.fault]!, kind);
      }
      const asid = cfg.stage === 1 && !w.global ? cfg.asid : ASID_GLOBAL;
      if (cfg.stage === 1 && w.global) this.tlb.globalsCached = true;
      const ins = this.tlb.iotlb.insert(cfg.ctx, asid, cfg.vmid, iova, w.size, w.pa, w.perm, w.level);
      pa = ins.pa;
      leafVa = ins.va;
      leafSize = ins.size;
      perm = ins.perm;
    }
    if ((perm & want) === 0) return this.translationFault(cfg, streamId, iova, access, R.EVT_ID_PERMISSION_FAULT, 'permission');
    const off = iova - leafVa;
    const left = leafSize - off;
    r.phys = pa + off;
    r.length = size !== undefined && size < left ? size : left;
    r.fault = null;
    return r;
  }

  private bypass(iova: number, size: number | undefined): SmmuV3FastTranslation {
    this.counters.bypasses++;
    const r = this.result;
    r.phys = iova;
    r.length = size ?? 1;
    r.fault = null;
    return r;
  }

  private translationFault(cfg: StreamConfig, sid: number, iova: number, access: SmmuV3Access, eventId: number, kind: SmmuV3FaultKind): SmmuV3FastTranslation {
    let recorded = false;
    if (cfg.record) {
      const s2 = cfg.stage === 2;
      recorded = this.recordEvent({ id: eventId, sid, addr: iova, read: access === 'read', stage2: s2, cls: R.EVT_CLASS_IN, ...(s2 ? { addr2: iova } : {}) });
    }
    return this.fail(sid, iova, access, kind, recorded ? eventId : null, cfg.abort);
  }

  private fail(streamId: number, iova: number, access: SmmuV3Access, kind: SmmuV3FaultKind, eventId: number | null, abort: boolean): SmmuV3FastTranslation {
    this.counters.faults++;
    const r = this.result;
    r.phys = 0;
    r.length = 0;
    r.fault = { kind, streamId, iova, access, eventId, response: abort ? 'abort' : 'raz-wi' };
    return r;
  }

  private streamTable(): StreamTableRegs {
    const cfg = this.strtabBaseCfg;
    return {
      base: join64((this.strtabBaseLo >>> 6) << 6, this.strtabBaseHi & 0xfffff),
      twoLevel: ((cfg >>> R.STRTAB_BASE_CFG_FMT_SHIFT) & 3) === R.STRTAB_BASE_CFG_FMT_2LVL,
      log2size: Math.min(cfg & R.STRTAB_BASE_CFG_LOG2SIZE_MASK, this.params.sidBits),
      split: (cfg >>> R.STRTAB_BASE_CFG_SPLIT_SHIFT) & 0x1f,
    };
  }

  // ---- Event queue ------------------------------------------------------------------------------

  private get evtqShift(): number {
    return Math.min(this.evtqBaseLo & R.Q_BASE_LOG2SIZE_MASK, this.params.evtqShift);
  }

  /** Writes an event record at EVTQ_PROD; false when it was not recorded (queue off, full or aborted). */
  private recordEvent(e: EventFields): boolean {
    if ((this.cr0 & R.CR0_EVTQEN) === 0) return false;
    const shift = this.evtqShift;
    if (qFull(this.evtqProd, this.evtqCons, shift)) {
      this.counters.eventsLost++;
      // the overflow flag toggles once per overflow the driver has not yet acknowledged
      if (qOvf(this.evtqProd) === qOvf(this.evtqCons)) this.evtqProd = (this.evtqProd ^ R.Q_OVERFLOW_FLAG) >>> 0;
      return false;
    }
    const base = join64((this.evtqBaseLo >>> 5) << 5, this.evtqBaseHi & 0xfffff);
    const addr = base + qIdx(this.evtqProd, shift) * R.EVTQ_ENT_SIZE;
    const words = encodeEvent(e, this.evtWords);
    for (let i = 0; i < 8; i++) {
      if (!this.memory.writeU32(addr + i * 4, words[i]!)) {
        this.raiseGerror(R.GERROR_EVTQ_ABT_ERR);
        return false;
      }
    }
    this.evtqProd = qInc(this.evtqProd, shift);
    this.counters.events++;
    if ((this.irqCtrl & R.IRQ_CTRL_EVTQ_IRQEN) !== 0) this.irqs.eventq?.raise();
    return true;
  }

  // ---- GERROR ----------------------------------------------------------------------------------

  /** Activates a global error (GERROR bit toggled away from GERRORN) and raises the gerror line. */
  private raiseGerror(bit: number): void {
    if (((this.gerror ^ this.gerrorn) & bit) !== 0) return;
    this.gerror = (this.gerror ^ bit) >>> 0;
    if ((this.irqCtrl & R.IRQ_CTRL_GERROR_IRQEN) !== 0) this.irqs.gerror?.raise();
  }

  private get gerrorActive(): number {
    return (this.gerror ^ this.gerrorn) & R.GERROR_ERR_MASK;
  }

  // ---- Command queue ---------------------------------------------------------------------------

  /** CMDQ_BASE decoded at each write of it: the address and log2 of the entries the SMMU uses. */
  private cmdqBase = 0;
  private cmdqShift = 0;

  private decodeCmdqBase(): void {
    this.cmdqBase = join64((this.cmdqBaseLo >>> 5) << 5, this.cmdqBaseHi & 0xfffff);
    this.cmdqShift = Math.min(this.cmdqBaseLo & R.Q_BASE_LOG2SIZE_MASK, this.params.cmdqShift);
  }

  /** Consumes commands from CONS up to PROD, stopping at an erroneous one (CONS.ERR, GERROR.CMDQ_ERR). */
  private processCommands(): void {
    if (this.processing || (this.cr0 & R.CR0_CMDQEN) === 0 || ((this.gerror ^ this.gerrorn) & R.GERROR_CMDQ_ERR) !== 0) return;
    this.processing = true;
    const shift = this.cmdqShift;
    const base = this.cmdqBase;
    const memory = this.memory;
    const mask = (1 << shift) - 1;
    while (!qEmpty(this.cmdqProd, this.cmdqCons, shift)) {
      const addr = base + (this.cmdqCons & mask) * R.CMDQ_ENT_SIZE;
      const w0 = memory.readU32(addr);
      const w1 = memory.readU32(addr + 4);
      const w2 = memory.readU32(addr + 8);
      const w3 = memory.readU32(addr + 12);
      let err: number;
      if (w0 < 0 || w1 < 0 || w2 < 0 || w3 < 0) {
        err = R.CMDQ_ERR_CERROR_ABT_IDX;
      } else {
        err = this.execute(w0, w1, w2, w3);
      }
      if (err !== R.CMDQ_ERR_CERROR_NONE_IDX) {
        this.cmdqCons = ((this.cmdqCons & ~(R.CMDQ_CONS_ERR_MASK << R.CMDQ_CONS_ERR_SHIFT)) | (err << R.CMDQ_CONS_ERR_SHIFT)) >>> 0;
        this.raiseGerror(R.GERROR_CMDQ_ERR);
        break;
      }
      this.counters.commands++;
      this.cmdqCons = qInc(this.cmdqCons, shift);
    }
    this.processing = false;
  }

  /**
   * Executes one command given as its four words; returns a CMDQ_ERR_CERROR_* index. Fields are
   * taken from the words per opcode (the architecture's layout, see regs.ts): this runs once per
   * TLBI and CMD_SYNC of every strict unmap.
   */
  private execute(w0: number, w1: number, w2: number, w3: number): number {
    const p = this.pending;
    switch (w0 & 0xff) {
      case R.CMDQ_OP_PREFETCH_CFG:
        return 0;
      case R.CMDQ_OP_CFGI_STE:
      case R.CMDQ_OP_CFGI_CD:
      case R.CMDQ_OP_CFGI_CD_ALL:
        p.push(C.PEND_CFG_SID, w1 >>> 0, 0, 0);
        return 0;
      case R.CMDQ_OP_CFGI_ALL: {
        // CFGI_STE_RANGE: 2^(RANGE+1) stream ids from SID's aligned base; RANGE 31 is every one
        const range = w2 & R.CMDQ_CFGI_1_RANGE_MASK;
        if (range === 31) p.push(C.PEND_CFG_ALL, 0, 0, 0);
        else p.push(C.PEND_CFG_RANGE, w1 >>> 0, 0, C.POW2[range + 1]!);
        return 0;
      }
      case R.CMDQ_OP_TLBI_NH_ALL:
        p.push(C.PEND_TLBI_NH_ALL, 0, 0, 0);
        return 0;
      case R.CMDQ_OP_TLBI_NH_ASID:
        p.push(C.PEND_TLBI_ASID, w1 >>> R.CMDQ_TLBI_0_ASID_HI_SHIFT, 0, 0);
        return 0;
      case R.CMDQ_OP_TLBI_NH_VA:
        if (((w2 >>> R.CMDQ_TLBI_1_TG_SHIFT) & 3) !== 0 && !this.params.rangeInvalidation) return R.CMDQ_ERR_CERROR_ILL_IDX;
        p.push(C.PEND_TLBI_VA, w1 >>> R.CMDQ_TLBI_0_ASID_HI_SHIFT, C.tlbiAddr(w2, w3), C.tlbiRangeBytes(w0, w2));
        return 0;
      case R.CMDQ_OP_TLBI_NH_VAA:
        p.push(C.PEND_TLBI_VAA, 0, C.tlbiAddr(w2, w3), C.tlbiRangeBytes(w0, w2));
        return 0;
      case R.CMDQ_OP_TLBI_EL2_ALL:
      case R.CMDQ_OP_TLBI_EL2_ASID:
      case R.CMDQ_OP_TLBI_EL2_VA:
        // no EL2 regime is modelled, so a legal EL2 invalidation has nothing to drop
        return this.params.hyp ? 0 : R.CMDQ_ERR_CERROR_ILL_IDX;
      case R.CMDQ_OP_TLBI_S12_VMALL:
        if (!this.params.stage2) return R.CMDQ_ERR_CERROR_ILL_IDX;
        p.push(C.PEND_TLBI_VMID, w1 & 0xffff, 0, 0);
        return 0;
      case R.CMDQ_OP_TLBI_S2_IPA:
        if (!this.params.stage2) return R.CMDQ_ERR_CERROR_ILL_IDX;
        p.push(C.PEND_TLBI_IPA, w1 & 0xffff, C.tlbiAddr(w2, w3), C.tlbiRangeBytes(w0, w2));
        return 0;
      case R.CMDQ_OP_TLBI_NSNH_ALL:
        p.push(C.PEND_TLBI_ALL, 0, 0, 0);
        return 0;
      case R.CMDQ_OP_CMD_SYNC: {
        if (p.length !== 0) this.completePending();
        this.counters.syncs++;
        // CS = IRQ with an MSI address: write MSIDATA there (MSIADDR is bits [51:2] of dword 1)
        if (((w0 >>> R.CMDQ_SYNC_0_CS_SHIFT) & 3) === R.CMDQ_SYNC_0_CS_IRQ && this.params.msi) {
          const addr = join64((w2 >>> 2) << 2, w3 & 0xfffff);
          if (addr !== 0) this.memory.writeU32(addr, w1);
        }
        return 0;
      }
      default:
        // ATC_INV, PRI_RESP, RESUME, STALL_TERM need ATS, PRI or stalls, which this SMMU lacks
        return R.CMDQ_ERR_CERROR_ILL_IDX;
    }
  }

  /** CMD_SYNC: every invalidation consumed before it takes effect. */
  private completePending(): void {
    const p = this.pending;
    const tlb = this.tlb;
    const iotlb = tlb.iotlb;
    for (let i = 0; i < p.length; i++) {
      const a = p.a[i]!;
      switch (p.kind[i]) {
        case C.PEND_CFG_SID:
          this.counters.cfgInvalidations++;
          this.configs.delete(a);
          break;
        case C.PEND_CFG_RANGE: {
          this.counters.cfgInvalidations++;
          const len = p.len[i]!;
          const first = Math.floor(a / len) * len;
          for (const sid of this.configs.keys()) if (sid >= first && sid < first + len) this.configs.delete(sid);
          break;
        }
        case C.PEND_CFG_ALL:
          this.counters.cfgInvalidations++;
          this.configs.clear();
          break;
        case C.PEND_TLBI_ASID: {
          this.counters.tlbInvalidations++;
          const ctx = tlb.existing(TlbContexts.tagOf(1, a, 0));
          if (ctx !== undefined) iotlb.invalidateAsid(ctx, a);
          break;
        }
        case C.PEND_TLBI_VA:
          this.counters.tlbInvalidations++;
          this.invalidateRange(tlb.existing(TlbContexts.tagOf(1, a, 0)), a, p.addr[i]!, p.len[i]!, true);
          break;
        case C.PEND_TLBI_VAA:
          this.counters.tlbInvalidations++;
          for (const ctx of tlb.stage1) this.invalidateRange(ctx, undefined, p.addr[i]!, p.len[i]!, false);
          break;
        case C.PEND_TLBI_NH_ALL:
          this.counters.tlbInvalidations++;
          for (const ctx of tlb.stage1) iotlb.invalidateContext(ctx);
          break;
        case C.PEND_TLBI_VMID:
          this.counters.tlbInvalidations++;
          iotlb.invalidateVmid(a);
          break;
        case C.PEND_TLBI_IPA:
          this.counters.tlbInvalidations++;
          this.invalidateRange(tlb.existing(TlbContexts.tagOf(2, 0, a)), undefined, p.addr[i]!, p.len[i]!, false);
          break;
        case C.PEND_TLBI_ALL:
          this.counters.tlbInvalidations++;
          iotlb.invalidateAll();
          tlb.globalsCached = false;
          break;
      }
    }
    p.length = 0;
  }

  /**
   * Drops the entries of context `ctx` covering [addr, addr+len) (len 0: the one address). With an
   * ASID, global entries of that address in other stage-1 contexts go too, as the architecture's
   * by-VA invalidation matches global entries whatever their ASID.
   */
  private invalidateRange(ctx: number | undefined, asid: number | undefined, addr: number, len: number, alsoGlobals: boolean): void {
    const iotlb = this.tlb.iotlb;
    const step = 4096;
    const steps = len === 0 ? 1 : Math.ceil(len / step);
    if (alsoGlobals && this.tlb.globalsCached) {
      for (const other of this.tlb.stage1) if (other !== ctx) this.invalidateSteps(other, -2, addr, steps, step);
    }
    if (ctx === undefined) return;
    if (steps > MAX_RANGE_STEPS) {
      iotlb.invalidateContext(ctx);
      return;
    }
    this.invalidateSteps(ctx, asid, addr, steps, step);
  }

  private invalidateSteps(ctx: number, asid: number | undefined, addr: number, steps: number, step: number): void {
    const iotlb = this.tlb.iotlb;
    if (steps > MAX_RANGE_STEPS) {
      // too long to walk: drop what could match (over-invalidation is allowed)
      if (asid === undefined) iotlb.invalidateContext(ctx);
      else iotlb.invalidateAsid(ctx, ASID_GLOBAL);
      return;
    }
    for (let s = 0; s < steps; s++) iotlb.invalidateVa(ctx, addr + s * step, asid);
  }

  // ---- Register file ---------------------------------------------------------------------------

  read32(offset: number): number {
    switch (offset) {
      case R.IDR0:
      case R.IDR1:
      case R.IDR2:
      case R.IDR3:
      case R.IDR4:
      case R.IDR5:
        return this.idr[offset / 4]!;
      case R.IIDR:
        return 0;
      case R.AIDR:
        // SMMUv3.1
        return 0x1;
      case R.CR0:
      case R.CR0ACK:
        return this.cr0;
      case R.CR1:
        return this.cr1;
      case R.CR2:
        return this.cr2;
      case R.GBPA:
        return this.gbpa;
      case R.IRQ_CTRL:
      case R.IRQ_CTRLACK:
        return this.irqCtrl;
      case R.GERROR:
        return this.gerror;
      case R.GERRORN:
        return this.gerrorn;
      case R.STRTAB_BASE:
        return this.strtabBaseLo;
      case R.STRTAB_BASE + 4:
        return this.strtabBaseHi;
      case R.STRTAB_BASE_CFG:
        return this.strtabBaseCfg;
      case R.CMDQ_BASE:
        return this.cmdqBaseLo;
      case R.CMDQ_BASE + 4:
        return this.cmdqBaseHi;
      case R.CMDQ_PROD:
        return this.cmdqProd;
      case R.CMDQ_CONS:
        return this.cmdqCons;
      case R.EVTQ_BASE:
        return this.evtqBaseLo;
      case R.EVTQ_BASE + 4:
        return this.evtqBaseHi;
      case R.EVTQ_PROD:
        return this.evtqProd;
      case R.EVTQ_CONS:
        return this.evtqCons;
      default:
        return this.plain.get(offset) ?? 0;
    }
  }

  write32(offset: number, value: number): void {
    const v = value >>> 0;
    switch (offset) {
      case R.CR0:
        this.cr0 = v & (R.CR0_SMMUEN | R.CR0_EVTQEN | R.CR0_CMDQEN | R.CR0_PRIQEN | R.CR0_ATSCHK);
        this.processCommands();
        return;
      case R.CR1:
        this.cr1 = v;
        return;
      case R.CR2:
        this.cr2 = v;
        return;
      case R.GBPA:
        // a write takes effect only with UPDATE set, which then reads back clear
        if ((v & R.GBPA_UPDATE) !== 0) this.gbpa = (v & ~R.GBPA_UPDATE) >>> 0;
        return;
      case R.IRQ_CTRL:
        this.irqCtrl = v & (R.IRQ_CTRL_EVTQ_IRQEN | R.IRQ_CTRL_PRIQ_IRQEN | R.IRQ_CTRL_GERROR_IRQEN);
        return;
      case R.GERRORN: {
        const wasCmdqErr = (this.gerrorActive & R.GERROR_CMDQ_ERR) !== 0;
        this.gerrorn = v;
        if (this.gerrorActive === 0) this.irqs.gerror?.lower();
        if (wasCmdqErr && (this.gerrorActive & R.GERROR_CMDQ_ERR) === 0) {
          this.cmdqCons = (this.cmdqCons & ~(R.CMDQ_CONS_ERR_MASK << R.CMDQ_CONS_ERR_SHIFT)) >>> 0;
          this.processCommands();
        }
        return;
      }
      case R.STRTAB_BASE:
        this.strtabBaseLo = v;
        return;
      case R.STRTAB_BASE + 4:
        this.strtabBaseHi = v;
        return;
      case R.STRTAB_BASE_CFG:
        this.strtabBaseCfg = v;
        return;
      case R.CMDQ_BASE:
        this.cmdqBaseLo = v;
        this.decodeCmdqBase();
        return;
      case R.CMDQ_BASE + 4:
        this.cmdqBaseHi = v;
        this.decodeCmdqBase();
        return;
      case R.CMDQ_PROD:
        this.cmdqProd = v & ((2 << this.cmdqShift) - 1);
        this.processCommands();
        return;
      case R.CMDQ_CONS:
        // writable only while the queue is disabled (the driver's reset value)
        if ((this.cr0 & R.CR0_CMDQEN) === 0) this.cmdqCons = v;
        return;
      case R.EVTQ_BASE:
        this.evtqBaseLo = v;
        return;
      case R.EVTQ_BASE + 4:
        this.evtqBaseHi = v;
        return;
      case R.EVTQ_PROD:
        if ((this.cr0 & R.CR0_EVTQEN) === 0) this.evtqProd = v;
        return;
      case R.EVTQ_CONS:
        this.evtqCons = v;
        if (qEmpty(this.evtqProd, this.evtqCons, this.evtqShift)) this.irqs.eventq?.lower();
        return;
      case R.CR0ACK:
      case R.IRQ_CTRLACK:
      case R.GERROR:
        // read-only
        return;
      default:
        // ID registers are read-only; the rest (IRQ_CFG*, PRIQ_*) are only stored
        if (offset > R.AIDR) this.plain.set(offset, v);
    }
  }

  // ---- Views for tests and reports -------------------------------------------------------------

  /** Entries the IOTLB holds. */
  get iotlbEntries(): number {
    return this.tlb.iotlb.size;
  }

  /** Stream ids whose configuration is cached. */
  cachedStreams(): number[] {
    return [...this.configs.keys()].sort((a, b) => a - b);
  }

  /** The 64-bit queue base registers, as safe integers (addresses only). */
  queueBases(): { strtab: number; cmdq: number; evtq: number } {
    return {
      strtab: join64((this.strtabBaseLo >>> 6) << 6, this.strtabBaseHi & 0xfffff),
      cmdq: join64((this.cmdqBaseLo >>> 5) << 5, this.cmdqBaseHi & 0xfffff),
      evtq: join64((this.evtqBaseLo >>> 5) << 5, this.evtqBaseHi & 0xfffff),
    };
  }
}
