import { alignDown, modulo, testBit, type IrqLine, type MmioBus, type MmioHandler, type PhysicalMemory } from '@dmasim/core';
import { rkDescAddress, rkDteIsPtValid, rkIovaDteIndex, rkIovaPageOffset, rkIovaPteIndex, rkPteIsPageValid, RK_IOVA_LIMIT, RK_PTE_PAGE_READABLE_BIT, RK_PTE_PAGE_WRITABLE_BIT, SPAGE_SIZE } from '../format';
import {
  RK_MMU_AUTO_GATING,
  RK_MMU_CMD_DISABLE_PAGING,
  RK_MMU_CMD_DISABLE_STALL,
  RK_MMU_CMD_ENABLE_PAGING,
  RK_MMU_CMD_ENABLE_STALL,
  RK_MMU_CMD_FORCE_RESET,
  RK_MMU_CMD_PAGE_FAULT_DONE,
  RK_MMU_CMD_ZAP_CACHE,
  RK_MMU_COMMAND,
  RK_MMU_DTE_ADDR,
  RK_MMU_INT_CLEAR,
  RK_MMU_INT_MASK,
  RK_MMU_INT_RAWSTAT,
  RK_MMU_INT_STATUS,
  RK_MMU_IRQ_BUS_ERROR,
  RK_MMU_IRQ_PAGE_FAULT,
  RK_MMU_PAGE_FAULT_ADDR,
  RK_MMU_REGS_SIZE,
  RK_MMU_STATUS,
  RK_MMU_STATUS_IDLE,
  RK_MMU_STATUS_PAGE_FAULT_ACTIVE,
  RK_MMU_STATUS_PAGE_FAULT_IS_WRITE,
  RK_MMU_STATUS_PAGING_ENABLED,
  RK_MMU_STATUS_REPLAY_BUFFER_EMPTY,
  RK_MMU_STATUS_STALL_ACTIVE,
  RK_MMU_STATUS_STALL_NOT_ACTIVE,
  RK_MMU_ZAP_ONE_LINE,
} from './regs';

export interface RkIommuHardwareOptions {
  readonly name: string;
  /** Where the table walker reads DTEs and PTEs (it does not snoop the CPU caches). */
  readonly memory: PhysicalMemory;
  /** The fault interrupt: raised while INT_RAWSTAT & INT_MASK is non-zero. */
  readonly irq: IrqLine;
  /** IOTLB entries (the TRM does not say; a small fully associative cache). */
  readonly iotlbEntries?: number;
}

/** Why a transaction was refused. */
export type RkFaultKind = 'page-fault' | 'permission' | 'bus-error' | 'stalled';

/** One translation: the physical address and the bytes contiguous from it, or why it failed. */
export type RkTranslation = { readonly ok: true; readonly phys: number; readonly length: number } | { readonly ok: false; readonly kind: RkFaultKind };

/**
 * One RK3288 IOMMU as hardware: the registers of `regs.ts` on the MMIO bus, an IOTLB of page
 * translations, and a walker that reads the two-level table from memory at DTE_ADDR. With paging
 * disabled (after reset) every transaction passes untranslated. A miss in the tables is a page
 * fault: PAGE_FAULT_ADDR and STATUS record it, INT_RAWSTAT gets PAGE_FAULT, and the master's
 * transactions are refused until the driver writes PAGE_FAULT_DONE.
 */
export class RkIommuHardware implements MmioHandler {
  readonly name: string;
  private readonly memory: PhysicalMemory;
  private readonly irq: IrqLine;
  private readonly iotlbEntries: number;
  /** page number → PTE; insertion order is the replacement order. */
  private readonly iotlb = new Map<number, number>();
  private dteAddr = 0;
  private paging = false;
  private stall = false;
  private faultActive = false;
  private faultIsWrite = false;
  private faultAddr = 0;
  private rawStat = 0;
  private intMask = 0;
  private autoGating = 0;
  /** Transactions translated and refused (for tests and reports). */
  translations = 0;
  faults = 0;

  constructor(options: RkIommuHardwareOptions) {
    this.name = options.name;
    this.memory = options.memory;
    this.irq = options.irq;
    this.iotlbEntries = options.iotlbEntries ?? 32;
  }

  get size(): number {
    return RK_MMU_REGS_SIZE;
  }

  mapInto(bus: MmioBus, base: number): void {
    bus.map(this.name, base, RK_MMU_REGS_SIZE, this);
  }

  get pagingEnabled(): boolean {
    return this.paging;
  }

  read32(offset: number): number {
    switch (offset) {
      case RK_MMU_DTE_ADDR:
        return this.dteAddr;
      case RK_MMU_STATUS:
        return this.status();
      case RK_MMU_PAGE_FAULT_ADDR:
        return this.faultAddr;
      case RK_MMU_INT_RAWSTAT:
        return this.rawStat;
      case RK_MMU_INT_MASK:
        return this.intMask;
      case RK_MMU_INT_STATUS:
        return this.intStatus();
      case RK_MMU_AUTO_GATING:
        return this.autoGating;
      default:
        return 0;
    }
  }

  write32(offset: number, value: number): void {
    switch (offset) {
      case RK_MMU_DTE_ADDR:
        // bits 11:0 are not implemented: the directory is page aligned
        this.dteAddr = alignDown(modulo(value, RK_IOVA_LIMIT), SPAGE_SIZE);
        return;
      case RK_MMU_COMMAND:
        this.command(value);
        return;
      case RK_MMU_ZAP_ONE_LINE:
        this.iotlb.delete(Math.floor(modulo(value, RK_IOVA_LIMIT) / SPAGE_SIZE));
        return;
      case RK_MMU_INT_CLEAR:
        this.rawStat = clearBits(this.rawStat, value);
        this.updateIrq();
        return;
      case RK_MMU_INT_MASK:
        this.intMask = modulo(value, 4);
        this.updateIrq();
        return;
      case RK_MMU_AUTO_GATING:
        this.autoGating = value;
        return;
      default:
        return;
    }
  }

  /**
   * Translates one transaction of a master at `iova`: returns the physical address and how many
   * bytes of it lie in the same page, or the fault (recorded in the registers, interrupt raised).
   */
  translate(iova: number, access: 'read' | 'write'): RkTranslation {
    if (!this.paging) return { ok: true, phys: iova, length: Number.MAX_SAFE_INTEGER };
    this.translations++;
    if (this.faultActive) return { ok: false, kind: 'stalled' };
    if (iova < 0 || iova >= RK_IOVA_LIMIT) return this.pageFault(iova, access, 'page-fault');
    const page = Math.floor(iova / SPAGE_SIZE);
    let pte = this.iotlb.get(page);
    if (pte === undefined) {
      const walked = this.walk(iova);
      if (walked < 0) return this.busError(iova);
      if (!rkPteIsPageValid(walked)) return this.pageFault(iova, access, 'page-fault');
      pte = walked;
      if (this.iotlb.size >= this.iotlbEntries) this.iotlb.delete(this.iotlb.keys().next().value!);
      this.iotlb.set(page, pte);
    }
    const allowed = access === 'write' ? testBit(pte, RK_PTE_PAGE_WRITABLE_BIT) : testBit(pte, RK_PTE_PAGE_READABLE_BIT);
    if (!allowed) return this.pageFault(iova, access, 'permission');
    const offset = rkIovaPageOffset(iova);
    return { ok: true, phys: rkDescAddress(pte) + offset, length: SPAGE_SIZE - offset };
  }

  /** The PTE for `iova` from the tables in memory (0: no valid entry), or -1 on a bus error. */
  private walk(iova: number): number {
    const dte = this.memory.readU32(this.dteAddr + 4 * rkIovaDteIndex(iova));
    if (dte < 0) return -1;
    if (!rkDteIsPtValid(dte)) return 0;
    return this.memory.readU32(rkDescAddress(dte) + 4 * rkIovaPteIndex(iova));
  }

  private pageFault(iova: number, access: 'read' | 'write', kind: RkFaultKind): RkTranslation {
    this.faults++;
    this.faultActive = true;
    this.faultIsWrite = access === 'write';
    this.faultAddr = modulo(iova, RK_IOVA_LIMIT);
    this.rawStat = setBits(this.rawStat, RK_MMU_IRQ_PAGE_FAULT);
    this.updateIrq();
    return { ok: false, kind };
  }

  private busError(iova: number): RkTranslation {
    this.faults++;
    this.faultAddr = modulo(iova, RK_IOVA_LIMIT);
    this.rawStat = setBits(this.rawStat, RK_MMU_IRQ_BUS_ERROR);
    this.updateIrq();
    return { ok: false, kind: 'bus-error' };
  }

  private command(cmd: number): void {
    switch (cmd) {
      case RK_MMU_CMD_ENABLE_PAGING:
        this.paging = true;
        return;
      case RK_MMU_CMD_DISABLE_PAGING:
        this.paging = false;
        return;
      case RK_MMU_CMD_ENABLE_STALL:
        // stalling needs translation running; otherwise the request is ignored
        if (this.paging) this.stall = true;
        return;
      case RK_MMU_CMD_DISABLE_STALL:
        this.stall = false;
        return;
      case RK_MMU_CMD_ZAP_CACHE:
        this.iotlb.clear();
        return;
      case RK_MMU_CMD_PAGE_FAULT_DONE:
        this.faultActive = false;
        this.faultIsWrite = false;
        return;
      case RK_MMU_CMD_FORCE_RESET:
        this.reset();
        return;
      default:
        return;
    }
  }

  private reset(): void {
    this.dteAddr = 0;
    this.paging = false;
    this.stall = false;
    this.faultActive = false;
    this.faultIsWrite = false;
    this.faultAddr = 0;
    this.rawStat = 0;
    this.intMask = 0;
    this.autoGating = 0;
    this.iotlb.clear();
    this.updateIrq();
  }

  private status(): number {
    return (
      (this.paging ? RK_MMU_STATUS_PAGING_ENABLED : 0) +
      (this.faultActive ? RK_MMU_STATUS_PAGE_FAULT_ACTIVE : 0) +
      (this.stall ? RK_MMU_STATUS_STALL_ACTIVE : RK_MMU_STATUS_STALL_NOT_ACTIVE) +
      (this.faultActive ? 0 : RK_MMU_STATUS_IDLE) +
      RK_MMU_STATUS_REPLAY_BUFFER_EMPTY +
      (this.faultIsWrite ? RK_MMU_STATUS_PAGE_FAULT_IS_WRITE : 0)
    );
  }

  private intStatus(): number {
    let s = 0;
    for (const bit of [RK_MMU_IRQ_PAGE_FAULT, RK_MMU_IRQ_BUS_ERROR]) if (hasBits(this.rawStat, bit) && hasBits(this.intMask, bit)) s += bit;
    return s;
  }

  private updateIrq(): void {
    if (this.intStatus() !== 0) this.irq.raise();
    else this.irq.lower();
  }
}

/** Interrupt-status arithmetic on the two low bits (values below 4, no addresses). */
function hasBits(v: number, bit: number): boolean {
  return testBit(v, Math.log2(bit));
}

function setBits(v: number, bit: number): number {
  return hasBits(v, bit) ? v : v + bit;
}

function clearBits(v: number, mask: number): number {
  let out = v;
  for (const bit of [RK_MMU_IRQ_PAGE_FAULT, RK_MMU_IRQ_BUS_ERROR]) if (hasBits(mask, bit) && hasBits(out, bit)) out -= bit;
  return out;
}
