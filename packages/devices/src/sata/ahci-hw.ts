import { hex } from '@dmasim/core';
import type { HardwareContext } from '../model';
import { MmioDeviceHw } from '../common/mmio-device-hw';
import { getU32 } from '../common/port-io';
import { hi32, lo32, setHi32, setLo32 } from '../common/reg64';
import { SECTOR_SIZE, SparseDisk } from '../common/sparse-disk';
import * as R from './ahci-regs';

/** Simulated time the disk takes per command. */
const CMD_LATENCY_NS = 2000;

export interface AhciHwOptions {
  /** Disk size in sectors (default 2^24: 8 GiB). */
  readonly sectors?: number;
  /** CAP.S64A (default false: the driver keeps a 32-bit mask). */
  readonly s64a?: boolean;
}

/**
 * An AHCI host with one SATA port and a sparse disk behind it: the command list, command tables and
 * PRDTs are read from memory through the DMA port; data moves by PRD; completion and errors are
 * reported in PxIS and the interrupt line, as a real HBA does.
 */
export class AhciHw extends MmioDeviceHw {
  readonly mmioSize = 0x1000;
  readonly disk: SparseDisk;
  private ghc = 0;
  private hostIs = 0;
  private clb = 0;
  private fb = 0;
  private pis = 0;
  private pie = 0;
  private cmd = 0;
  private tfd = R.ATA_DRDY;
  private serr = 0;
  private ci = 0;
  /** Commands completed and DMA faults seen (for tests and reports). */
  commandsDone = 0;
  dmaFaults = 0;

  constructor(
    ctx: HardwareContext,
    private readonly options: AhciHwOptions = {},
  ) {
    super(ctx);
    this.disk = new SparseDisk(options.sectors ?? 2 ** 24);
    this.mapMmio();
  }

  protected read32(off: number): number {
    switch (off) {
      case R.HOST_CAP:
        // 32 slots, 1 port, NCQ, optional 64-bit
        return ((this.options.s64a === true ? R.HOST_CAP_64 : 0) | R.HOST_CAP_NCQ | ((R.NR_SLOTS - 1) << 8)) >>> 0;
      case R.HOST_CTL:
        return this.ghc >>> 0;
      case R.HOST_IRQ_STAT:
        return this.hostIs;
      case R.HOST_PORTS_IMPL:
        return 1;
      case R.HOST_VERSION:
        return 0x00010300;
      case R.PORT0 + R.PORT_LST_ADDR:
        return lo32(this.clb);
      case R.PORT0 + R.PORT_LST_ADDR_HI:
        return hi32(this.clb);
      case R.PORT0 + R.PORT_FIS_ADDR:
        return lo32(this.fb);
      case R.PORT0 + R.PORT_FIS_ADDR_HI:
        return hi32(this.fb);
      case R.PORT0 + R.PORT_IRQ_STAT:
        return this.pis >>> 0;
      case R.PORT0 + R.PORT_IRQ_MASK:
        return this.pie >>> 0;
      case R.PORT0 + R.PORT_CMD:
        return this.cmd;
      case R.PORT0 + R.PORT_TFDATA:
        return this.tfd;
      case R.PORT0 + R.PORT_SCR_STAT:
        return 0x133; // device present, Gen3 speed, active
      case R.PORT0 + R.PORT_SCR_ERR:
        return this.serr >>> 0;
      case R.PORT0 + R.PORT_CMD_ISSUE:
        return this.ci >>> 0;
      default:
        return 0;
    }
  }

  protected write32(off: number, v: number): void {
    switch (off) {
      case R.HOST_CTL:
        this.ghc = v >>> 0;
        break;
      case R.HOST_IRQ_STAT:
        this.hostIs = (this.hostIs & ~v) >>> 0;
        this.updateIrq();
        break;
      case R.PORT0 + R.PORT_LST_ADDR:
        this.clb = setLo32(this.clb, v);
        break;
      case R.PORT0 + R.PORT_LST_ADDR_HI:
        this.clb = setHi32(this.clb, v);
        break;
      case R.PORT0 + R.PORT_FIS_ADDR:
        this.fb = setLo32(this.fb, v);
        break;
      case R.PORT0 + R.PORT_FIS_ADDR_HI:
        this.fb = setHi32(this.fb, v);
        break;
      case R.PORT0 + R.PORT_IRQ_STAT:
        this.pis = (this.pis & ~v) >>> 0;
        if (this.pis === 0) this.hostIs = (this.hostIs & ~1) >>> 0;
        this.updateIrq();
        break;
      case R.PORT0 + R.PORT_IRQ_MASK:
        this.pie = v >>> 0;
        this.updateIrq();
        break;
      case R.PORT0 + R.PORT_CMD:
        this.writeCmd(v >>> 0);
        break;
      case R.PORT0 + R.PORT_SCR_ERR:
        this.serr = (this.serr & ~v) >>> 0;
        break;
      case R.PORT0 + R.PORT_CMD_ISSUE:
        if ((this.cmd & R.PORT_CMD_START) === 0) break;
        this.ci = (this.ci | v) >>> 0;
        this.doorbell(CMD_LATENCY_NS, 'cmd', () => this.process());
        break;
      default:
        break;
    }
  }

  private writeCmd(v: number): void {
    const wasStarted = (this.cmd & R.PORT_CMD_START) !== 0;
    this.cmd = v & ~R.PORT_CMD_LIST_ON;
    if ((v & R.PORT_CMD_START) !== 0) this.cmd |= R.PORT_CMD_LIST_ON;
    // clearing ST stops the list engine: outstanding commands are dropped, the error state clears
    if (wasStarted && (v & R.PORT_CMD_START) === 0) {
      this.ci = 0;
      this.tfd = R.ATA_DRDY;
    }
  }

  /** Executes every issued command, lowest slot first; stops at the first error as an HBA does. */
  private process(): void {
    if ((this.tfd & R.ATA_ERR) !== 0) return;
    for (let slot = 0; slot < R.NR_SLOTS; slot++) {
      const bit = (1 << slot) >>> 0;
      if ((this.ci & bit) === 0) continue;
      if (!this.execute(slot)) {
        this.dmaFaults++;
        const f = this.io.lastFault;
        this.ctx.core.log.debug(`${this.ctx.name}: AHCI DMA ${f?.fault ?? 'fault'} at ${hex(f?.addr ?? 0)}, slot ${slot}`);
        this.tfd = R.ATA_DRDY | R.ATA_ERR;
        this.serr = (this.serr | (1 << 11)) >>> 0; // SError.E: internal error
        this.setIrq(R.PORT_IRQ_HBUS_ERR | R.PORT_IRQ_TF_ERR);
        return;
      }
      this.ci = (this.ci & ~bit) >>> 0;
      this.commandsDone++;
      this.setIrq(R.PORT_IRQ_D2H_REG_FIS);
    }
  }

  /** One command: header, FIS, PRDT, data. False on a DMA fault. */
  private execute(slot: number): boolean {
    const hdr = new Uint8Array(R.CMD_HDR_SIZE);
    if (!this.io.read(this.clb + slot * R.CMD_HDR_SIZE, hdr)) return false;
    const dw0 = getU32(hdr, 0);
    const prdtl = dw0 >>> 16;
    const ctba = getU32(hdr, 8) + getU32(hdr, 12) * 2 ** 32;
    const cfis = new Uint8Array(16);
    if (!this.io.read(ctba + R.CMD_TBL_CFIS, cfis)) return false;
    const command = cfis[2]!;
    const lba = cfis[4]! + cfis[5]! * 2 ** 8 + cfis[6]! * 2 ** 16 + cfis[8]! * 2 ** 24 + cfis[9]! * 2 ** 32 + cfis[10]! * 2 ** 40;
    const count = cfis[12]! + cfis[13]! * 256 || 65536;
    const prdt = new Uint8Array(prdtl * R.PRD_SIZE);
    if (!this.io.read(ctba + R.CMD_TBL_PRDT, prdt)) return false;
    const total = count * SECTOR_SIZE;
    const data = new Uint8Array(total);
    const isWrite = command === R.ATA_CMD_WRITE_EXT;
    if (!isWrite && command !== R.ATA_CMD_READ_EXT) return true; // unknown commands complete without data
    if (!this.disk.inRange(lba, count)) return true;
    if (!isWrite) this.disk.read(lba, data);
    let done = 0;
    for (let i = 0; i < prdtl && done < total; i++) {
      const dba = getU32(prdt, i * R.PRD_SIZE) + getU32(prdt, i * R.PRD_SIZE + 4) * 2 ** 32;
      const dbc = (getU32(prdt, i * R.PRD_SIZE + 12) & 0x3fffff) + 1;
      const n = Math.min(dbc, total - done);
      const part = data.subarray(done, done + n);
      const ok = isWrite ? this.io.read(dba, part) : this.io.write(dba, part);
      if (!ok) return false;
      done += n;
    }
    if (isWrite) this.disk.write(lba, data.subarray(0, done - (done % SECTOR_SIZE)));
    // PRDBC: bytes transferred
    const prdbc = new Uint8Array(4);
    new DataView(prdbc.buffer).setUint32(0, done, true);
    return this.io.write(this.clb + slot * R.CMD_HDR_SIZE + 4, prdbc);
  }

  private setIrq(bits: number): void {
    this.pis = (this.pis | bits) >>> 0;
    this.hostIs = (this.hostIs | 1) >>> 0;
    this.updateIrq();
  }

  private updateIrq(): void {
    this.setIrqLevel((this.pis & this.pie) !== 0 && (this.ghc & R.HOST_CTL_IRQ_EN) !== 0);
  }
}
