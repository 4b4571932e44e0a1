import type { Device } from '@dmasim/bus';
import { devPrefix, type KernelLog } from '@dmasim/core';
import { DMA_BIDIRECTIONAL, DMA_FROM_DEVICE, DMA_MAPPING_ERROR, DMA_TO_DEVICE, type DmaDataDirection } from '../constants';
import type { Scatterlist } from '../scatterlist/sg-table';
import { sgPhys } from '../scatterlist/sg-table';
import { DmaDebugText, type DmaDebugErrorClass, type DmaDebugType } from './messages';

/** Buckets of the mapping hash and the address bits that pick one (kernel/dma/debug.c). */
export const HASH_SIZE = 16384;
export const HASH_FN_SHIFT = 13;
const BUCKET_SPAN = 2 ** HASH_FN_SHIFT;

type MapErrState = 'not-applicable' | 'not-checked' | 'checked';

/** One tracked mapping (struct dma_debug_entry). */
export interface DmaDebugEntry {
  readonly dev: Device;
  readonly type: DmaDebugType;
  /** CPU physical address of the data (or of the allocation for coherent memory). */
  readonly paddr: number;
  readonly devAddr: number;
  readonly size: number;
  readonly direction: DmaDataDirection;
  /** nents the driver passed to dma_map_sg (0 for non-sg entries). */
  readonly sgCallEnts: number;
  /** entries dma_map_sg returned. */
  readonly sgMappedEnts: number;
  mapErr: MapErrState;
  /** The API call that created it, shown under "Mapped at:". */
  readonly mappedAt: string;
}

/** A reported error, for machine reports. */
export interface DmaDebugFinding {
  readonly device: string;
  readonly driver: string | undefined;
  readonly errorClass: DmaDebugErrorClass;
  /** The message without the `DMA-API: <driver> <device>: ` prefix. */
  readonly message: string;
}

export interface DmaDebugOptions {
  /** show_num_errors: how many errors WARN (default 1, as the kernel). */
  readonly numErrors?: number;
  /** all_errors: WARN for every error. */
  readonly allErrors?: boolean;
  /** dma_debug_driver=: only errors of this driver are printed (all are still counted). */
  readonly driverFilter?: string;
  /**
   * Record dma_map_page as type "page" (kernels up to ~v5.0) instead of "single" (later kernels,
   * where dma_map_single is a wrapper of dma_map_page and both record "single").
   */
  readonly pageType?: boolean;
  /** CONFIG_DMA_API_DEBUG_SG: check sg segments against max segment size and boundary (default true). */
  readonly checkSg?: boolean;
  /** virt_addr_valid(): whether a CPU buffer is mapped RAM; absent = no check. */
  readonly isRam?: (addr: number, len: number) => boolean;
}

/** The reference an unmap, free or sync call describes (the kernel's on-stack `ref` entry). */
interface Ref {
  dev: Device;
  type: DmaDebugType;
  paddr: number;
  devAddr: number;
  size: number;
  direction: DmaDataDirection;
  sgCallEnts: number;
}

/**
 * dma-debug (CONFIG_DMA_API_DEBUG): tracks every mapping the DMA API hands out and checks every
 * unmap, free and sync against it, reporting misuse with the kernel's texts. Every error is counted
 * per class and kept as a finding; only the first `numErrors` WARN (the kernel's show_num_errors),
 * unless `allErrors`. The run always goes on.
 */
export class DmaDebug {
  disabled = false;
  /** error_count. */
  errorCount = 0;
  readonly counts = new Map<DmaDebugErrorClass, number>();
  readonly findings: DmaDebugFinding[] = [];
  private showNumErrors: number;
  private readonly allErrors: boolean;
  private readonly driverFilter: string | undefined;
  private readonly pageType: boolean;
  private readonly checkSg: boolean;
  private readonly isRam: ((addr: number, len: number) => boolean) | undefined;
  private readonly buckets = new Map<number, DmaDebugEntry[]>();
  private entries = 0;

  constructor(
    private readonly log: KernelLog,
    options: DmaDebugOptions = {},
  ) {
    this.showNumErrors = options.numErrors ?? 1;
    this.allErrors = options.allErrors ?? false;
    this.driverFilter = options.driverFilter;
    this.pageType = options.pageType ?? false;
    this.checkSg = options.checkSg ?? true;
    this.isRam = options.isRam;
  }

  /** Live entries (nr_total_entries - num_free_entries). */
  get activeCount(): number {
    return this.entries;
  }

  count(errorClass: DmaDebugErrorClass): number {
    return this.counts.get(errorClass) ?? 0;
  }

  /** Every live entry, bucket order (what the `dump` debugfs file lists), optionally for one device. */
  activeEntries(dev?: Device): DmaDebugEntry[] {
    const out: DmaDebugEntry[] = [];
    for (let b = 0; b < HASH_SIZE; b++) {
      const list = this.buckets.get(b);
      if (list === undefined) continue;
      for (const e of list) if (dev === undefined || e.dev === dev) out.push(e);
    }
    return out;
  }

  // ---- map side ---------------------------------------------------------------------------------

  /** debug_dma_map_single(): the CPU buffer must be mapped RAM. */
  mapSingleArea(dev: Device, cpuAddr: number, len: number): void {
    if (this.disabled || this.isRam === undefined) return;
    if (!this.isRam(cpuAddr, len)) this.err(dev, null, 'invalidArea', DmaDebugText.invalidArea(cpuAddr, len));
  }

  /** debug_dma_map_page(): records a successful single/page mapping. */
  mapPage(dev: Device, paddr: number, size: number, dir: DmaDataDirection, dmaAddr: number, viaSingle: boolean, mappedAt: string): void {
    if (this.disabled || dmaAddr === DMA_MAPPING_ERROR) return;
    const type = this.singleType(viaSingle);
    this.add({ dev, type, paddr, devAddr: dmaAddr, size, direction: dir, sgCallEnts: 0, sgMappedEnts: 0, mapErr: 'not-checked', mappedAt });
  }

  /** debug_dma_unmap_page(). */
  unmapPage(dev: Device, dmaAddr: number, size: number, dir: DmaDataDirection, viaSingle: boolean): void {
    if (this.disabled) return;
    this.checkUnmap({ dev, type: this.singleType(viaSingle), paddr: 0, devAddr: dmaAddr, size, direction: dir, sgCallEnts: 0 });
  }

  /** debug_dma_map_resource(). */
  mapResource(dev: Device, paddr: number, size: number, dir: DmaDataDirection, dmaAddr: number): void {
    if (this.disabled || dmaAddr === DMA_MAPPING_ERROR) return;
    this.add({ dev, type: 'resource', paddr, devAddr: dmaAddr, size, direction: dir, sgCallEnts: 0, sgMappedEnts: 0, mapErr: 'not-checked', mappedAt: 'dma_map_resource' });
  }

  /** debug_dma_unmap_resource(). */
  unmapResource(dev: Device, dmaAddr: number, size: number, dir: DmaDataDirection): void {
    if (this.disabled) return;
    this.checkUnmap({ dev, type: 'resource', paddr: 0, devAddr: dmaAddr, size, direction: dir, sgCallEnts: 0 });
  }

  /** debug_dma_map_sg(): one entry per mapped segment, remembering the nents the driver passed. */
  mapSg(dev: Device, sgl: readonly Scatterlist[], nents: number, mappedEnts: number, dir: DmaDataDirection): void {
    if (this.disabled) return;
    if (this.isRam !== undefined) {
      for (let i = 0; i < Math.min(nents, sgl.length); i++) {
        const s = sgl[i]!;
        if (!this.isRam(sgPhys(s), s.length)) this.err(dev, null, 'invalidArea', DmaDebugText.invalidArea(sgPhys(s), s.length));
      }
    }
    for (let i = 0; i < Math.min(mappedEnts, sgl.length); i++) {
      const s = sgl[i]!;
      if (this.checkSg) this.checkSgSegment(dev, s);
      this.add({
        dev, type: 'scatter-gather', paddr: sgPhys(s), devAddr: s.dmaAddress, size: s.dmaLength, direction: dir,
        sgCallEnts: nents, sgMappedEnts: mappedEnts, mapErr: 'not-applicable', mappedAt: 'dma_map_sg_attrs',
      });
    }
  }

  /** debug_dma_unmap_sg(): checks as many entries as the mapping produced. */
  unmapSg(dev: Device, sgl: readonly Scatterlist[], nelems: number, dir: DmaDataDirection): void {
    if (this.disabled) return;
    let mapped = 0;
    for (let i = 0; i < Math.min(nelems, sgl.length); i++) {
      const s = sgl[i]!;
      if (mapped !== 0 && i >= mapped) break;
      const ref: Ref = { dev, type: 'scatter-gather', paddr: sgPhys(s), devAddr: s.dmaAddress, size: s.dmaLength, direction: dir, sgCallEnts: nelems };
      mapped = this.nrMappedEntries(ref);
      this.checkUnmap(ref);
    }
  }

  /** debug_dma_alloc_coherent(). */
  allocCoherent(dev: Device, size: number, dmaAddr: number, cpuAddr: number): void {
    if (this.disabled || dmaAddr === DMA_MAPPING_ERROR) return;
    this.add({ dev, type: 'coherent', paddr: cpuAddr, devAddr: dmaAddr, size, direction: DMA_BIDIRECTIONAL, sgCallEnts: 0, sgMappedEnts: 0, mapErr: 'not-applicable', mappedAt: 'dma_alloc_attrs' });
  }

  /** debug_dma_free_coherent(). */
  freeCoherent(dev: Device, size: number, cpuAddr: number, dmaAddr: number): void {
    if (this.disabled) return;
    this.checkUnmap({ dev, type: 'coherent', paddr: cpuAddr, devAddr: dmaAddr, size, direction: DMA_BIDIRECTIONAL, sgCallEnts: 0 });
  }

  /** debug_dma_mapping_error(): marks the first unchecked mapping at this address as checked. */
  mappingError(dev: Device, dmaAddr: number): void {
    if (this.disabled) return;
    const list = this.buckets.get(bucketOf(dmaAddr));
    if (list === undefined) return;
    for (const e of list) {
      if (e.dev !== dev || e.devAddr !== dmaAddr) continue;
      if (e.mapErr === 'not-checked') {
        e.mapErr = 'checked';
        break;
      }
    }
  }

  // ---- sync side --------------------------------------------------------------------------------

  syncSingle(dev: Device, dmaAddr: number, size: number, dir: DmaDataDirection, toCpu: boolean): void {
    if (this.disabled) return;
    this.checkSync({ dev, type: 'single', paddr: 0, devAddr: dmaAddr, size, direction: dir, sgCallEnts: 0 }, toCpu);
  }

  syncSg(dev: Device, sgl: readonly Scatterlist[], nelems: number, dir: DmaDataDirection, toCpu: boolean): void {
    if (this.disabled) return;
    let mapped = 0;
    for (let i = 0; i < Math.min(nelems, sgl.length); i++) {
      const s = sgl[i]!;
      const ref: Ref = { dev, type: 'scatter-gather', paddr: sgPhys(s), devAddr: s.dmaAddress, size: s.dmaLength, direction: dir, sgCallEnts: nelems };
      if (i === 0) mapped = this.nrMappedEntries(ref);
      if (i >= mapped) break;
      this.checkSync(ref, toCpu);
    }
  }

  // ---- unbind -----------------------------------------------------------------------------------

  /**
   * dma_debug_device_change() on BUS_NOTIFY_UNBOUND_DRIVER: a driver let go of its device while
   * still holding mappings. The bus layer's unbind hook calls this. Returns the leaked count.
   */
  deviceUnbound(dev: Device): number {
    if (this.disabled) return 0;
    const leaked = this.activeEntries(dev);
    const first = leaked[0];
    if (first !== undefined) {
      this.err(dev, null, 'pendingAtUnbind', DmaDebugText.pendingAtUnbind(leaked.length, first.devAddr, first.size, first.direction, first.type));
    }
    return leaked.length;
  }

  // ---- internals --------------------------------------------------------------------------------

  private singleType(viaSingle: boolean): DmaDebugType {
    return this.pageType && !viaSingle ? 'page' : 'single';
  }

  private add(entry: DmaDebugEntry): void {
    const b = bucketOf(entry.devAddr);
    let list = this.buckets.get(b);
    if (list === undefined) {
      list = [];
      this.buckets.set(b, list);
    }
    list.push(entry);
    this.entries++;
  }

  private remove(entry: DmaDebugEntry): void {
    const b = bucketOf(entry.devAddr);
    const list = this.buckets.get(b);
    if (list === undefined) return;
    const i = list.indexOf(entry);
    if (i < 0) return;
    list.splice(i, 1);
    if (list.length === 0) this.buckets.delete(b);
    this.entries--;
  }

  /**
   * __hash_bucket_find(): among entries that `match`, return a perfect fit (size, type, direction
   * and sg count equal) at once, else the best partial fit, but only if it was the only match:
   * several imperfect candidates mean the driver's intent is ambiguous, and nothing is returned.
   */
  private bucketFind(list: readonly DmaDebugEntry[], ref: Ref, match: (ref: Ref, e: DmaDebugEntry) => boolean): DmaDebugEntry | null {
    let best: DmaDebugEntry | null = null;
    let bestLevel = -1;
    let matches = 0;
    for (const e of list) {
      if (!match(ref, e)) continue;
      matches++;
      const level =
        (e.size === ref.size ? 1 : 0) + (e.type === ref.type ? 1 : 0) + (e.direction === ref.direction ? 1 : 0) + (e.sgCallEnts === ref.sgCallEnts ? 1 : 0);
      if (level === 4) return e;
      if (level > bestLevel) {
        bestLevel = level;
        best = e;
      }
    }
    return matches === 1 ? best : null;
  }

  private findExact(ref: Ref): DmaDebugEntry | null {
    const list = this.buckets.get(bucketOf(ref.devAddr));
    return list === undefined ? null : this.bucketFind(list, ref, exactMatch);
  }

  /** bucket_find_contain(): walks back bucket by bucket looking for a mapping containing the range. */
  private findContaining(ref: Ref): DmaDebugEntry | null {
    let addr = ref.devAddr;
    const limit = Math.min(HASH_SIZE, Math.floor(ref.devAddr / BUCKET_SPAN) + 1);
    for (let i = 0; i < limit; i++) {
      const list = this.buckets.get(bucketOf(addr));
      if (list !== undefined) {
        const e = this.bucketFind(list, ref, containingMatch);
        if (e !== null) return e;
      }
      addr -= BUCKET_SPAN;
    }
    return null;
  }

  private nrMappedEntries(ref: Ref): number {
    return this.findExact(ref)?.sgMappedEnts ?? 0;
  }

  /** check_unmap(). */
  private checkUnmap(ref: Ref): void {
    const entry = this.findExact(ref);
    if (entry === null) {
      if (ref.devAddr === DMA_MAPPING_ERROR) this.err(ref.dev, null, 'freeInvalid', DmaDebugText.freeInvalid());
      else this.err(ref.dev, null, 'freeNotAllocated', DmaDebugText.freeNotAllocated(ref.devAddr, ref.size));
      return;
    }
    if (ref.size !== entry.size) this.err(ref.dev, entry, 'sizeMismatch', DmaDebugText.sizeMismatch(ref.devAddr, entry.size, ref.size));
    if (ref.type !== entry.type) {
      this.err(ref.dev, entry, 'typeMismatch', DmaDebugText.typeMismatch(ref.devAddr, ref.size, entry.type, ref.type));
    } else if (entry.type === 'coherent' && ref.paddr !== entry.paddr) {
      this.err(ref.dev, entry, 'cpuAddressMismatch', DmaDebugText.cpuAddressMismatch(ref.devAddr, ref.size, entry.paddr, ref.paddr));
    }
    if (ref.sgCallEnts !== 0 && ref.type === 'scatter-gather' && ref.sgCallEnts !== entry.sgCallEnts) {
      this.err(ref.dev, entry, 'sgCountMismatch', DmaDebugText.sgCountMismatch(entry.sgCallEnts, ref.sgCallEnts));
    }
    if (ref.direction !== entry.direction) {
      this.err(ref.dev, entry, 'directionMismatch', DmaDebugText.directionMismatch(ref.devAddr, ref.size, entry.direction, ref.direction));
    }
    if (entry.mapErr === 'not-checked') {
      this.err(ref.dev, entry, 'mapErrorNotChecked', DmaDebugText.mapErrorNotChecked(ref.devAddr, ref.size, entry.type));
    }
    this.remove(entry);
  }

  /** check_sync(). */
  private checkSync(ref: Ref, toCpu: boolean): void {
    const entry = this.findContaining(ref);
    if (entry === null) {
      this.err(ref.dev, null, 'syncNotAllocated', DmaDebugText.syncNotAllocated(ref.devAddr, ref.size));
      return;
    }
    if (ref.size > entry.size) this.err(ref.dev, entry, 'syncOutsideRange', DmaDebugText.syncOutsideRange(entry.devAddr, entry.size, ref.size));
    if (entry.direction !== DMA_BIDIRECTIONAL) {
      if (ref.direction !== entry.direction) {
        this.err(ref.dev, entry, 'syncDirectionMismatch', DmaDebugText.syncDirectionMismatch(ref.devAddr, ref.size, entry.direction, ref.direction));
      }
      if (toCpu && entry.direction !== DMA_FROM_DEVICE && ref.direction !== DMA_TO_DEVICE) {
        this.err(ref.dev, entry, 'syncReadOnlyForCpu', DmaDebugText.syncReadOnlyForCpu(ref.devAddr, ref.size, entry.direction, ref.direction));
      }
      if (!toCpu && entry.direction !== DMA_TO_DEVICE && ref.direction !== DMA_FROM_DEVICE) {
        this.err(ref.dev, entry, 'syncWriteOnlyToDevice', DmaDebugText.syncWriteOnlyToDevice(ref.devAddr, ref.size, entry.direction, ref.direction));
      }
    }
    if (ref.sgCallEnts !== 0 && ref.type === 'scatter-gather' && ref.sgCallEnts !== entry.sgCallEnts) {
      this.err(ref.dev, entry, 'syncSgCountMismatch', DmaDebugText.syncSgCountMismatch(entry.sgCallEnts, ref.sgCallEnts));
    }
  }

  /** check_sg_segment() (CONFIG_DMA_API_DEBUG_SG). */
  private checkSgSegment(dev: Device, s: Scatterlist): void {
    const maxSeg = dev.dma.maxSegmentSize;
    if (s.length > maxSeg) this.err(dev, null, 'sgSegmentTooLong', DmaDebugText.sgSegmentTooLong(s.length, maxSeg));
    const boundary = dev.dma.segmentBoundaryMask;
    const start = s.dmaAddress;
    const end = start + s.dmaLength - 1;
    // (start ^ end) & ~boundary != 0, for a boundary mask of the form 2^n - 1, without bit operators
    const span = boundary + 1;
    if (s.dmaLength > 0 && Math.floor(start / span) !== Math.floor(end / span)) {
      this.err(dev, null, 'sgSegmentBoundary', DmaDebugText.sgSegmentBoundary(start, end, boundary));
    }
  }

  /** err_printk(): count always; WARN while show_num_errors lasts (or with all_errors). */
  private err(dev: Device, entry: DmaDebugEntry | null, errorClass: DmaDebugErrorClass, message: string): void {
    this.errorCount++;
    this.counts.set(errorClass, (this.counts.get(errorClass) ?? 0) + 1);
    this.findings.push({ device: dev.name, driver: dev.driverName, errorClass, message });
    const passesFilter = this.driverFilter === undefined || dev.driverName === this.driverFilter;
    if (passesFilter && (this.allErrors || this.showNumErrors > 0)) {
      this.log.warn(`kernel/dma/debug.c err_printk (${errorClass})`, `DMA-API: ${devPrefix(dev)}${message}`);
      if (entry !== null) {
        this.log.warning('Mapped at:');
        this.log.warning(`    ${entry.mappedAt}`);
      }
    }
    if (!this.allErrors && this.showNumErrors > 0) this.showNumErrors--;
  }
}

function bucketOf(devAddr: number): number {
  return Math.floor(devAddr / BUCKET_SPAN) % HASH_SIZE;
}

function exactMatch(ref: Ref, e: DmaDebugEntry): boolean {
  return e.devAddr === ref.devAddr && e.dev === ref.dev;
}

function containingMatch(ref: Ref, e: DmaDebugEntry): boolean {
  return e.dev === ref.dev && e.devAddr <= ref.devAddr && e.devAddr + e.size >= ref.devAddr + ref.size;
}
