import type { Device } from '@dmasim/bus';
import { EIO, ENODEV, ENOMEM, ETIMEDOUT, PAGE_SIZE, dmaBitMask, hex, type CoreServices } from '@dmasim/core';
import { dmaAllocCoherent, dmaFreeCoherent, dmaSetMaskAndCoherent, type DmaCoherentBuffer } from '@dmasim/dma-mapping';
import { coherentRead, coherentWrite } from '../common/cpu-access';
import { BAD_DMA_ADDR, takeInjectedFault } from '../common/fault-inject';
import { firstMismatch, pattern } from '../common/pattern';
import { hi32, lo32 } from '../common/port-io';
import { deviceResources } from '../common/resources';
import { waitFor } from '../common/wait';
import * as E from './dma-engine-hw';

/** Bytes each self-test copies (half of the coherent buffer to the other half). */
export const SELFTEST_BYTES = PAGE_SIZE;

/** A driver's hold on a DMA-engine device: its coherent buffer and interrupt. */
export class DmaEngine {
  private status = 0;
  runs = 0;
  failures = 0;

  constructor(
    private readonly core: CoreServices,
    readonly dev: Device,
    readonly driverName: string,
    private readonly base: number,
    readonly irq: number,
    private readonly buf: DmaCoherentBuffer,
  ) {}

  interrupt(): 'handled' | 'none' {
    const st = this.core.mmio.readl(this.base + E.ENG_STATUS);
    if (st === 0) return 'none';
    this.core.mmio.writel(this.base + E.ENG_STATUS, st);
    this.status |= st;
    return 'handled';
  }

  /** One memcpy through the device: pattern into the first half, copy, compare the second. 0 or -errno. */
  selftest(seed: number): number {
    this.runs++;
    const src = pattern(SELFTEST_BYTES, seed);
    coherentWrite(this.core.cache, this.buf, 0, src);
    coherentWrite(this.core.cache, this.buf, SELFTEST_BYTES, new Uint8Array(SELFTEST_BYTES));
    const srcAddr = takeInjectedFault(this.dev) ? BAD_DMA_ADDR : this.buf.dmaHandle;
    const t = this.transfer(srcAddr, this.buf.dmaHandle + SELFTEST_BYTES, SELFTEST_BYTES);
    if (t.rc !== 0) {
      this.failures++;
      if (t.rc === -ETIMEDOUT) selftestStep(this.core, this.dev, 'timed out');
      else selftestStep(this.core, this.dev, `bus error at ${hex(t.faultAddr)}`);
      return t.rc;
    }
    const got = new Uint8Array(SELFTEST_BYTES);
    coherentRead(this.core.cache, this.buf, SELFTEST_BYTES, got);
    if (firstMismatch(got, src) >= 0) {
      this.failures++;
      selftestStep(this.core, this.dev, 'data mismatch');
      return -EIO;
    }
    return 0;
  }

  /**
   * One memcpy of `len` bytes between two device (bus) addresses, waiting for the interrupt.
   * rc is 0, -ETIMEDOUT, or -EIO with the address the engine reported in its fault registers.
   */
  transfer(srcAddr: number, dstAddr: number, len: number): { rc: number; faultAddr: number } {
    const w = (off: number, v: number): void => this.core.mmio.writel(this.base + off, v);
    this.status = 0;
    w(E.ENG_SRC_LO, lo32(srcAddr));
    w(E.ENG_SRC_HI, hi32(srcAddr));
    w(E.ENG_DST_LO, lo32(dstAddr));
    w(E.ENG_DST_HI, hi32(dstAddr));
    w(E.ENG_LEN, len);
    w(E.ENG_GO, 1);
    if (!waitFor(this.core.sched, () => this.status !== 0)) return { rc: -ETIMEDOUT, faultAddr: 0 };
    if ((this.status & E.ENG_STATUS_ERROR) !== 0) {
      const fa = this.core.mmio.readl(this.base + E.ENG_FAULT_LO) + this.core.mmio.readl(this.base + E.ENG_FAULT_HI) * 2 ** 32;
      return { rc: -EIO, faultAddr: fa };
    }
    return { rc: 0, faultAddr: 0 };
  }

  release(): void {
    this.core.irqs.freeIrq(this.irq, this.driverName);
    dmaFreeCoherent(this.dev, this.buf.size, this.buf.cpuAddr, this.buf.dmaHandle);
  }
}

/**
 * A line of dmasim's memcpy self-test, which no kernel driver (ehci-hcd, ohci-hcd) runs: it carries
 * dmasim's name, not a driver's dev_err prefix, so it is never mistaken for kernel text; the kernel
 * lines a failing step provokes (faults, dma-debug, probe failure) are the ones to compare.
 */
export function selftestStep(core: CoreServices, dev: Device, text: string): void {
  core.log.err(`dmasim dma-selftest ${dev.name}: ${text}`);
}

/**
 * The probe all DMA-engine drivers share: mask, a coherent buffer, the interrupt, one self-test
 * (a failure fails the probe with -EIO, as a controller that cannot reach memory is useless).
 */
export function dmaEngineProbe(core: CoreServices, dev: Device, driverName: string, maskBits: number, banner: (irq: number, base: number) => string[]): number {
  const res = deviceResources(dev);
  if (res === null) return -ENODEV;
  let rc = dmaSetMaskAndCoherent(dev, dmaBitMask(maskBits));
  if (rc !== 0 && maskBits > 32) rc = dmaSetMaskAndCoherent(dev, dmaBitMask(32));
  if (rc !== 0) return rc;
  const buf = dmaAllocCoherent(dev, 2 * SELFTEST_BYTES);
  if (buf === null) return -ENOMEM;
  const eng = new DmaEngine(core, dev, driverName, res.mmioBase, res.irq, buf);
  rc = core.irqs.requestIrq(res.irq, () => eng.interrupt(), driverName, true);
  if (rc !== 0) {
    dmaFreeCoherent(dev, buf.size, buf.cpuAddr, buf.dmaHandle);
    return rc;
  }
  core.mmio.writel(res.mmioBase + E.ENG_INTR_EN, E.ENG_STATUS_DONE | E.ENG_STATUS_ERROR);
  for (const line of banner(res.irq, res.mmioBase)) core.log.devInfo(dev, line);
  rc = eng.selftest(1);
  if (rc !== 0) {
    eng.release();
    return rc;
  }
  dev.driverData = eng;
  return 0;
}

export function dmaEngineOf(dev: Device): DmaEngine | null {
  return dev.driverData instanceof DmaEngine ? dev.driverData : null;
}
