import { EIO, ENOSPC, type CoreServices } from '@dmasim/core';
import { fillPattern, firstMismatch } from '../common/pattern';
import { waitFor } from '../common/wait';
import type { WorkloadResult } from '../model';
import type { NetDev } from './ring-nic-driver';
import { NIC_TX_RING } from './ring-nic-driver';
import { RX_BUF_SIZE } from './ring-nic-regs';

export interface NetLoopbackOptions {
  readonly packets: number;
  readonly size: number;
  /** Completed frames whose mappings stay live before reclaim. */
  readonly inflight: number;
}

/** Frames carry their sequence number in the first 4 bytes, then the pattern of that number. */
function frameFor(seq: number, size: number): Uint8Array {
  const f = fillPattern(new Uint8Array(size), seq + 1);
  new DataView(f.buffer).setUint32(0, seq, true);
  return f;
}

/**
 * Packet churn through the NIC in loopback: every frame sent must come back intact; `inflight`
 * transmitted frames stay mapped at any time. Mapping failures and lost or damaged frames are
 * counted as errors; the run never throws for them.
 */
export function runNetLoopback(core: CoreServices, nd: NetDev, o: NetLoopbackOptions): WorkloadResult {
  const kind = 'net-loopback';
  const size = Math.max(8, Math.min(o.size, RX_BUF_SIZE));
  nd.txKeep = Math.max(0, Math.min(o.inflight, NIC_TX_RING - 64));
  const seen = new Set<number>();
  let bad = 0;
  let bytes = 0;
  nd.onReceive = (frame) => {
    if (frame.length < 4) {
      bad++;
      return;
    }
    const seq = new DataView(frame.buffer, frame.byteOffset).getUint32(0, true);
    if (seq >= o.packets || seen.has(seq) || firstMismatch(frame, frameFor(seq, size)) >= 0) {
      bad++;
      return;
    }
    seen.add(seq);
    bytes += frame.length;
  };
  const before = { ...nd.stats };
  let mapErrors = 0;
  let timeouts = 0;
  try {
    for (let seq = 0; seq < o.packets; seq++) {
      let rc = nd.xmit(frameFor(seq, size));
      if (rc === -ENOSPC) {
        if (!waitFor(core.sched, () => nd.txIdle)) timeouts++;
        nd.reclaim();
        rc = nd.xmit(frameFor(seq, size));
      }
      if (rc !== 0) {
        mapErrors++;
        continue;
      }
      // let the MAC run every few frames, as softirq processing would between bursts
      if (seq % 8 === 7 && !waitFor(core.sched, () => nd.txIdle)) timeouts++;
    }
    if (!waitFor(core.sched, () => nd.txIdle)) timeouts++;
    waitFor(core.sched, () => core.sched.pending === 0, 100_000);
  } finally {
    nd.reclaim(0);
    nd.onReceive = null;
  }
  const lost = o.packets - mapErrors - seen.size - bad;
  const rxMapErrors = nd.stats.rxMapErrors - before.rxMapErrors;
  const fatal = nd.stats.fatalErrors - before.fatalErrors;
  const errors = mapErrors + bad + Math.max(0, lost) + timeouts + (fatal > 0 && lost === 0 ? fatal : 0);
  return {
    kind,
    ok: errors === 0 && seen.size === o.packets,
    bytes,
    errors,
    details: { sent: o.packets - mapErrors, received: seen.size, damaged: bad, lost: Math.max(0, lost), txMapErrors: mapErrors, rxMapErrors, fatalErrors: fatal, timeouts, status: errors === 0 ? 0 : -EIO },
  };
}
