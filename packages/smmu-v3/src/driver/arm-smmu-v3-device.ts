import type { PlatformDevice } from '@dmasim/bus';
import { ERANGE, ETIMEDOUT, ffs, ilog2, type KernelLog, type MmioBus, type PageAllocator, type PhysicalMemory } from '@dmasim/core';
import type { IommuDevice } from '@dmasim/iommu-core';
import { POW2 } from '../hw/commands';
import * as R from '../hw/regs';
import { hi32, lo32 } from '../words';
import { ArmSmmuCmdq, ArmSmmuCmdqBatch, cmdqEnt } from './cmdq';
import type { ArmSmmuCtxDesc, ArmSmmuMaster, ArmSmmuV3Domain } from './domain';
import type { ArmSmmuV3HwCfg } from './hw-probe';
import { ArmSmmuQueue, armSmmuInitOneQueue, writeq } from './queue';
import { armSmmuGetStepForSid, armSmmuInitStrtab, steAbortOrBypass, type ArmSmmuStrtabCfg } from './strtab';
import * as F from './types';

export interface ArmSmmuV3DeviceEnv {
  readonly mmio: MmioBus;
  readonly memory: PhysicalMemory;
  readonly pages: PageAllocator;
  readonly log: KernelLog;
}

/**
 * struct arm_smmu_device: one probed SMMUv3, its queues and stream table in memory, and the
 * register-level sequences the driver runs on it (reset, STE and CD updates with their syncs, TLB
 * invalidation through the command queue).
 */
export class ArmSmmuV3Device {
  iommu: IommuDevice | null = null;
  /** Stream id → master (the kernel's rb-tree of streams). */
  readonly streams = new Map<number, ArmSmmuMaster>();
  /** VMIDs in use (ida vmid_map). */
  readonly vmidMap = new Set<number>();
  readonly cmdq: ArmSmmuCmdq;
  readonly evtq: ArmSmmuQueue;
  strtabCfg: ArmSmmuStrtabCfg | null = null;
  /** `smmu3.%pa`: the name of the IOMMU in /sys/class/iommu. */
  readonly sysfsName: string;
  private readonly ste = new Uint32Array(16);
  private readonly batch: ArmSmmuCmdqBatch;
  private readonly inv = cmdqEnt(R.CMDQ_OP_TLBI_NH_VA);

  constructor(
    readonly dev: PlatformDevice,
    readonly base: number,
    readonly cfg: ArmSmmuV3HwCfg,
    private readonly env: ArmSmmuV3DeviceEnv,
    readonly disableBypass: boolean,
    /** Runs the driver's global error handler (the cmdq waits on it, see CmdqEnv). */
    handleGerror: () => void,
  ) {
    const page1 = base + R.PAGE1_OFFSET;
    const cmdq = new ArmSmmuQueue('cmdq', R.CMDQ_ENT_SIZE, base + R.CMDQ_PROD, base + R.CMDQ_CONS, cfg.cmdqMaxNShift);
    this.cmdq = new ArmSmmuCmdq(cmdq, {
      mmio: env.mmio,
      memory: env.memory,
      log: env.log,
      dev,
      msipoll: (cfg.options & F.ARM_SMMU_OPT_MSIPOLL) !== 0,
      handleGerror,
      gerrorActive: () => ((env.mmio.readl(base + R.GERROR) ^ env.mmio.readl(base + R.GERRORN)) & R.GERROR_ERR_MASK) !== 0,
    });
    this.evtq = new ArmSmmuQueue('evtq', R.EVTQ_ENT_SIZE, page1 + (R.EVTQ_PROD - R.PAGE1_OFFSET), page1 + (R.EVTQ_CONS - R.PAGE1_OFFSET), cfg.evtqMaxNShift);
    this.batch = new ArmSmmuCmdqBatch(this.cmdq);
    this.sysfsName = `smmu3.0x${base.toString(16).padStart(16, '0')}`;
  }

  /** The register pages the driver maps (devm_ioremap of page 0 and page 1), as /proc/iomem lists them. */
  get iomem(): { start: number; end: number; name: string }[] {
    return [0, R.PAGE1_OFFSET].map((off) => ({ start: this.base + off, end: this.base + off + R.REG_SZ - 1, name: this.dev.name }));
  }

  get name(): string {
    return this.dev.name;
  }

  get fwnode(): string {
    return this.dev.fwnode.name;
  }

  get memory(): PhysicalMemory {
    return this.env.memory;
  }

  /** A 32-bit register load / store at a physical address of this SMMU. */
  readReg(addr: number): number {
    return this.env.mmio.readl(addr) >>> 0;
  }

  writeReg(addr: number, value: number): void {
    this.env.mmio.writel(addr, value >>> 0);
  }

  has(feature: number): boolean {
    return (this.cfg.features & feature) !== 0;
  }

  // ---- set-up ------------------------------------------------------------------------------

  /** arm_smmu_init_structures: the queues (with their `allocated ... entries` lines), then the stream table. */
  initStructures(): number {
    const env = { log: this.env.log, dev: this.dev, pages: this.env.pages, memory: this.env.memory };
    let ret = armSmmuInitOneQueue(env, this.cmdq.q);
    if (ret !== 0) return ret;
    ret = armSmmuInitOneQueue(env, this.evtq);
    if (ret !== 0) return ret;
    const st = armSmmuInitStrtab(env, this.cfg.features, this.cfg.sidBits, !this.disableBypass);
    if (typeof st === 'number') return st;
    this.strtabCfg = st;
    return 0;
  }

  /** arm_smmu_write_reg_sync: write a register and wait for its ACK register to match. */
  writeRegSync(val: number, reg: number, ack: number): number {
    const mmio = this.env.mmio;
    mmio.writel(this.base + reg, val >>> 0);
    return mmio.readl(this.base + ack) >>> 0 === val >>> 0 ? 0 : -ETIMEDOUT;
  }

  /** arm_smmu_device_disable. */
  deviceDisable(): number {
    const ret = this.writeRegSync(0, R.CR0, R.CR0ACK);
    if (ret !== 0) this.env.log.devErr(this.dev, 'failed to clear cr0');
    return ret;
  }

  /** arm_smmu_update_gbpa: set and clear GBPA bits with the UPDATE handshake. */
  updateGbpa(set: number, clr: number): number {
    const mmio = this.env.mmio;
    const reg = (mmio.readl(this.base + R.GBPA) & ~clr) | set;
    mmio.writel(this.base + R.GBPA, (reg | R.GBPA_UPDATE) >>> 0);
    if ((mmio.readl(this.base + R.GBPA) & R.GBPA_UPDATE) !== 0) {
      this.env.log.devErr(this.dev, 'GBPA not responding to update');
      return -ETIMEDOUT;
    }
    return 0;
  }

  /**
   * arm_smmu_device_reset up to the interrupts: disable, program CR1/CR2, the stream table and the
   * command queue, enable it, invalidate cached configuration and TLBs, then program and enable
   * the event queue. `setupIrqs` runs next; `enable` finishes the reset.
   */
  resetQueues(): number {
    const { mmio, log } = this.env;
    const b = this.base;
    if ((mmio.readl(b + R.CR0) & R.CR0_SMMUEN) !== 0) {
      log.devWarn(this.dev, 'SMMU currently enabled! Resetting...');
      this.updateGbpa(R.GBPA_ABORT, 0);
    }
    let ret = this.deviceDisable();
    if (ret !== 0) return ret;
    const wb = R.CR1_CACHE_WB;
    mmio.writel(b + R.CR1, (R.SH_ISH << R.CR1_TABLE_SH_SHIFT) | (wb << R.CR1_TABLE_OC_SHIFT) | (wb << R.CR1_TABLE_IC_SHIFT) | (R.SH_ISH << R.CR1_QUEUE_SH_SHIFT) | (wb << R.CR1_QUEUE_OC_SHIFT) | (wb << R.CR1_QUEUE_IC_SHIFT));
    mmio.writel(b + R.CR2, R.CR2_PTM | R.CR2_RECINVSID);
    const st = this.strtabCfg!;
    writeq(mmio, b + R.STRTAB_BASE, st.baseLo, st.baseHi);
    mmio.writel(b + R.STRTAB_BASE_CFG, st.baseCfg);
    const cq = this.cmdq.q;
    writeq(mmio, b + R.CMDQ_BASE, cq.qBaseLo, cq.qBaseHi);
    mmio.writel(cq.prodReg, cq.llq.prod);
    mmio.writel(cq.consReg, cq.llq.cons);
    let enables = R.CR0_CMDQEN;
    ret = this.writeRegSync(enables, R.CR0, R.CR0ACK);
    if (ret !== 0) {
      log.devErr(this.dev, 'failed to enable command queue');
      return ret;
    }
    this.cmdq.issueCmdWithSync(cmdqEnt(R.CMDQ_OP_CFGI_ALL));
    if (this.has(F.ARM_SMMU_FEAT_HYP)) this.cmdq.issueCmd(cmdqEnt(R.CMDQ_OP_TLBI_EL2_ALL));
    this.cmdq.issueCmdWithSync(cmdqEnt(R.CMDQ_OP_TLBI_NSNH_ALL));
    const eq = this.evtq;
    writeq(mmio, b + R.EVTQ_BASE, eq.qBaseLo, eq.qBaseHi);
    mmio.writel(eq.prodReg, eq.llq.prod);
    mmio.writel(eq.consReg, eq.llq.cons);
    enables |= R.CR0_EVTQEN;
    ret = this.writeRegSync(enables, R.CR0, R.CR0ACK);
    if (ret !== 0) {
      log.devErr(this.dev, 'failed to enable event queue');
      return ret;
    }
    return 0;
  }

  /** The end of arm_smmu_device_reset: enable translation, or leave streams to GBPA's bypass. */
  enable(bypass: boolean): number {
    let enables = R.CR0_CMDQEN | R.CR0_EVTQEN;
    if (!bypass || this.disableBypass) {
      enables |= R.CR0_SMMUEN;
    } else {
      const ret = this.updateGbpa(0, R.GBPA_ABORT);
      if (ret !== 0) return ret;
    }
    const ret = this.writeRegSync(enables, R.CR0, R.CR0ACK);
    if (ret !== 0) this.env.log.devErr(this.dev, 'failed to enable SMMU interface');
    return ret;
  }

  // ---- stream table entries -------------------------------------------------------------------

  /** arm_smmu_sync_ste_for_sid: CFGI_STE (leaf) and a CMD_SYNC. */
  syncSteForSid(sid: number): void {
    this.cmdq.issueCmdWithSync(cmdqEnt(R.CMDQ_OP_CFGI_STE, { sid, leaf: true }));
  }

  /**
   * arm_smmu_write_strtab_ent: build the STE of `sid` for the master's domain (abort or bypass
   * without one) and install it: the other double words first, a sync, then dword 0 with V and CFG,
   * another sync, and a prefetch of the new configuration.
   */
  writeStrtabEnt(master: ArmSmmuMaster | null, sid: number): void {
    const memory = this.env.memory;
    const step = armSmmuGetStepForSid(this.strtabCfg!, sid);
    const domain = master?.domain ?? null;
    const s1 = domain?.stage === 's1' ? domain.s1Cfg : null;
    const s2 = domain?.stage === 's2' ? domain.s2Cfg : null;
    if (domain === null || (s1 === null && s2 === null)) {
      // no domain: abort when bypass is disabled; identity domains bypass, blocked ones abort
      const bypass = domain === null ? !this.disableBypass : domain.stage === 'bypass';
      const ste = steAbortOrBypass(bypass, this.ste);
      memory.writeU32(step, ste[0]!);
      memory.writeU32(step + 4, ste[1]!);
      for (let w = 2; w < 6; w++) memory.writeU32(step + w * 4, ste[w]!);
      // the SMMU may cache negative lookups, so sync whether or not the old entry was live
      this.syncSteForSid(sid);
      return;
    }
    const ste = this.ste.fill(0);
    let w0 = R.STE_0_V;
    let w1 = 0;
    if (s1 !== null) {
      ste[2] = R.STE_1_S1DSS_SSID0 | (1 << R.STE_1_S1CIR_SHIFT) | (1 << R.STE_1_S1COR_SHIFT) | (R.SH_ISH << R.STE_1_S1CSH_SHIFT) | (R.STE_1_STRW_NSEL1 << R.STE_1_STRW_SHIFT);
      if (this.has(F.ARM_SMMU_FEAT_STALLS)) ste[2] = (ste[2] | R.STE_1_S1STALLD) >>> 0;
      // the CD table is 64-byte aligned: CFG and S1FMT add into its low bits
      w0 = lo32(s1.cdtab) + (R.STE_0_CFG_S1_TRANS << R.STE_0_CFG_SHIFT) + (R.STE_0_S1FMT_LINEAR << R.STE_0_S1FMT_SHIFT) + R.STE_0_V;
      w1 = hi32(s1.cdtab) + s1.s1cdmax * 2 ** R.STE_0_S1CDMAX_HI_SHIFT;
    }
    if (s2 !== null) {
      ste[4] = s2.vmid;
      ste[5] = (s2.vtcr | R.STE_2_S2AA64_HI | R.STE_2_S2R_HI | R.STE_2_S2PTW_HI) >>> 0;
      ste[6] = lo32(s2.vttbr);
      ste[7] = hi32(s2.vttbr);
      w0 = R.STE_0_V | (R.STE_0_CFG_S2_TRANS << R.STE_0_CFG_SHIFT);
    }
    for (let w = 2; w < 16; w++) memory.writeU32(step + w * 4, ste[w]!);
    this.syncSteForSid(sid);
    // the valid half last: the SMMU must never see V=1 with the rest stale
    memory.writeU32(step + 4, w1);
    memory.writeU32(step, w0 >>> 0);
    this.syncSteForSid(sid);
    this.cmdq.issueCmd(cmdqEnt(R.CMDQ_OP_PREFETCH_CFG, { sid }));
  }

  /** arm_smmu_install_ste_for_dev: every stream of the master (a repeated id once). */
  installSteForDev(master: ArmSmmuMaster): void {
    const seen = new Set<number>();
    for (const sid of master.sids) {
      if (seen.has(sid)) continue;
      seen.add(sid);
      this.writeStrtabEnt(master, sid);
    }
  }

  // ---- context descriptors --------------------------------------------------------------------

  /** arm_smmu_sync_cd: CFGI_CD of substream `ssid` for every stream of every master of the domain, then a sync. */
  syncCd(domain: ArmSmmuV3Domain, ssid: number, leaf: boolean): void {
    const ent = cmdqEnt(R.CMDQ_OP_CFGI_CD, { ssid, leaf });
    for (const master of domain.devices) {
      for (const sid of master.sids) {
        ent.sid = sid;
        this.batch.add(ent);
      }
    }
    this.batch.submit();
  }

  /**
   * arm_smmu_write_ctx_desc: install `cd` for `ssid` (TTB0 and MAIR first, a sync, then dword 0 with
   * V and the ASID, another sync), or clear it (cd null).
   */
  writeCtxDesc(domain: ArmSmmuV3Domain, ssid: number, cd: ArmSmmuCtxDesc | null): number {
    const s1 = domain.s1Cfg;
    if (s1 === null || ssid >= 2 ** s1.s1cdmax) return -ERANGE;
    const memory = this.env.memory;
    const cdptr = s1.cdtab + ssid * R.CD_SIZE;
    let lo = 0;
    let hi = 0;
    if (cd !== null) {
      memory.writeU32(cdptr + 8, lo32(cd.ttbr));
      memory.writeU32(cdptr + 12, hi32(cd.ttbr));
      memory.writeU32(cdptr + 16, 0);
      memory.writeU32(cdptr + 20, 0);
      memory.writeU32(cdptr + 24, lo32(cd.mair));
      memory.writeU32(cdptr + 28, hi32(cd.mair));
      // the STE may be live and the SMMU may read the CD in any order: publish V last
      this.syncCd(domain, ssid, true);
      lo = (cd.tcrLo | R.CD_0_V) >>> 0;
      hi = (cd.tcrHi | R.CD_0_R_HI | R.CD_0_A_HI | R.CD_0_ASET_HI | R.CD_0_AA64_HI | (cd.asid << R.CD_0_ASID_HI_SHIFT)) >>> 0;
    }
    memory.writeU32(cdptr + 4, hi);
    memory.writeU32(cdptr, lo);
    this.syncCd(domain, ssid, true);
    return 0;
  }

  // ---- TLB maintenance ------------------------------------------------------------------------

  /** arm_smmu_tlb_inv_asid. */
  tlbInvAsid(asid: number): void {
    this.cmdq.issueCmdWithSync(cmdqEnt(R.CMDQ_OP_TLBI_NH_ASID, { asid }));
  }

  /** arm_smmu_tlb_inv_context: the whole ASID (stage 1) or VMID (stage 2). */
  tlbInvContext(domain: ArmSmmuV3Domain): void {
    if (domain.stage === 's1' && domain.s1Cfg !== null) this.tlbInvAsid(domain.s1Cfg.cd.asid);
    else if (domain.stage === 's2' && domain.s2Cfg !== null) this.cmdq.issueCmdWithSync(cmdqEnt(R.CMDQ_OP_TLBI_S12_VMALL, { vmid: domain.s2Cfg.vmid }));
  }

  /**
   * arm_smmu_tlb_inv_range_domain / __arm_smmu_tlb_inv_range: TLBI_NH_VA (stage 1) or TLBI_S2_IPA
   * (stage 2) commands covering [iova, iova+size), as ranges of NUM × 2^SCALE pages when the SMMU
   * has range invalidation (else one per granule), batched and followed by one CMD_SYNC.
   */
  /** The last page-size bitmap seen by tlbInvRangeDomain and its lowest bit (every unmap asks). */
  private tgBitmap = -1;
  private tgShift = 12;
  /** TTL of the last granule and leaf shift seen (recomputed only when they change). */
  private ttlGranule = 0;
  private ttlTg = 0;
  private ttl = 0;

  private leafShift(bitmap: number): number {
    this.tgBitmap = bitmap;
    this.tgShift = ffs(bitmap);
    return this.tgShift;
  }

  tlbInvRangeDomain(iova: number, size: number, granule: number, leaf: boolean, domain: ArmSmmuV3Domain): void {
    if (size === 0) return;
    const cmd = this.inv;
    cmd.leaf = leaf;
    cmd.num = 0;
    cmd.scale = 0;
    cmd.tg = 0;
    cmd.ttl = 0;
    if (domain.stage === 's1') {
      cmd.opcode = R.CMDQ_OP_TLBI_NH_VA;
      cmd.asid = domain.s1Cfg?.cd.asid ?? 0;
      cmd.vmid = 0;
    } else {
      cmd.opcode = R.CMDQ_OP_TLBI_S2_IPA;
      cmd.vmid = domain.s2Cfg?.vmid ?? 0;
    }
    const end = iova + size;
    let invRange = granule;
    let numPages = 0;
    let tg = 0;
    const range = this.has(F.ARM_SMMU_FEAT_RANGE_INV);
    if (range) {
      // the leaf page size: the domain's smallest
      tg = domain.pgsizeBitmap === this.tgBitmap ? this.tgShift : this.leafShift(domain.pgsizeBitmap);
      cmd.tg = (tg - 10) / 2;
      if (granule !== this.ttlGranule || tg !== this.ttlTg) {
        this.ttlGranule = granule;
        this.ttlTg = tg;
        // the level of the leaves being invalidated, from the granule's place in the walk
        this.ttl = 4 - Math.floor((ilog2(granule) - 3) / (tg - 3));
      }
      cmd.ttl = this.ttl;
      numPages = Math.floor(size / POW2[tg]!);
    }
    if (range && size === granule && granule === POW2[tg]!) {
      // one leaf page (every strict unmap of a 4 KiB mapping): one range command of one page
      cmd.num = 0;
      cmd.scale = 0;
      cmd.addr = iova;
      this.cmdq.issueCmdWithSync(cmd);
      return;
    }
    while (iova < end) {
      if (range) {
        if (numPages === 0) break;
        // up to 31 chunks of 2^scale pages, scale the lowest set bit of what is left
        const scale = ffs(numPages);
        cmd.scale = scale;
        const chunks = Math.floor(numPages / POW2[scale]!);
        const num = chunks - Math.floor(chunks / 32) * 32;
        cmd.num = num - 1;
        invRange = num * POW2[scale + tg]!;
        numPages -= num * POW2[scale]!;
      }
      cmd.addr = iova;
      this.batch.add(cmd);
      iova += invRange;
    }
    this.batch.submit();
  }
}
