import type { MmuMaster, PlatformDevice } from '@dmasim/bus';
import type { IrqLine, KernelLog } from '@dmasim/core';
import { ENOSPC } from '@dmasim/core';
import type { IommuDevice } from '@dmasim/iommu-core';
import * as R from '../hw/regs';
import type { ArmSmmuConfig } from './cfg-probe';
import { armSmmuTlbSyncGlobal, armSmmuWriteContextBank, type ArmSmmuCb } from './context';
import type { SmmuRegs } from './smmu-regs';
import type { StreamMap } from './stream-map';
import type { ArmSmmuArchVersion, ArmSmmuImplementation } from './types';

/** sCR0.BSU: barrier shareability upgrade (bits 15:14). */
const SCR0_BSU = 3 << 14;

/**
 * struct arm_smmu_device: one probed SMMU instance as the driver knows it. Everything here was
 * learnt from the ID registers or is the driver's shadow of registers it programs.
 */
export class ArmSmmuDevice {
  /** context_map: which banks are taken. */
  readonly contextMap: Uint8Array;
  /** The register values of each assigned bank (smmu->cbs[].cfg), null when unassigned. */
  readonly cbs: (ArmSmmuCb | null)[];
  /** The SMMUv1 round-robin counter for context interrupts (smmu->irptndx). */
  irptndx = 0;
  /** Writable SMR ID / MASK bits, found by arm_smmu_test_smr_masks. */
  streamidMask: number;
  smrMaskMask = 0;
  iommu: IommuDevice | null = null;
  /** Masters the legacy `mmu-masters` property lists on this SMMU's node. */
  readonly legacyMasters: readonly MmuMaster[];

  constructor(
    readonly dev: PlatformDevice,
    readonly regs: SmmuRegs,
    readonly log: KernelLog,
    readonly version: ArmSmmuArchVersion,
    readonly model: ArmSmmuImplementation,
    readonly cfg: ArmSmmuConfig,
    readonly streamMap: StreamMap,
    /** Global interrupts first, then context interrupts (smmu->irqs). */
    readonly irqs: readonly IrqLine[],
    readonly numGlobalIrqs: number,
    public numContextIrqs: number,
    readonly disableBypass: boolean,
  ) {
    this.contextMap = new Uint8Array(cfg.numContextBanks);
    this.cbs = new Array<ArmSmmuCb | null>(cfg.numContextBanks).fill(null);
    this.streamidMask = cfg.streamidMask;
    this.legacyMasters = dev.fwnode.get('mmu-masters') ?? [];
  }

  get name(): string {
    return this.dev.name;
  }

  /** Firmware node name: what `iommus` phandles and fwspecs name. */
  get fwnode(): string {
    return this.dev.fwnode.name;
  }

  get v2(): boolean {
    return this.version === 'v2';
  }

  get numContextBanks(): number {
    return this.cfg.numContextBanks;
  }

  /** Context banks in use. */
  get contextBanksUsed(): number {
    let n = 0;
    for (const b of this.contextMap) n += b;
    return n;
  }

  /** __arm_smmu_alloc_bitmap over the context banks: the first free index in [start, end) or -ENOSPC. */
  allocContextBank(start: number): number {
    for (let i = start; i < this.contextMap.length; i++) {
      if (this.contextMap[i] === 0) {
        this.contextMap[i] = 1;
        return i;
      }
    }
    return -ENOSPC;
  }

  freeContextBank(idx: number): void {
    if (idx >= 0 && idx < this.contextMap.length) this.contextMap[idx] = 0;
  }

  /** The legacy `mmu-masters` entry naming the device's firmware node, if any. */
  legacyMasterFor(nodeName: string): MmuMaster | undefined {
    return this.legacyMasters.find((m) => m.node === nodeName);
  }

  tlbSyncTimedOut(): void {
    this.log.ratelimited(`arm-smmu ${this.name} tlb sync`, 'err', `${this.prefix}TLB sync timed out -- SMMU may be deadlocked`);
  }

  /** dev_printk prefix of the SMMU device. */
  get prefix(): string {
    return `${this.dev.driverName ?? this.dev.busName ?? 'arm-smmu'} ${this.dev.name}: `;
  }

  /**
   * arm_smmu_device_reset: clear global faults, rewrite every stream map entry and context bank,
   * invalidate the TLBs, then enable the SMMU with fault reporting on and unmatched streams
   * bypassing or faulting as disable_bypass says.
   */
  reset(): void {
    const regs = this.regs;
    regs.gr0Write(R.GR0_SGFSR, regs.gr0Read(R.GR0_SGFSR));
    for (let i = 0; i < this.streamMap.size; i++) this.streamMap.writeSme(i);
    for (let i = 0; i < this.numContextBanks; i++) {
      armSmmuWriteContextBank(regs, this.v2, i, this.cbs[i] ?? null);
      regs.cbWrite(i, R.CB_FSR, R.FSR_FAULT);
    }
    regs.gr0Write(R.GR0_TLBIALLH, 0);
    regs.gr0Write(R.GR0_TLBIALLNSNH, 0);
    let reg = regs.gr0Read(R.GR0_SCR0);
    reg |= R.SCR0_GFRE | R.SCR0_GFIE | R.SCR0_GCFGFRE | R.SCR0_GCFGFIE;
    reg |= R.SCR0_VMIDPNE | R.SCR0_PTM;
    reg &= ~R.SCR0_CLIENTPD;
    if (this.disableBypass) reg |= R.SCR0_USFCFG;
    else reg &= ~R.SCR0_USFCFG;
    reg &= ~R.SCR0_FB;
    reg &= ~SCR0_BSU;
    armSmmuTlbSyncGlobal(regs, () => this.tlbSyncTimedOut());
    regs.gr0Write(R.GR0_SCR0, reg >>> 0);
  }

  /** arm_smmu_test_smr_masks: which SMR ID and MASK bits the hardware really implements. */
  testSmrMasks(): void {
    if (this.streamMap.smrs === null) return;
    const regs = this.regs;
    regs.gr0Write(R.gr0Smr(0), this.streamidMask & R.SMR_ID_MASK);
    this.streamidMask = regs.gr0Read(R.gr0Smr(0)) & R.SMR_ID_MASK;
    regs.gr0Write(R.gr0Smr(0), (this.streamidMask << R.SMR_MASK_SHIFT) >>> 0);
    this.smrMaskMask = (regs.gr0Read(R.gr0Smr(0)) >>> R.SMR_MASK_SHIFT) & R.SMR_ID_MASK;
  }

  /** Turn the thing off (remove/shutdown): all traffic passes through untranslated. */
  disable(): void {
    this.regs.gr0Write(R.GR0_SCR0, R.SCR0_CLIENTPD);
  }
}
