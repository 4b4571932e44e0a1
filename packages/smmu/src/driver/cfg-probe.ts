/**
 * arm_smmu_device_cfg_probe: what the SMMU is, read from its ID registers through MMIO, and logged
 * with the kernel's dev_notice lines.
 */
import { ENODEV, GiB, KiB, MiB, type KernelLog, type LogDevice } from '@dmasim/core';
import * as R from '../hw/regs';
import type { SmmuRegs } from './smmu-regs';
import { noFeatures, type ArmSmmuArchVersion, type ArmSmmuFeatures } from './types';

/** Everything the rest of the driver needs from the ID registers. */
export interface ArmSmmuConfig {
  readonly features: ArmSmmuFeatures;
  /** Stream ID bits the SMRs compare (smmu->streamid_mask). */
  readonly streamidMask: number;
  /** SMR groups (or 2^NUMSIDB S2CRs when stream indexing). */
  readonly numMappingGroups: number;
  readonly numContextBanks: number;
  readonly numS2ContextBanks: number;
  /** Stage-1 input size (VA bits), IPA bits and PA bits. */
  readonly vaSize: number;
  readonly ipaSize: number;
  readonly paSize: number;
  /** Page and block sizes of every format the SMMU walks (a sum of powers of two). */
  readonly pgsizeBitmap: number;
}

export interface CfgProbeContext {
  readonly regs: SmmuRegs;
  readonly log: KernelLog;
  readonly dev: LogDevice;
  readonly version: ArmSmmuArchVersion;
  /** The firmware says the table walker is coherent (`dma-coherent` on the SMMU node). */
  readonly cttwFw: boolean;
  readonly forceStage: 0 | 1 | 2;
  /** The 2015 driver (linux-4.2): its own banner and page-size rules. */
  readonly legacy42?: boolean;
}

/** arm_smmu_id_size_to_bits. */
export function armSmmuIdSizeToBits(size: number): number {
  return R.decodeAddressSize(size);
}

/** Reads ID0..ID2, logs what they say and returns the configuration, or -ENODEV. */
export function armSmmuDeviceCfgProbe(c: CfgProbeContext): ArmSmmuConfig | number {
  const { regs, log, dev } = c;
  const notice = (text: string): void => log.dev('notice', dev, text);
  const f = noFeatures();
  const v2 = c.version === 'v2';
  notice('probing hardware configuration...');
  notice(`SMMUv${v2 ? 2 : 1} with:`);

  // ID0
  let id = regs.gr0Read(R.GR0_ID0);
  if (c.forceStage === 1) id &= ~(R.ID0_S2TS | R.ID0_NTS);
  else if (c.forceStage === 2) id &= ~(R.ID0_S1TS | R.ID0_NTS);
  if ((id & R.ID0_S1TS) !== 0) {
    f.transS1 = true;
    notice('\tstage 1 translation');
  }
  if ((id & R.ID0_S2TS) !== 0) {
    f.transS2 = true;
    notice('\tstage 2 translation');
  }
  if ((id & R.ID0_NTS) !== 0) {
    f.transNested = true;
    notice('\tnested translation');
  }
  if (!f.transS1 && !f.transS2) {
    log.devErr(dev, '\tno translation support!');
    return -ENODEV;
  }
  if ((id & R.ID0_S1TS) !== 0 && (!v2 || (id & R.ID0_ATOSNS) === 0)) {
    f.transOps = true;
    notice('\taddress translation ops');
  }
  // Firmware wins over the ID register for coherency, as the kernel decides.
  const cttwReg = (id & R.ID0_CTTW) !== 0;
  f.coherentWalk = c.cttwFw;
  if (c.cttwFw || cttwReg) notice(`\t${c.cttwFw ? '' : 'non-'}coherent table walk`);
  if (c.cttwFw !== cttwReg) notice('\t(IDR0.CTTW overridden by FW configuration)');

  let size = 2 ** ((id >>> R.ID0_NUMSIDB_SHIFT) & 0xf);
  const streamidMask = size - 1;
  if ((id & R.ID0_SMS) !== 0) {
    f.streamMatch = true;
    size = id & R.ID0_NUMSMRG_MASK;
    if (size === 0) {
      log.devErr(dev, 'stream-matching supported, but no SMRs present!');
      return -ENODEV;
    }
    if (c.legacy42 === true) {
      // the 2015 arm_smmu_device_cfg_probe probed the SMR mask here and printed it
      // its SMR_MASK_MASK and SMR_ID_MASK were 15 bits, so the probe leaves SMR0's VALID bit clear
      const ones15 = 0x7fff;
      regs.gr0Write(R.gr0Smr(0), (ones15 * 2 ** R.SMR_MASK_SHIFT + ones15) >>> 0);
      const smr = regs.gr0Read(R.gr0Smr(0));
      notice(`\tstream matching with ${size} register groups, mask 0x${(Math.floor(smr / 2 ** R.SMR_MASK_SHIFT) & ones15).toString(16)}`);
    } else {
      notice(`\tstream matching with ${size} register groups`);
    }
  }
  const numMappingGroups = size;
  if (!v2 || (id & R.ID0_PTFS_NO_AARCH32) === 0) {
    f.fmtAarch32L = true;
    if ((id & R.ID0_PTFS_NO_AARCH32S) === 0) f.fmtAarch32S = true;
  }

  // ID1
  id = regs.gr0Read(R.GR0_ID1);
  const pgshift = (id & R.ID1_PAGESIZE) !== 0 ? 16 : 12;
  const numpage = 2 ** (((id >>> R.ID1_NUMPAGENDXB_SHIFT) & 7) + 1);
  const expected = 2 * numpage * 2 ** pgshift;
  if (regs.size !== expected) {
    log.devWarn(dev, `SMMU address space size (0x${expected.toString(16)}) differs from mapped region size (0x${regs.size.toString(16)})!`);
  }
  regs.setLayout(pgshift, numpage);
  const numS2ContextBanks = (id >>> R.ID1_NUMS2CB_SHIFT) & 0xff;
  const numContextBanks = id & R.ID1_NUMCB_MASK;
  if (numS2ContextBanks > numContextBanks) {
    log.devErr(dev, 'impossible number of S2 context banks!');
    return -ENODEV;
  }
  notice(`\t${numContextBanks} context banks (${numS2ContextBanks} stage-2 only)`);

  // ID2
  id = regs.gr0Read(R.GR0_ID2);
  const ipaSize = armSmmuIdSizeToBits((id >>> R.ID2_IAS_SHIFT) & 0xf);
  const paSize = armSmmuIdSizeToBits((id >>> R.ID2_OAS_SHIFT) & 0xf);
  let vaSize: number;
  if (!v2) {
    vaSize = ipaSize;
    if (c.version === 'v1-64k') f.fmtAarch64_64K = true;
  } else {
    vaSize = armSmmuIdSizeToBits((id >>> R.ID2_UBS_SHIFT) & 0xf);
    f.fmtAarch64_4K = (id & R.ID2_PTFS_4K) !== 0;
    f.fmtAarch64_16K = (id & R.ID2_PTFS_16K) !== 0;
    f.fmtAarch64_64K = (id & R.ID2_PTFS_64K) !== 0;
  }

  // The page sizes of every format the hardware walks, as a set (summed once each). The 2015
  // driver knew LPAE only: SMMUv1 got 4K/2M/1G, SMMUv2 what ID2's AArch64 granules say.
  const sizes = new Set<number>();
  const add = (...s: number[]): void => s.forEach((x) => sizes.add(x));
  if (c.legacy42 === true) {
    if (!v2 || (id & R.ID2_PTFS_4K) !== 0) add(4 * KiB, 2 * MiB, GiB);
    if (v2 && (id & R.ID2_PTFS_16K) !== 0) add(16 * KiB, 32 * MiB);
    if (v2 && (id & R.ID2_PTFS_64K) !== 0) add(64 * KiB, 512 * MiB);
  } else {
    if (f.fmtAarch32S) add(4 * KiB, 64 * KiB, MiB, 16 * MiB);
    if (f.fmtAarch32L || f.fmtAarch64_4K) add(4 * KiB, 2 * MiB, GiB);
    if (f.fmtAarch64_16K) add(16 * KiB, 32 * MiB);
    if (f.fmtAarch64_64K) add(64 * KiB, 512 * MiB);
  }
  let pgsizeBitmap = 0;
  for (const s of sizes) pgsizeBitmap += s;
  notice(`\tSupported page sizes: 0x${pgsizeBitmap.toString(16).padStart(8, '0')}`);
  if (f.transS1) notice(`\tStage-1: ${vaSize}-bit VA -> ${ipaSize}-bit IPA`);
  if (f.transS2) notice(`\tStage-2: ${ipaSize}-bit IPA -> ${paSize}-bit PA`);

  return { features: f, streamidMask, numMappingGroups, numContextBanks, numS2ContextBanks, vaSize, ipaSize, paSize, pgsizeBitmap };
}
