import { devPrefix, type IrqReturn, type KernelLog } from '@dmasim/core';
import { EVENT_NAMES } from '../hw/events';
import * as R from '../hw/regs';
import { hex32, hex64, join64, qEmpty, qIdx, qInc, qOvf } from '../words';
import type { ArmSmmuV3Device } from './arm-smmu-v3-device';
import { queueRead } from './queue';

/** One event the driver took off an event queue (for reports and tests). */
export interface ArmSmmuV3EventRecord {
  readonly smmu: string;
  readonly id: number;
  /** The architecture's name of the event (F_TRANSLATION, C_BAD_STREAMID, ...). */
  readonly name: string;
  readonly sid: number;
  /** Input address (translation-stage faults), else 0. */
  readonly iova: number;
  readonly read: boolean;
  /** The device the stream belongs to, when a master owns it. */
  readonly device: string | null;
}

/**
 * arm_smmu_evtq_thread (linux 6.1): take every event off the queue, writing CONS after each, and
 * print `event 0x%02x received:` and the four double words (rate limited); note an overflow.
 * No event is handled (there are no stalls), so every one is printed.
 */
export function evtqThread(smmu: ArmSmmuV3Device, log: KernelLog, onEvent: (e: ArmSmmuV3EventRecord) => void): IrqReturn {
  const q = smmu.evtq;
  const llq = q.llq;
  const shift = llq.maxNShift;
  const evt = new Uint32Array(8);
  const read = (reg: number): number => smmu.readReg(reg);
  let prod = read(q.prodReg);
  let overflow = qOvf(prod) !== qOvf(llq.prod);
  llq.prod = prod;
  do {
    while (!qEmpty(llq.prod, llq.cons, shift)) {
      queueRead(smmu.memory, q.entry(qIdx(llq.cons, shift)), evt, 8);
      llq.cons = qInc(llq.cons, shift);
      smmu.writeReg(q.consReg, llq.cons);
      const id = evt[0]! & 0xff;
      const sid = evt[1]! >>> 0;
      onEvent({
        smmu: smmu.name, id, name: EVENT_NAMES[id] ?? `0x${id.toString(16)}`, sid,
        iova: id >= R.EVT_ID_TRANSLATION_FAULT && id <= R.EVT_ID_PERMISSION_FAULT ? join64(evt[4]!, evt[5]! & 0x1fffff) : 0,
        read: (evt[3]! & R.EVTQ_1_RNW_HI) !== 0,
        device: smmu.streams.get(sid)?.dev.name ?? null,
      });
      if (!log.ratelimited('arm_smmu_evtq_thread', 'info', `${devPrefix(smmu.dev)}event 0x${id.toString(16).padStart(2, '0')} received:`)) continue;
      for (let i = 0; i < 4; i++) log.devInfo(smmu.dev, `\t${hex64(evt[2 * i]!, evt[2 * i + 1]!)}`);
    }
    if (overflow) log.devErr(smmu.dev, 'EVTQ overflow detected -- events lost');
    prod = read(q.prodReg);
    overflow = qOvf(prod) !== qOvf(llq.prod);
    llq.prod = prod;
  } while (!qEmpty(llq.prod, llq.cons, shift));
  // we are up to date: take the overflow flag over into CONS
  if (qOvf(llq.prod) !== qOvf(llq.cons)) {
    llq.cons = (qOvf(llq.prod) | (llq.cons & ~R.Q_OVERFLOW_FLAG)) >>> 0;
    smmu.writeReg(q.consReg, llq.cons);
  }
  return 'handled';
}

/**
 * arm_smmu_gerror_handler: report each active global error (GERROR ^ GERRORN), skip a failed
 * command, then acknowledge through GERRORN.
 */
export function gerrorHandler(smmu: ArmSmmuV3Device, log: KernelLog): IrqReturn {
  const gerror = smmu.readReg(smmu.base + R.GERROR);
  const gerrorn = smmu.readReg(smmu.base + R.GERRORN);
  const active = (gerror ^ gerrorn) & R.GERROR_ERR_MASK;
  if (active === 0) return 'none';
  const dev = smmu.dev;
  log.devWarn(dev, `unexpected global error reported (${hex32(active)}), this could be serious`);
  if ((active & R.GERROR_SFM_ERR) !== 0) {
    log.devErr(dev, 'device has entered Service Failure Mode!');
    smmu.deviceDisable();
  }
  if ((active & R.GERROR_MSI_GERROR_ABT_ERR) !== 0) log.devWarn(dev, 'GERROR MSI write aborted');
  if ((active & R.GERROR_MSI_PRIQ_ABT_ERR) !== 0) log.devWarn(dev, 'PRIQ MSI write aborted');
  if ((active & R.GERROR_MSI_EVTQ_ABT_ERR) !== 0) log.devWarn(dev, 'EVTQ MSI write aborted');
  if ((active & R.GERROR_MSI_CMDQ_ABT_ERR) !== 0) log.devWarn(dev, 'CMDQ MSI write aborted');
  if ((active & R.GERROR_PRIQ_ABT_ERR) !== 0) log.devErr(dev, 'PRIQ write aborted -- events may have been lost');
  if ((active & R.GERROR_EVTQ_ABT_ERR) !== 0) log.devErr(dev, 'EVTQ write aborted -- events may have been lost');
  if ((active & R.GERROR_CMDQ_ERR) !== 0) smmu.cmdq.skipErr();
  smmu.writeReg(smmu.base + R.GERRORN, gerror);
  return 'handled';
}
