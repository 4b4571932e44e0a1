import { FwNode, type BusServices, type Device, type PlatformDevice, type PlatformDriver } from '@dmasim/bus';
import { EIO, ENODEV, ENOMEM, EPROBE_DEFER, ETIMEDOUT, PAGE_SIZE, dmaBitMask, hex, type CoreServices } from '@dmasim/core';
import {
  DMA_TO_DEVICE,
  SgTable,
  dmaAllocCoherent,
  dmaMapSgtable,
  dmaSetMaskAndCoherent,
  dmaUnmapSgtable,
  forEachSgDma,
  getDmaContext,
  getDmaOps,
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
import * as H from './hvs-hw';

export const VC4_HVS_DRIVER_NAME = 'vc4-hvs';
export const VC4_DRM_DRIVER_NAME = 'vc4-drm';
/** Name of the vc4 DRM device (the DT's root `/gpu` node), hence the `vc4-drm gpu: ` log prefix. */
export const VC4_DRM_DEVICE_NAME = 'gpu';

/** The HVS as its platform driver holds it; `drm` is set once the DRM device has bound. */
export class Vc4Hvs {
  drm: Vc4Drm | null = null;
  status = 0;

  constructor(
    private readonly core: CoreServices,
    readonly dev: Device,
    readonly base: number,
    readonly irq: number,
  ) {}

  readl(off: number): number {
    return this.core.mmio.readl(this.base + off);
  }
  writel(off: number, v: number): void {
    this.core.mmio.writel(this.base + off, v);
  }

  interrupt(): 'handled' | 'none' {
    const st = this.readl(H.HVS_DISPSTAT);
    if (st === 0) return 'none';
    this.writel(H.HVS_DISPSTAT, st);
    this.status |= st;
    return 'handled';
  }
}

/** An imported framebuffer: the dma-buf and its mapping for the display. */
export interface Vc4Fb {
  readonly buf: DmaBuf;
  readonly sgt: SgTable;
}

export interface ScanoutResult {
  readonly crc: number;
  readonly bytes: number;
}

/** The vc4 DRM device (`gpu`): imports dma-bufs and scans them out through the HVS. */
export class Vc4Drm {
  imports = 0;
  importFailures = 0;

  constructor(
    private readonly core: CoreServices,
    readonly dev: Device,
    readonly hvs: Vc4Hvs,
    private readonly dlist: DmaCoherentBuffer,
  ) {}

  /**
   * drm_gem_prime_import → dma_buf_map_attachment: a scatterlist from the exporter's pages, mapped
   * for this device with dma_map_sgtable (dma-direct: bounced through swiotlb where the pages lie
   * beyond the 1 GiB window). Returns the framebuffer or a negative errno.
   */
  importDmaBuf(buf: DmaBuf): Vc4Fb | number {
    const sgt = new SgTable();
    let rc = sgAllocTableFromPages(sgt, buf.pages, 0, buf.size);
    if (rc === 0) rc = dmaMapSgtable(this.dev, sgt, DMA_TO_DEVICE);
    if (rc !== 0) {
      this.importFailures++;
      return rc;
    }
    this.imports++;
    return { buf, sgt };
  }

  /** Drops the import (dma_buf_unmap_attachment). */
  releaseFb(fb: Vc4Fb): void {
    dmaUnmapSgtable(this.dev, fb.sgt, DMA_TO_DEVICE);
  }

  /** One frame: display list of the mapped segments, GO, wait for the frame-done interrupt. */
  scanout(fb: Vc4Fb): ScanoutResult | number {
    const segs: { addr: number; len: number }[] = [];
    for (const [sg] of forEachSgDma(fb.sgt)) segs.push({ addr: sg.dmaAddress, len: sg.dmaLength });
    if (segs.length * 16 > this.dlist.size) return -ENOMEM;
    if (segs.length > 0 && takeInjectedFault(this.dev)) segs[0] = { addr: BAD_DMA_ADDR, len: segs[0]!.len };
    coherentWrite(this.core.cache, this.dlist, 0, encodeSegments(segs));
    const hvs = this.hvs;
    hvs.status = 0;
    hvs.writel(H.HVS_DLIST_LO, lo32(this.dlist.dmaHandle));
    hvs.writel(H.HVS_DLIST_HI, hi32(this.dlist.dmaHandle));
    hvs.writel(H.HVS_DLIST_COUNT, segs.length);
    hvs.writel(H.HVS_GO, 1);
    if (!waitFor(this.core.sched, () => hvs.status !== 0, DEFAULT_TIMEOUT_NS)) {
      this.core.log.devErr(this.dev, '[drm] *ERROR* [CRTC:0] flip_done timed out');
      return -ETIMEDOUT;
    }
    if ((hvs.status & H.DISPSTAT_DMA_ERROR) !== 0) {
      const fa = hvs.readl(H.HVS_FAULT_LO) + hvs.readl(H.HVS_FAULT_HI) * 2 ** 32;
      this.core.log.devErr(this.dev, `[drm] *ERROR* HVS scan-out DMA error at ${hex(fa)}`);
      return -EIO;
    }
    return { crc: hvs.readl(H.HVS_CRC), bytes: hvs.readl(H.HVS_BYTES) };
  }

  release(): void {
    dmaFreeCoherentBuffers(this.dev, this.dlist);
  }
}

/** The `vc4-hvs` platform driver (`brcm,bcm2711-hvs`); it brings up the vc4 DRM device `gpu`. */
export function vc4HvsDriver(core: CoreServices, bus: BusServices): PlatformDriver {
  return {
    name: VC4_HVS_DRIVER_NAME,
    bus: bus.platform,
    ofMatchTable: [{ compatible: 'brcm,bcm2711-hvs' }],
    probe: (pdev: PlatformDevice) => {
      const res = deviceResources(pdev);
      if (res === null) return -ENODEV;
      const hvs = new Vc4Hvs(core, pdev, res.mmioBase, res.irq);
      const rc = core.irqs.requestIrq(res.irq, () => hvs.interrupt(), VC4_HVS_DRIVER_NAME);
      if (rc !== 0) return rc;
      hvs.writel(H.HVS_INTR_EN, H.DISPSTAT_FRAME_DONE | H.DISPSTAT_DMA_ERROR);
      hvs.writel(H.HVS_DISPCTRL, H.DISPCTRL_ENABLE >>> 0);
      pdev.driverData = hvs;
      // the DT's /gpu node (brcm,bcm2711-vc5): added here when the board does not describe it
      if (!bus.core.devices.has(VC4_DRM_DEVICE_NAME)) {
        bus.core.deviceAdd(bus.platform.createDevice(new FwNode(VC4_DRM_DEVICE_NAME, { compatible: ['brcm,bcm2711-vc5'] })));
      }
      return 0;
    },
    remove: (pdev: PlatformDevice) => {
      core.irqs.freeIrq(vc4HvsOf(pdev)?.irq ?? -1, VC4_HVS_DRIVER_NAME);
      pdev.driverData = undefined;
    },
  };
}

/** The `vc4-drm` platform driver (`brcm,bcm2711-vc5`): vc4_drm_bind. */
export function vc4DrmDriver(core: CoreServices, bus: BusServices): PlatformDriver {
  return {
    name: VC4_DRM_DRIVER_NAME,
    bus: bus.platform,
    ofMatchTable: [{ compatible: 'brcm,bcm2711-vc5' }, { compatible: 'brcm,bcm2835-vc4' }],
    probe: (pdev: PlatformDevice) => {
      let hvs: Vc4Hvs | null = null;
      for (const d of bus.core.devices.values()) {
        const h = vc4HvsOf(d);
        if (h !== null) hvs = h;
      }
      if (hvs === null) return -EPROBE_DEFER;
      adoptDmaConfiguration(pdev, hvs.dev);
      const rc = dmaSetMaskAndCoherent(pdev, dmaBitMask(32));
      if (rc !== 0) return rc;
      const dlist = dmaAllocCoherent(pdev, 4 * PAGE_SIZE);
      if (dlist === null) return -ENOMEM;
      const drm = new Vc4Drm(core, pdev, hvs, dlist);
      hvs.drm = drm;
      pdev.driverData = drm;
      core.log.info(`[drm] Initialized vc4 0.0.0 20140616 for ${pdev.name} on minor 1`);
      return 0;
    },
    remove: (pdev: PlatformDevice) => {
      const drm = vc4DrmOf(pdev);
      drm?.release();
      if (drm) drm.hvs.drm = null;
      pdev.driverData = undefined;
    },
  };
}

/**
 * of_dma_configure(dev, <the HVS node>): the DRM device is a root node with no DMA description of its
 * own, so it takes the HVS's window, limits, coherency and DMA ops (drm/vc4, 2022).
 */
function adoptDmaConfiguration(dev: Device, from: Device): void {
  const ctx = getDmaContext(from);
  dev.dma.rangeMap = from.dma.rangeMap;
  dev.dma.busDmaLimit = from.dma.busDmaLimit;
  dev.dma.coherent = from.dma.coherent;
  dev.dma.maxSegmentSize = from.dma.maxSegmentSize;
  dev.dma.segmentBoundaryMask = from.dma.segmentBoundaryMask;
  ctx?.configureDevice(dev, getDmaOps(from));
}

export function vc4HvsOf(dev: Device): Vc4Hvs | null {
  return dev.driverData instanceof Vc4Hvs ? dev.driverData : null;
}

export function vc4DrmOf(dev: Device): Vc4Drm | null {
  return dev.driverData instanceof Vc4Drm ? dev.driverData : null;
}
