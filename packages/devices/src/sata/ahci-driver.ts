import type { BusServices, Device, PlatformDevice, PlatformDriver } from '@dmasim/bus';
import { EBUSY, ENODEV, ENOMEM, ETIMEDOUT, hex, type CoreServices } from '@dmasim/core';
import {
  DMA_FROM_DEVICE,
  DMA_TO_DEVICE,
  dmaAllocCoherent,
  dmaGetMaxSegSize,
  dmaMapSg,
  dmaUnmapSg,
  type DmaCoherentBuffer,
  type DmaDataDirection,
  type Scatterlist,
} from '@dmasim/dma-mapping';
import { coherentWrite } from '../common/cpu-access';
import { BAD_DMA_ADDR, takeInjectedFault } from '../common/fault-inject';
import { hi32, lo32, putU32, putU64 } from '../common/port-io';
import { deviceResources } from '../common/resources';
import { DEFAULT_TIMEOUT_NS, waitFor } from '../common/wait';
import type { BlockQueue, BlockRequest, BlockStatus } from '../common/block-workload';
import { blockRwSync } from '../common/block-sync';
import { dmaFreeCoherentBuffers, dmaSetMaskWithFallback } from '../common/driver-dma';
import * as R from './ahci-regs';

export const AHCI_DRIVER_NAME = 'ahci';
/** PRDs per command table: the table is one 4 KiB page (128-byte header + 248 PRDs). */
export const AHCI_MAX_PRD = 248;
const CMD_TBL_SZ = 4096;

/** A command in flight, as the driver tracks it (struct ata_queued_cmd). */
export interface AhciCommand {
  readonly req: BlockRequest;
  readonly slot: number;
  readonly sgl: Scatterlist[];
  readonly dir: DmaDataDirection;
  status: BlockStatus;
}

/**
 * The driver side of one AHCI host (struct ahci_host_priv + its ata_port): the command list and
 * tables in coherent memory, one slot per queued command, scatterlists mapped with dma_map_sg and
 * split at the device's max segment size, completion and error handling from the interrupt.
 */
export class AhciHost implements BlockQueue {
  readonly queueDepth = 8;
  readonly active = new Map<number, AhciCommand>();
  completed = 0;
  failed = 0;
  resets = 0;

  constructor(
    private readonly core: CoreServices,
    readonly dev: Device,
    private readonly base: number,
    readonly irq: number,
    private readonly cmdList: DmaCoherentBuffer,
    private readonly rxFis: DmaCoherentBuffer,
    private readonly tables: DmaCoherentBuffer,
  ) {}

  private readl(off: number): number {
    return this.core.mmio.readl(this.base + off);
  }
  private writel(off: number, v: number): void {
    this.core.mmio.writel(this.base + off, v);
  }

  /** Brings the port up: list and FIS addresses, interrupts, start. */
  start(): void {
    this.writel(R.HOST_CTL, (R.HOST_CTL_AHCI_EN | R.HOST_CTL_IRQ_EN) >>> 0);
    this.writel(R.PORT0 + R.PORT_LST_ADDR, lo32(this.cmdList.dmaHandle));
    this.writel(R.PORT0 + R.PORT_LST_ADDR_HI, hi32(this.cmdList.dmaHandle));
    this.writel(R.PORT0 + R.PORT_FIS_ADDR, lo32(this.rxFis.dmaHandle));
    this.writel(R.PORT0 + R.PORT_FIS_ADDR_HI, hi32(this.rxFis.dmaHandle));
    this.writel(R.PORT0 + R.PORT_IRQ_STAT, 0xffffffff);
    this.writel(R.PORT0 + R.PORT_IRQ_MASK, (R.PORT_IRQ_D2H_REG_FIS | R.PORT_IRQ_ERROR) >>> 0);
    this.writel(R.PORT0 + R.PORT_CMD, R.PORT_CMD_FIS_RX | R.PORT_CMD_START);
  }

  stop(): void {
    this.writel(R.PORT0 + R.PORT_CMD, 0);
    this.writel(R.PORT0 + R.PORT_IRQ_MASK, 0);
  }

  freeSlot(): number {
    for (let s = 0; s < R.NR_SLOTS; s++) if (!this.active.has(s)) return s;
    return -1;
  }

  /**
   * Queues a request: builds its scatterlist (segments split at dma_get_max_seg_size), maps it,
   * writes the PRDT and issues the slot. Returns the command, or a negative errno (-EBUSY when no
   * slot is free, -ENOMEM when mapping failed).
   */
  submit(req: BlockRequest): AhciCommand | number {
    const slot = this.freeSlot();
    if (slot < 0) return -EBUSY;
    const maxSeg = dmaGetMaxSegSize(this.dev);
    const sgl: Scatterlist[] = [];
    for (const seg of req.segments) {
      for (let off = 0; off < seg.len; off += maxSeg) {
        const phys = seg.phys + off;
        const len = Math.min(maxSeg, seg.len - off);
        const po = phys % 4096;
        sgl.push({ pagePhys: phys - po, offset: po, length: len, dmaAddress: 0, dmaLength: 0 });
      }
    }
    const dir = req.write ? DMA_TO_DEVICE : DMA_FROM_DEVICE;
    const nents = dmaMapSg(this.dev, sgl, sgl.length, dir);
    if (nents === 0) return -ENOMEM;
    // PRDT: each mapped DMA segment, split at the 4 MiB PRD limit
    const prds: { addr: number; len: number }[] = [];
    for (let i = 0; i < nents; i++) {
      const sg = sgl[i]!;
      for (let off = 0; off < sg.dmaLength; off += R.AHCI_PRD_MAX) prds.push({ addr: sg.dmaAddress + off, len: Math.min(R.AHCI_PRD_MAX, sg.dmaLength - off) });
    }
    if (prds.length > AHCI_MAX_PRD) {
      dmaUnmapSg(this.dev, sgl, sgl.length, dir);
      return -ENOMEM;
    }
    if (prds.length > 0 && takeInjectedFault(this.dev)) prds[0] = { addr: BAD_DMA_ADDR, len: prds[0]!.len };
    const tbl = new Uint8Array(R.CMD_TBL_PRDT + prds.length * R.PRD_SIZE);
    tbl[0] = R.FIS_TYPE_REG_H2D;
    tbl[1] = 0x80; // command, not control
    tbl[2] = req.write ? R.ATA_CMD_WRITE_EXT : R.ATA_CMD_READ_EXT;
    const lbaBytes = lbaToBytes(req.lba);
    tbl.set(lbaBytes.subarray(0, 3), 4);
    tbl[7] = 0x40; // LBA mode
    tbl.set(lbaBytes.subarray(3, 6), 8);
    tbl[12] = req.sectors % 256;
    tbl[13] = Math.floor(req.sectors / 256) % 256;
    prds.forEach((p, i) => {
      putU64(tbl, R.CMD_TBL_PRDT + i * R.PRD_SIZE, p.addr);
      putU32(tbl, R.CMD_TBL_PRDT + i * R.PRD_SIZE + 12, p.len - 1);
    });
    coherentWrite(this.core.cache, this.tables, slot * CMD_TBL_SZ, tbl);
    const hdr = new Uint8Array(R.CMD_HDR_SIZE);
    putU32(hdr, 0, (5 | (req.write ? R.CMD_HDR_WRITE : 0) | (prds.length << 16)) >>> 0);
    putU64(hdr, 8, this.tables.dmaHandle + slot * CMD_TBL_SZ);
    coherentWrite(this.core.cache, this.cmdList, slot * R.CMD_HDR_SIZE, hdr);
    const cmd: AhciCommand = { req, slot, sgl, dir, status: 'pending' };
    this.active.set(slot, cmd);
    this.writel(R.PORT0 + R.PORT_CMD_ISSUE, (1 << slot) >>> 0);
    return cmd;
  }

  /** ahci_interrupt → ahci_port_intr: completions, or error handling on an error status. */
  interrupt(): 'handled' | 'none' {
    const hostIs = this.readl(R.HOST_IRQ_STAT);
    if ((hostIs & 1) === 0) return 'none';
    const pis = this.readl(R.PORT0 + R.PORT_IRQ_STAT);
    this.writel(R.PORT0 + R.PORT_IRQ_STAT, pis);
    this.writel(R.HOST_IRQ_STAT, 1);
    if ((pis & R.PORT_IRQ_ERROR) !== 0) {
      const serr = this.readl(R.PORT0 + R.PORT_SCR_ERR);
      this.errorHandler(0x10, serr, (pis & R.PORT_IRQ_HBUS_ERR) !== 0 ? 'host bus error' : 'interface error');
      return 'handled';
    }
    const ci = this.readl(R.PORT0 + R.PORT_CMD_ISSUE);
    for (const [slot, cmd] of [...this.active]) {
      if ((ci & ((1 << slot) >>> 0)) !== 0) continue;
      this.finish(cmd, 'ok');
    }
    return 'handled';
  }

  private finish(cmd: AhciCommand, status: BlockStatus): void {
    this.active.delete(cmd.slot);
    dmaUnmapSg(this.dev, cmd.sgl, cmd.sgl.length, cmd.dir);
    cmd.status = status;
    if (status === 'ok') this.completed++;
    else this.failed++;
  }

  /** libata EH: report, fail every active command (-EIO), hard reset the port. */
  private errorHandler(emask: number, serr: number, what: string): void {
    const log = this.core.log;
    const sact = 0;
    log.err(`ata1.00: exception Emask ${hex(emask)} SAct ${hex(sact)} SErr ${hex(serr)} action 0x6 frozen`);
    log.err(`ata1: ${what}`);
    for (const cmd of [...this.active.values()]) {
      log.err(`ata1.00: failed command: ${cmd.req.write ? 'WRITE DMA EXT' : 'READ DMA EXT'}`);
      this.finish(cmd, 'error');
    }
    log.info('ata1: hard resetting link');
    this.resets++;
    this.writel(R.PORT0 + R.PORT_CMD, 0);
    this.writel(R.PORT0 + R.PORT_SCR_ERR, 0xffffffff);
    this.writel(R.PORT0 + R.PORT_IRQ_STAT, 0xffffffff);
    this.writel(R.PORT0 + R.PORT_CMD, R.PORT_CMD_FIS_RX | R.PORT_CMD_START);
    log.info('ata1: SATA link up 6.0 Gbps (SStatus 133 SControl 300)');
    log.info('ata1: EH complete');
  }

  /** Waits for every active command; on timeout runs EH (the commands fail with a timeout). */
  waitIdle(timeoutNs = DEFAULT_TIMEOUT_NS): number {
    if (waitFor(this.core.sched, () => this.active.size === 0, timeoutNs)) return 0;
    this.errorHandler(0x4, 0, 'timeout');
    return -ETIMEDOUT;
  }

  /** Synchronous helper: one request, waited for. 0, or -errno. */
  rw(req: BlockRequest): number {
    return blockRwSync(this, req);
  }

  release(): void {
    this.stop();
    this.core.irqs.freeIrq(this.irq, AHCI_DRIVER_NAME);
    dmaFreeCoherentBuffers(this.dev, this.tables, this.rxFis, this.cmdList);
  }
}

function lbaToBytes(lba: number): Uint8Array {
  const out = new Uint8Array(6);
  let x = lba;
  for (let i = 0; i < 6; i++) {
    out[i] = x % 256;
    x = Math.floor(x / 256);
  }
  return out;
}

/** The `ahci` platform driver for `calxeda,hb-ahci` (ahci_platform). */
export function ahciPlatformDriver(core: CoreServices, bus: BusServices): PlatformDriver {
  return {
    name: AHCI_DRIVER_NAME,
    bus: bus.platform,
    ofMatchTable: [{ compatible: 'calxeda,hb-ahci' }],
    probe: (pdev: PlatformDevice) => ahciProbe(core, pdev),
    remove: (pdev: PlatformDevice) => {
      (pdev.driverData as AhciHost | undefined)?.release();
      pdev.driverData = undefined;
    },
  };
}

function ahciProbe(core: CoreServices, dev: Device): number {
  const res = deviceResources(dev);
  if (res === null) return -ENODEV;
  const cap = core.mmio.readl(res.mmioBase + R.HOST_CAP);
  const s64 = (cap & R.HOST_CAP_64) !== 0;
  let rc = dmaSetMaskWithFallback(dev, s64 ? 64 : 32);
  if (rc !== 0) {
    core.log.devErr(dev, 'DMA enable failed');
    return rc;
  }
  const cmdList = dmaAllocCoherent(dev, R.NR_SLOTS * R.CMD_HDR_SIZE);
  const rxFis = dmaAllocCoherent(dev, 256);
  const tables = dmaAllocCoherent(dev, R.NR_SLOTS * CMD_TBL_SZ);
  if (cmdList === null || rxFis === null || tables === null) {
    dmaFreeCoherentBuffers(dev, tables, rxFis, cmdList);
    return -ENOMEM;
  }
  const host = new AhciHost(core, dev, res.mmioBase, res.irq, cmdList, rxFis, tables);
  rc = core.irqs.requestIrq(res.irq, () => host.interrupt(), AHCI_DRIVER_NAME);
  if (rc !== 0) {
    host.release();
    return rc;
  }
  const version = core.mmio.readl(res.mmioBase + R.HOST_VERSION);
  const v = `${hex(Math.floor(version / 65536), 4).slice(2)}.${hex(version % 65536, 4).slice(2)}`;
  core.log.devInfo(dev, `AHCI ${v} 32 slots 1 ports 6 Gbps 0x1 impl platform mode`);
  core.log.devInfo(dev, `flags: ${s64 ? '64bit ' : ''}ncq sntf pm led clo only pmp fbs pio slum part ccc`);
  host.start();
  core.log.info(`ata1: SATA max UDMA/133 mmio [mem ${hex(res.mmioBase, 8)}-${hex(res.mmioBase + 0xfff, 8)}] port 0x100 irq ${res.irq}`);
  core.log.info('ata1: SATA link up 6.0 Gbps (SStatus 133 SControl 300)');
  dev.driverData = host;
  return 0;
}

/** The bound AHCI host of a device, or null. */
export function ahciHostOf(dev: Device): AhciHost | null {
  return dev.driverData instanceof AhciHost ? dev.driverData : null;
}
