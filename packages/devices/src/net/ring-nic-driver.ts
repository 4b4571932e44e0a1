import type { Device } from '@dmasim/bus';
import { ENODEV, ENOMEM, ENOSPC, PAGE_SIZE, hex, type CoreServices } from '@dmasim/core';
import {
  DMA_FROM_DEVICE,
  DMA_TO_DEVICE,
  dmaAllocCoherent,
  dmaMapSingle,
  dmaMappingError,
  dmaUnmapSingle,
  type DmaCoherentBuffer,
} from '@dmasim/dma-mapping';
import { coherentRead, coherentWrite } from '../common/cpu-access';
import { BAD_DMA_ADDR, takeInjectedFault } from '../common/fault-inject';
import { getU32, hi32, lo32, putU32, putU64 } from '../common/port-io';
import { dmaFreeCoherentBuffers, dmaSetMaskWithFallback } from '../common/driver-dma';
import { deviceResources } from '../common/resources';
import * as R from './ring-nic-regs';

export const NIC_TX_RING = 1024;
export const NIC_RX_RING = 64;

interface TxSlot {
  readonly page: number;
  readonly dma: number;
  readonly len: number;
}

interface RxSlot {
  page: number;
  dma: number;
}

export interface NetStats {
  txPackets: number;
  rxPackets: number;
  txMapErrors: number;
  rxMapErrors: number;
  txErrors: number;
  fatalErrors: number;
}

/**
 * A network device on the ring NIC (struct net_device + the driver's private state): descriptor
 * rings in coherent memory, one dma_map_single per transmitted frame (unmapped when the frame is
 * reclaimed), receive buffers mapped one by one and remapped on refill. `txKeep` holds reclaimed
 * frames back so that many mappings stay live, as a busy NIC's TX ring does.
 */
export class NetDev {
  readonly stats: NetStats = { txPackets: 0, rxPackets: 0, txMapErrors: 0, rxMapErrors: 0, txErrors: 0, fatalErrors: 0 };
  /** Completed TX frames kept mapped before reclaim (the workload's `inflight`). */
  txKeep = 0;
  /** Called with each received frame's bytes (netif_receive_skb). */
  onReceive: ((frame: Uint8Array) => void) | null = null;
  private readonly tx: (TxSlot | null)[];
  private readonly rx: (RxSlot | null)[];
  private txHead = 0;
  private txTail = 0;
  private rxNext = 0;
  /** Loopback mode, restored after a reset. */
  loopback = false;

  constructor(
    private readonly core: CoreServices,
    readonly dev: Device,
    readonly ifname: string,
    private readonly base: number,
    readonly irq: number,
    private readonly driverName: string,
    private readonly txRing: DmaCoherentBuffer,
    private readonly rxRing: DmaCoherentBuffer,
  ) {
    this.tx = new Array<TxSlot | null>(NIC_TX_RING).fill(null);
    this.rx = new Array<RxSlot | null>(NIC_RX_RING).fill(null);
  }

  private readl(off: number): number {
    return this.core.mmio.readl(this.base + off);
  }
  private writel(off: number, v: number): void {
    this.core.mmio.writel(this.base + off, v);
  }

  /** Frames queued and not yet reclaimed (their mappings are live). */
  get txOutstanding(): number {
    return (this.txHead - this.txTail + NIC_TX_RING) % NIC_TX_RING;
  }

  /** Whether the hardware has consumed everything queued. */
  get txIdle(): boolean {
    return this.readl(R.NIC_TX_INDEX) === this.txHead;
  }

  /** ndo_open: rings, receive buffers, interrupts, engines (loopback on request). */
  open(loopback: boolean): void {
    this.writel(R.NIC_CTRL, R.CTRL_RESET >>> 0);
    this.txHead = this.txTail = this.rxNext = 0;
    const zero = new Uint8Array(this.txRing.size);
    coherentWrite(this.core.cache, this.txRing, 0, zero);
    for (let i = 0; i < NIC_RX_RING; i++) this.refill(i);
    this.writel(R.NIC_TX_BASE_LO, lo32(this.txRing.dmaHandle));
    this.writel(R.NIC_TX_BASE_HI, hi32(this.txRing.dmaHandle));
    this.writel(R.NIC_TX_RING_SIZE, NIC_TX_RING);
    this.writel(R.NIC_RX_BASE_LO, lo32(this.rxRing.dmaHandle));
    this.writel(R.NIC_RX_BASE_HI, hi32(this.rxRing.dmaHandle));
    this.writel(R.NIC_RX_RING_SIZE, NIC_RX_RING);
    this.writel(R.NIC_INTR_EN, R.STATUS_TI | R.STATUS_RI | R.STATUS_FBI | R.STATUS_RU);
    this.writel(R.NIC_CTRL, R.CTRL_TX_EN | R.CTRL_RX_EN | (loopback ? R.CTRL_LOOPBACK : 0));
  }

  /** Gives RX slot i a freshly mapped buffer (or leaves it empty when mapping fails). */
  private refill(i: number): void {
    let slot = this.rx[i] ?? null;
    if (slot === null) {
      const page = this.core.pages.allocPages(0);
      if (page === null) return;
      slot = { page, dma: 0 };
      this.rx[i] = slot;
    }
    const dma = dmaMapSingle(this.dev, slot.page, R.RX_BUF_SIZE, DMA_FROM_DEVICE);
    const desc = new Uint8Array(R.DESC_SIZE);
    if (dmaMappingError(this.dev, dma) !== 0) {
      this.stats.rxMapErrors++;
      slot.dma = 0;
      coherentWrite(this.core.cache, this.rxRing, i * R.DESC_SIZE, desc);
      return;
    }
    slot.dma = dma;
    putU32(desc, 4, R.RX_BUF_SIZE);
    putU64(desc, 8, dma);
    coherentWrite(this.core.cache, this.rxRing, i * R.DESC_SIZE + 4, desc.subarray(4));
    // OWN last: the device must not see a half-written descriptor
    putU32(desc, 0, R.DESC_OWN >>> 0);
    coherentWrite(this.core.cache, this.rxRing, i * R.DESC_SIZE, desc.subarray(0, 4));
  }

  /** ndo_start_xmit: 0, -ENOSPC when the ring is full, -ENOMEM when the frame cannot be mapped. */
  xmit(frame: Uint8Array): number {
    if (this.txOutstanding >= NIC_TX_RING - 1) {
      this.reclaim(0);
      if (this.txOutstanding >= NIC_TX_RING - 1) return -ENOSPC;
    }
    const pages = Math.ceil(frame.length / PAGE_SIZE);
    const page = this.core.pages.allocPagesExact(pages * PAGE_SIZE);
    if (page === null) return -ENOMEM;
    this.core.cache.cpuWrite(page, frame);
    let dma = dmaMapSingle(this.dev, page, frame.length, DMA_TO_DEVICE);
    if (dmaMappingError(this.dev, dma) !== 0) {
      this.core.pages.freePagesExact(page, pages * PAGE_SIZE);
      this.stats.txMapErrors++;
      this.core.log.ratelimited(`${this.driverName} xmit`, 'err', `${this.driverName} ${this.dev.name} ${this.ifname}: tx dma mapping error`);
      return -ENOMEM;
    }
    const slotDma = dma;
    if (takeInjectedFault(this.dev)) dma = BAD_DMA_ADDR;
    const i = this.txHead;
    this.tx[i] = { page, dma: slotDma, len: frame.length };
    const desc = new Uint8Array(R.DESC_SIZE);
    putU32(desc, 4, frame.length);
    putU64(desc, 8, dma);
    coherentWrite(this.core.cache, this.txRing, i * R.DESC_SIZE + 4, desc.subarray(4));
    putU32(desc, 0, (R.DESC_OWN | frame.length) >>> 0);
    coherentWrite(this.core.cache, this.txRing, i * R.DESC_SIZE, desc.subarray(0, 4));
    this.txHead = (i + 1) % NIC_TX_RING;
    this.writel(R.NIC_TX_POLL, 1);
    return 0;
  }

  /** TX completion: unmaps and frees frames the hardware is done with, keeping `keep` of them. */
  reclaim(keep = this.txKeep): number {
    const word = new Uint8Array(4);
    let n = 0;
    while (this.txOutstanding > keep) {
      const i = this.txTail;
      coherentRead(this.core.cache, this.txRing, i * R.DESC_SIZE, word);
      if ((getU32(word, 0) & R.DESC_OWN) !== 0) break;
      this.releaseTx(i);
      this.stats.txPackets++;
      this.txTail = (i + 1) % NIC_TX_RING;
      n++;
    }
    return n;
  }

  private releaseTx(i: number): void {
    const s = this.tx[i];
    if (!s) return;
    dmaUnmapSingle(this.dev, s.dma, s.len, DMA_TO_DEVICE);
    this.core.pages.freePagesExact(s.page, Math.ceil(s.len / PAGE_SIZE) * PAGE_SIZE);
    this.tx[i] = null;
  }

  /** RX: hands completed buffers up, remapping each for the next frame. */
  private receive(): void {
    const word = new Uint8Array(4);
    for (let k = 0; k < NIC_RX_RING; k++) {
      const i = this.rxNext;
      const slot = this.rx[i];
      if (!slot || slot.dma === 0) break;
      coherentRead(this.core.cache, this.rxRing, i * R.DESC_SIZE, word);
      const w0 = getU32(word, 0);
      if ((w0 & R.DESC_OWN) !== 0) break;
      const len = w0 & 0xffff;
      dmaUnmapSingle(this.dev, slot.dma, R.RX_BUF_SIZE, DMA_FROM_DEVICE);
      slot.dma = 0;
      const frame = new Uint8Array(len);
      this.core.cache.cpuRead(slot.page, frame);
      this.stats.rxPackets++;
      this.onReceive?.(frame);
      this.refill(i);
      this.rxNext = (i + 1) % NIC_RX_RING;
    }
  }

  /** The interrupt handler (NAPI poll folded in). */
  interrupt(): 'handled' | 'none' {
    const st = this.readl(R.NIC_STATUS);
    if (st === 0) return 'none';
    this.writel(R.NIC_STATUS, st);
    if ((st & R.STATUS_FBI) !== 0) {
      this.fatalError();
      return 'handled';
    }
    if ((st & (R.STATUS_RI | R.STATUS_RU)) !== 0) this.receive();
    if ((st & R.STATUS_TI) !== 0) this.reclaim();
    return 'handled';
  }

  /** Fatal bus error: report, drop every queued frame, reset the MAC and reopen. */
  private fatalError(): void {
    const addr = this.readl(R.NIC_FAULT_ADDR_LO) + this.readl(R.NIC_FAULT_ADDR_HI) * 2 ** 32;
    this.stats.fatalErrors++;
    this.core.log.devErr(this.dev, `${this.ifname}: fatal bus error at ${hex(addr)}, resetting`);
    this.receive();
    while (this.txOutstanding > 0) {
      const i = this.txTail;
      const word = new Uint8Array(4);
      coherentRead(this.core.cache, this.txRing, i * R.DESC_SIZE, word);
      // frames the hardware had not sent are lost
      if ((getU32(word, 0) & R.DESC_OWN) !== 0) this.stats.txErrors++;
      else this.stats.txPackets++;
      this.releaseTx(i);
      this.txTail = (i + 1) % NIC_TX_RING;
    }
    for (let i = 0; i < NIC_RX_RING; i++) {
      const s = this.rx[i];
      if (s && s.dma !== 0) {
        dmaUnmapSingle(this.dev, s.dma, R.RX_BUF_SIZE, DMA_FROM_DEVICE);
        s.dma = 0;
      }
    }
    this.open(this.loopback);
  }

  /** ndo_stop: engines off, every mapping and buffer given back. */
  close(): void {
    this.writel(R.NIC_CTRL, R.CTRL_RESET >>> 0);
    while (this.txOutstanding > 0) {
      this.releaseTx(this.txTail);
      this.txTail = (this.txTail + 1) % NIC_TX_RING;
    }
    for (let i = 0; i < NIC_RX_RING; i++) {
      const s = this.rx[i];
      if (!s) continue;
      if (s.dma !== 0) dmaUnmapSingle(this.dev, s.dma, R.RX_BUF_SIZE, DMA_FROM_DEVICE);
      this.core.pages.freePages(s.page, 0);
      this.rx[i] = null;
    }
  }

  release(): void {
    this.close();
    this.core.irqs.freeIrq(this.irq, this.driverName);
    dmaFreeCoherentBuffers(this.dev, this.txRing, this.rxRing);
  }
}

/** Interface numbering per machine (eth0, eth1, ...). */
const ifIndex = new WeakMap<CoreServices, number>();

/** Common probe of both NIC drivers: mask, rings, IRQ, open in loopback. */
export function ringNicProbe(core: CoreServices, dev: Device, driverName: string, banner: (ifname: string) => string[]): number {
  const res = deviceResources(dev);
  if (res === null) return -ENODEV;
  const dma64 = (core.mmio.readl(res.mmioBase + R.NIC_HW_FEATURE) & R.FEATURE_DMA64) !== 0;
  let rc = dmaSetMaskWithFallback(dev, dma64 ? 64 : 32);
  if (rc !== 0) {
    core.log.devErr(dev, 'No usable DMA configuration, aborting');
    return rc;
  }
  const txRing = dmaAllocCoherent(dev, NIC_TX_RING * R.DESC_SIZE);
  const rxRing = dmaAllocCoherent(dev, NIC_RX_RING * R.DESC_SIZE);
  if (txRing === null || rxRing === null) {
    dmaFreeCoherentBuffers(dev, txRing, rxRing);
    return -ENOMEM;
  }
  const n = ifIndex.get(core) ?? 0;
  ifIndex.set(core, n + 1);
  const nd = new NetDev(core, dev, `eth${n}`, res.mmioBase, res.irq, driverName, txRing, rxRing);
  rc = core.irqs.requestIrq(res.irq, () => nd.interrupt(), driverName);
  if (rc !== 0) {
    nd.release();
    return rc;
  }
  nd.loopback = true;
  nd.open(true);
  for (const line of banner(nd.ifname)) core.log.devInfo(dev, line);
  dev.driverData = nd;
  return 0;
}

export function netDevOf(dev: Device): NetDev | null {
  return dev.driverData instanceof NetDev ? dev.driverData : null;
}
