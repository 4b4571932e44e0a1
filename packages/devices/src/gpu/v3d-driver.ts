import type { BusServices, Device, PlatformDevice, PlatformDriver } from '@dmasim/bus';
import { EIO, ENODEV, ENOMEM, ETIMEDOUT, GFP_DMA, GFP_DMA32, GFP_KERNEL, GiB, MAX_PAGE_ORDER, PAGE_SIZE, dmaBitMask, hex, type CoreServices, type GfpFlags } from '@dmasim/core';
import {
  DMA_BIDIRECTIONAL,
  SgTable,
  dmaAllocCoherent,
  dmaMapSgtable,
  dmaSetMaskAndCoherent,
  dmaSetMaxSegSize,
  dmaSyncSgtableForCpu,
  dmaSyncSgtableForDevice,
  dmaUnmapSgtable,
  forEachSgDma,
  sgAllocTableFromPages,
  type DmaCoherentBuffer,
} from '@dmasim/dma-mapping';
import { coherentWrite } from '../common/cpu-access';
import { BAD_DMA_ADDR, takeInjectedFault } from '../common/fault-inject';
import { hi32, lo32 } from '../common/port-io';
import { dmaFreeCoherentBuffers } from '../common/driver-dma';
import { deviceResources } from '../common/resources';
import { DEFAULT_TIMEOUT_NS, waitFor } from '../common/wait';
import type { DmaBuf } from './dma-buf';
import { encodeSegments } from './frame-job';
import * as V from './v3d-hw';

export const V3D_DRIVER_NAME = 'v3d';

/** Where buffer pages come from: anywhere above the 1 GiB display window (a loaded system), or below it. */
export type BoPlacement = 'high' | 'low';

/** A v3d buffer object: pages in chunks of at most one buddy block, mapped for the GPU. */
export interface V3dBo {
  readonly name: string;
  readonly size: number;
  readonly chunks: readonly { readonly phys: number; readonly size: number }[];
  readonly pages: readonly number[];
  readonly sgt: SgTable;
}

const CHUNK_MAX = PAGE_SIZE * 2 ** MAX_PAGE_ORDER;
/** The display's reach on a Pi 4: pages below it need no bouncing. */
const LOW_LIMIT = 1 * GiB;

/** The v3d DRM driver state of one GPU. */
export class V3dGpu {
  private nextBo = 1;
  private status = 0;
  jobsFailed = 0;

  constructor(
    private readonly core: CoreServices,
    readonly dev: Device,
    private readonly base: number,
    readonly irq: number,
    private readonly jobList: DmaCoherentBuffer,
  ) {}

  interrupt(): 'handled' | 'none' {
    const st = this.core.mmio.readl(this.base + V.V3D_STATUS);
    if (st === 0) return 'none';
    this.core.mmio.writel(this.base + V.V3D_STATUS, st);
    this.status |= st;
    return 'handled';
  }

  /** Allocates a chunk honouring the placement; null when memory cannot satisfy it. */
  private allocChunk(size: number, placement: BoPlacement): number | null {
    const pages = this.core.pages;
    const wantHigh = placement === 'high';
    const tries: GfpFlags[] = wantHigh ? [GFP_KERNEL] : [GFP_DMA, GFP_DMA32, GFP_KERNEL];
    for (const gfp of tries) {
      const held: number[] = [];
      let got: number | null = null;
      // skip blocks on the wrong side of 1 GiB (on a Pi 4 ZONE_DMA already keeps GFP_KERNEL above it)
      const bound = Math.ceil(LOW_LIMIT / size) + 8;
      for (let i = 0; i < bound; i++) {
        const a = pages.allocPagesExact(size, gfp);
        if (a === null) break;
        if (wantHigh ? a >= LOW_LIMIT : a + size <= LOW_LIMIT) {
          got = a;
          break;
        }
        held.push(a);
      }
      for (const a of held) pages.freePagesExact(a, size);
      if (got !== null) return got;
    }
    return null;
  }

  /** v3d_bo_create + v3d_mmu_insert_ptes: pages, then dma_map_sgtable for the GPU. */
  createBo(size: number, placement: BoPlacement = 'high'): V3dBo | number {
    const chunks: { phys: number; size: number }[] = [];
    const free = (): void => {
      for (const c of chunks) this.core.pages.freePagesExact(c.phys, c.size);
    };
    for (let left = size; left > 0; ) {
      const n = Math.min(CHUNK_MAX, Math.ceil(left / PAGE_SIZE) * PAGE_SIZE);
      const a = this.allocChunk(n, placement);
      if (a === null) {
        free();
        return -ENOMEM;
      }
      chunks.push({ phys: a, size: n });
      left -= Math.min(left, n);
    }
    const pages: number[] = [];
    for (const c of chunks) for (let o = 0; o < c.size; o += PAGE_SIZE) pages.push(c.phys + o);
    const sgt = new SgTable();
    let rc = sgAllocTableFromPages(sgt, pages, 0, size);
    if (rc === 0) rc = dmaMapSgtable(this.dev, sgt, DMA_BIDIRECTIONAL);
    if (rc !== 0) {
      free();
      return rc;
    }
    return { name: `v3d-bo-${this.nextBo++}`, size, chunks, pages, sgt };
  }

  freeBo(bo: V3dBo): void {
    dmaUnmapSgtable(this.dev, bo.sgt, DMA_BIDIRECTIONAL);
    for (const c of bo.chunks) this.core.pages.freePagesExact(c.phys, c.size);
  }

  /** Submits a render job that fills the BO with the frame pattern of `seed`; 0 or -errno. */
  render(bo: V3dBo, seed: number): number {
    const segs: { addr: number; len: number }[] = [];
    for (const [sg] of forEachSgDma(bo.sgt)) segs.push({ addr: sg.dmaAddress, len: sg.dmaLength });
    if (segs.length * 16 > this.jobList.size) return -ENOMEM;
    if (segs.length > 0 && takeInjectedFault(this.dev)) segs[0] = { addr: BAD_DMA_ADDR, len: segs[0]!.len };
    dmaSyncSgtableForDevice(this.dev, bo.sgt, DMA_BIDIRECTIONAL);
    coherentWrite(this.core.cache, this.jobList, 0, encodeSegments(segs));
    const w = (off: number, v: number): void => this.core.mmio.writel(this.base + off, v);
    this.status = 0;
    w(V.V3D_JOB_SEED, seed >>> 0);
    w(V.V3D_JOB_LIST_LO, lo32(this.jobList.dmaHandle));
    w(V.V3D_JOB_LIST_HI, hi32(this.jobList.dmaHandle));
    w(V.V3D_JOB_COUNT, segs.length);
    w(V.V3D_JOB_SUBMIT, 1);
    const done = waitFor(this.core.sched, () => this.status !== 0, DEFAULT_TIMEOUT_NS);
    // the CPU (and importers) must see what the GPU wrote, not stale cache lines
    dmaSyncSgtableForCpu(this.dev, bo.sgt, DMA_BIDIRECTIONAL);
    if (!done) {
      this.jobsFailed++;
      this.core.log.devErr(this.dev, 'Resetting GPU for hang.');
      return -ETIMEDOUT;
    }
    if ((this.status & V.V3D_STATUS_ERROR) !== 0) {
      this.jobsFailed++;
      const fa = this.core.mmio.readl(this.base + V.V3D_FAULT_LO) + this.core.mmio.readl(this.base + V.V3D_FAULT_HI) * 2 ** 32;
      this.core.log.devErr(this.dev, `MMU error from client L2T (0) at ${hex(fa)}, pte invalid`);
      return -EIO;
    }
    return 0;
  }

  /** drm_gem_prime_export: the BO's pages as a dma-buf. */
  exportDmaBuf(bo: V3dBo): DmaBuf {
    return { size: bo.size, pages: bo.pages, exporter: this.dev, name: bo.name };
  }

  release(): void {
    this.core.irqs.freeIrq(this.irq, V3D_DRIVER_NAME);
    dmaFreeCoherentBuffers(this.dev, this.jobList);
  }
}

/** The `v3d` platform driver for `brcm,2711-v3d`. */
export function v3dDriver(core: CoreServices, bus: BusServices): PlatformDriver {
  return {
    name: V3D_DRIVER_NAME,
    bus: bus.platform,
    ofMatchTable: [{ compatible: 'brcm,2711-v3d' }],
    probe: (pdev: PlatformDevice) => v3dProbe(core, pdev),
    remove: (pdev: PlatformDevice) => {
      v3dGpuOf(pdev)?.release();
      pdev.driverData = undefined;
    },
  };
}

function v3dProbe(core: CoreServices, dev: Device): number {
  const res = deviceResources(dev);
  if (res === null) return -ENODEV;
  const paWidth = core.mmio.readl(res.mmioBase + V.V3D_MMU_DEBUG_INFO) & 0xf;
  const rc = dmaSetMaskAndCoherent(dev, dmaBitMask(30 + paWidth));
  if (rc !== 0) {
    core.log.devErr(dev, 'Failed to set DMA mask');
    return rc;
  }
  // The GPU's own MMU takes segments of any length; v3d says so (dma_set_max_seg_size(UINT_MAX)) so
  // dma-debug does not flag its whole-buffer segments against the 64 KiB default.
  dmaSetMaxSegSize(dev, 0xffffffff);
  const jobList = dmaAllocCoherent(dev, 16 * PAGE_SIZE);
  if (jobList === null) return -ENOMEM;
  const gpu = new V3dGpu(core, dev, res.mmioBase, res.irq, jobList);
  const irc = core.irqs.requestIrq(res.irq, () => gpu.interrupt(), V3D_DRIVER_NAME);
  if (irc !== 0) {
    dmaFreeCoherentBuffers(dev, jobList);
    return irc;
  }
  core.mmio.writel(res.mmioBase + V.V3D_INTR_EN, V.V3D_STATUS_DONE | V.V3D_STATUS_ERROR);
  dev.driverData = gpu;
  core.log.info(`[drm] Initialized v3d 1.0.0 20180419 for ${dev.name} on minor 0`);
  return 0;
}

export function v3dGpuOf(dev: Device): V3dGpu | null {
  return dev.driverData instanceof V3dGpu ? dev.driverData : null;
}
