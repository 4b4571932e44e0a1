import { hex } from '@dmasim/core';
import type { BoardIssue } from './errors';
import type { Board } from './schema';

/**
 * What one board may ask of the simulator. Each bound is far above any real board or useful run,
 * and low enough that a run stays within seconds and a few hundred MiB: past it, the board gets a
 * clear error instead of a host that runs for hours or runs out of memory.
 */
export const BOARD_LIMITS = {
  /** RAM in total (the page allocator keeps per-block state for all of it). */
  ramBytes: 2 ** 40,
  /** Physical addresses: the 52 bits of arm64 with LPA. */
  physAddressBits: 52,
  /** Devices, IOMMUs and buses together. */
  parts: 1024,
  /**
   * DMA transfers the workloads of a board ask for together (packets, request segments, frame
   * buffers, self-test rounds): each is mapped, moved, checked and unmapped, about 30,000 a second.
   */
  transfers: 200_000,
  /** Payload bytes the workloads of a board move together (really copied and checked, about 1 GB/s). */
  workloadBytes: 4 * 2 ** 30,
  /** One buffer, block or packet. */
  bufferBytes: 256 * 2 ** 20,
  /** Scatterlist segments per request (above any controller's PRD table). */
  segments: 1024,
  /** Buffers of one display-import. */
  buffers: 64,
  /** DMA mappings a network workload keeps in flight. */
  inflight: 65536,
} as const;

/** Board values that would make the run unbounded in time or memory. */
export function validateLimits(board: Board, file: string): BoardIssue[] {
  const issues: BoardIssue[] = [];
  const add = (path: string, message: string, found: string): void => void issues.push({ file, path, message, found });
  const L = BOARD_LIMITS;
  const physLimit = 2 ** L.physAddressBits;

  let ram = 0;
  board.memory.forEach((m, i) => {
    ram += m.size;
    if (m.base + m.size > physLimit) add(`memory[${i}]`, `RAM must end below 2^${L.physAddressBits} (the arm64 physical address space)`, `${hex(m.base)} + ${hex(m.size)}`);
  });
  if (ram > L.ramBytes) add('memory', `at most ${L.ramBytes / 2 ** 30} GiB of RAM in total`, `${hex(ram)} bytes`);
  const parts = board.devices.length + board.iommus.length + board.buses.length;
  if (parts > L.parts) add('devices', `at most ${L.parts} devices, IOMMUs and buses together`, String(parts));
  board.iommus.forEach((m, i) => {
    if (m.base + m.size > physLimit) add(`iommus[${i}]`, `registers must end below 2^${L.physAddressBits}`, `${hex(m.base)} + ${hex(m.size)}`);
  });
  board.devices.forEach((d, i) => {
    if (d.base !== undefined && d.base + (d.size ?? 0) > physLimit) add(`devices[${i}]`, `registers must end below 2^${L.physAddressBits}`, hex(d.base));
    if (d.size !== undefined && d.size > L.bufferBytes) add(`devices[${i}].size`, `a register window of at most ${L.bufferBytes / 2 ** 20} MiB`, hex(d.size));
  });

  let boardTransfers = 0;
  let boardBytes = 0;
  board.workloads.forEach((w, i) => {
    const at = (k: string): string => `workloads[${i}].${k}`;
    const bounded = (k: string, v: number, max: number, what: string): void => {
      if (v <= max) return;
      const limit = what.startsWith('bytes') ? `${max / 2 ** 20} MiB ${what.slice('bytes '.length)}` : `${max.toLocaleString('en-US')} ${what}`;
      add(at(k), `at most ${limit}`, String(v));
    };
    let transfers = 0;
    let bytes = 0;
    switch (w.kind) {
      case 'display-import':
        bounded('buffers', w.buffers.length, L.buffers, 'buffers');
        w.buffers.forEach((b, j) => bounded(`buffers[${j}]`, b, L.bufferBytes, 'bytes per buffer'));
        transfers = w.frames * w.buffers.length;
        bytes = w.frames * w.buffers.reduce((a, b) => a + b, 0);
        break;
      case 'net-loopback':
        bounded('size', w.size, L.bufferBytes, 'bytes per packet');
        bounded('inflight', w.inflight, L.inflight, 'packets in flight');
        transfers = w.packets;
        bytes = w.packets * w.size;
        break;
      case 'disk-io':
        bounded('blockSize', w.blockSize, L.bufferBytes, 'bytes per block');
        bounded('segments', w.segments, L.segments, 'segments per request');
        transfers = w.requests * w.segments;
        bytes = w.requests * w.blockSize * w.segments;
        break;
      case 'nvme-io':
        bounded('blockSize', w.blockSize, L.bufferBytes, 'bytes per block');
        transfers = w.requests;
        bytes = w.requests * w.blockSize;
        break;
      case 'dma-selftest':
        transfers = w.rounds;
        break;
    }
    boardTransfers += transfers;
    boardBytes += bytes;
    if (transfers > L.transfers) add(`workloads[${i}]`, `at most ${L.transfers.toLocaleString('en-US')} DMA transfers (each is really mapped, moved and checked)`, String(transfers));
    else if (bytes > L.workloadBytes) add(`workloads[${i}]`, `at most ${L.workloadBytes / 2 ** 30} GiB moved (each byte is really copied and checked)`, `${bytes} bytes`);
  });
  if (!issues.some((i) => i.path.startsWith('workloads'))) {
    if (boardTransfers > L.transfers) add('workloads', `at most ${L.transfers.toLocaleString('en-US')} DMA transfers for all workloads together (each is really mapped, moved and checked)`, String(boardTransfers));
    else if (boardBytes > L.workloadBytes) add('workloads', `at most ${L.workloadBytes / 2 ** 30} GiB moved by all workloads together (each byte is really copied and checked)`, `${boardBytes} bytes`);
  }
  return issues;
}
