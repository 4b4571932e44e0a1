import type { PhysicalMemory } from '@dmasim/core';
import { prepareWalkConfig, type PreparedWalkConfig } from '@dmasim/smmu/hw';
import { TWO_32 } from '../words';
import * as R from './regs';

/** How the SMMU treats a stream, decoded from its STE (and CD) once and cached until CFGI. */
export interface StreamConfig {
  readonly kind: 'abort' | 'bypass' | 'translate';
  readonly stage: 1 | 2;
  /** The table walk, or null when the CD disables walks of TTB0 (EPD0: every access faults). */
  readonly walk: PreparedWalkConfig | null;
  readonly asid: number;
  readonly vmid: number;
  /** CD.R / STE.S2R: translation-stage faults are recorded in the event queue. */
  readonly record: boolean;
  /** CD.A: a faulting transaction is aborted (else it completes as RAZ/WI). Stage 2 always aborts. */
  readonly abort: boolean;
}

/** A configuration error found while fetching a stream's STE or CD: the event it raises. */
export interface ConfigError {
  readonly eventId: number;
  /** The address whose fetch failed (F_STE_FETCH, F_CD_FETCH), else 0. */
  readonly fetchAddr: number;
}

/** The stream table as STRTAB_BASE and STRTAB_BASE_CFG describe it. */
export interface StreamTableRegs {
  readonly base: number;
  readonly twoLevel: boolean;
  readonly log2size: number;
  readonly split: number;
}

export const ABORT_CONFIG: StreamConfig = { kind: 'abort', stage: 1, walk: null, asid: 0, vmid: 0, record: false, abort: true };
export const BYPASS_CONFIG: StreamConfig = { kind: 'bypass', stage: 1, walk: null, asid: 0, vmid: 0, record: false, abort: false };

/** What the configuration decoder needs of the SMMU's capabilities. */
export interface ConfigCaps {
  readonly stage1: boolean;
  readonly stage2: boolean;
  readonly oasBits: number;
  readonly gran4k: boolean;
  readonly gran64k: boolean;
}

/** 64 - T0SZ input bits; the walk starts at the level that resolves the top bit. */
function walkFor(stage: 1 | 2, granuleShift: number, inputBits: number, outputBits: number, ttb: number, startLevel?: number): PreparedWalkConfig {
  const bitsPerLevel = granuleShift - 3;
  const levels = Math.ceil((inputBits - granuleShift) / bitsPerLevel);
  return prepareWalkConfig({ stage, granuleShift, startLevel: startLevel ?? 4 - levels, inputBits, outputBits, ttb });
}

/** Granule shift of a TG0 code, or 0 when the model (or the SMMU) does not walk that granule. */
function granuleShiftOf(tg: number, caps: ConfigCaps): number {
  if (tg === R.TG0_4K && caps.gran4k) return 12;
  if (tg === R.TG0_64K && caps.gran64k) return 16;
  return 0;
}

/** Address bits [51:align] of a double word given as halves. */
function addrOf(lo: number, hi: number, align: number): number {
  const a = 2 ** align;
  return Math.floor((lo >>> 0) / a) * a + (hi & 0xfffff) * TWO_32;
}

/**
 * Reads and decodes the configuration of `sid` from the stream table in memory (QEMU's
 * smmu_find_ste + decode_ste + decode_cd): a StreamConfig, or the configuration error it raises.
 */
export function fetchStreamConfig(memory: PhysicalMemory, st: StreamTableRegs, sid: number, caps: ConfigCaps, words: Uint32Array): StreamConfig | ConfigError {
  if (sid >= 2 ** st.log2size) return { eventId: R.EVT_ID_BAD_STREAMID, fetchAddr: 0 };
  let steAddr: number;
  if (st.twoLevel) {
    const span = 2 ** st.split;
    const l1Addr = st.base + Math.floor(sid / span) * R.STRTAB_L1_DESC_SIZE;
    const lo = memory.readU32(l1Addr);
    const hi = memory.readU32(l1Addr + 4);
    if (lo < 0 || hi < 0) return { eventId: R.EVT_ID_STE_FETCH, fetchAddr: l1Addr };
    const l1Span = lo & R.STRTAB_L1_DESC_SPAN_MASK;
    // SPAN 0: the level-2 pointer is not valid
    if (l1Span === 0) return { eventId: R.EVT_ID_BAD_STREAMID, fetchAddr: 0 };
    const index = sid - Math.floor(sid / span) * span;
    if (index >= 2 ** (l1Span - 1)) return { eventId: R.EVT_ID_BAD_STE, fetchAddr: 0 };
    steAddr = addrOf(lo, hi, 6) + index * R.STRTAB_STE_SIZE;
  } else {
    steAddr = st.base + sid * R.STRTAB_STE_SIZE;
  }
  if (!readWords(memory, steAddr, words, 8)) return { eventId: R.EVT_ID_STE_FETCH, fetchAddr: steAddr };
  const w0 = words[0]!;
  if ((w0 & R.STE_0_V) === 0) return { eventId: R.EVT_ID_BAD_STE, fetchAddr: 0 };
  const cfg = (w0 >>> R.STE_0_CFG_SHIFT) & 7;
  switch (cfg) {
    case R.STE_0_CFG_ABORT:
      return ABORT_CONFIG;
    case R.STE_0_CFG_BYPASS:
      return BYPASS_CONFIG;
    case R.STE_0_CFG_S1_TRANS:
      if (!caps.stage1 || ((w0 >>> R.STE_0_S1FMT_SHIFT) & 3) !== R.STE_0_S1FMT_LINEAR) return { eventId: R.EVT_ID_BAD_STE, fetchAddr: 0 };
      return fetchCd(memory, addrOf(w0, words[1]!, 6), caps, words);
    case R.STE_0_CFG_S2_TRANS:
      if (!caps.stage2) return { eventId: R.EVT_ID_BAD_STE, fetchAddr: 0 };
      return decodeS2(words, caps);
    default:
      // reserved encodings, and nested stage 1 + stage 2 (not modelled)
      return { eventId: R.EVT_ID_BAD_STE, fetchAddr: 0 };
  }
}

/** Substream 0's context descriptor (the only one: no SSID is ever presented). */
function fetchCd(memory: PhysicalMemory, cdAddr: number, caps: ConfigCaps, words: Uint32Array): StreamConfig | ConfigError {
  if (!readWords(memory, cdAddr, words, 8)) return { eventId: R.EVT_ID_CD_FETCH, fetchAddr: cdAddr };
  const w0 = words[0]!;
  const w1 = words[1]!;
  if ((w0 & R.CD_0_V) === 0 || (w1 & R.CD_0_AA64_HI) === 0) return { eventId: R.EVT_ID_BAD_CD, fetchAddr: 0 };
  const asid = w1 >>> R.CD_0_ASID_HI_SHIFT;
  const record = (w1 & R.CD_0_R_HI) !== 0;
  const abort = (w1 & R.CD_0_A_HI) !== 0;
  if ((w0 & R.CD_0_TCR_EPD0) !== 0) return { kind: 'translate', stage: 1, walk: null, asid, vmid: -1, record, abort };
  const g = granuleShiftOf((w0 >>> R.CD_0_TCR_TG0_SHIFT) & 3, caps);
  const inputBits = 64 - (w0 & R.CD_0_TCR_T0SZ_MASK);
  if (g === 0 || inputBits > 48 || inputBits <= g) return { eventId: R.EVT_ID_BAD_CD, fetchAddr: 0 };
  const ips = R.IDR5_OAS_BITS[w1 & R.CD_0_IPS_HI_MASK] ?? 48;
  const walk = walkFor(1, g, inputBits, Math.min(ips, caps.oasBits), addrOf(words[2]!, words[3]!, 4));
  return { kind: 'translate', stage: 1, walk, asid, vmid: -1, record, abort };
}

function decodeS2(words: Uint32Array, caps: ConfigCaps): StreamConfig | ConfigError {
  const vmid = words[4]! & R.STE_2_S2VMID_MASK;
  const hi = words[5]!;
  if ((hi & R.STE_2_S2AA64_HI) === 0) return { eventId: R.EVT_ID_BAD_STE, fetchAddr: 0 };
  const vtcr = hi & R.STE_2_VTCR_HI_MASK;
  const g = granuleShiftOf((vtcr >>> R.VTCR_TG0_SHIFT) & 3, caps);
  const inputBits = 64 - (vtcr & R.VTCR_T0SZ_MASK);
  if (g === 0 || inputBits > 48 || inputBits <= g) return { eventId: R.EVT_ID_BAD_STE, fetchAddr: 0 };
  const sl0 = (vtcr >>> R.VTCR_SL0_SHIFT) & 3;
  // SL0 counts from the last level: with 4 KiB pages 2 is level 0, with 64 KiB pages 2 is level 1
  const startLevel = g === 12 ? 2 - sl0 : 3 - sl0;
  const ps = R.IDR5_OAS_BITS[(vtcr >>> R.VTCR_PS_SHIFT) & 7] ?? 48;
  const walk = walkFor(2, g, inputBits, Math.min(ps, caps.oasBits), addrOf(words[6]!, words[7]!, 4), startLevel);
  return { kind: 'translate', stage: 2, walk, asid: -1, vmid, record: (hi & R.STE_2_S2R_HI) !== 0, abort: true };
}

/** Reads `n` 32-bit words at `addr`; false when any of them is not RAM. */
function readWords(memory: PhysicalMemory, addr: number, out: Uint32Array, n: number): boolean {
  for (let i = 0; i < n; i++) {
    const v = memory.readU32(addr + i * 4);
    if (v < 0) return false;
    out[i] = v;
  }
  return true;
}

export function isConfigError(c: StreamConfig | ConfigError): c is ConfigError {
  return 'eventId' in c;
}
