import type { DmaDataDirection } from '../constants';
import { formatDmaAddr } from '../direct/translate';

/**
 * The texts dma-debug prints (kernel/dma/debug.c), as functions of their arguments. Each matches the
 * kernel's format string, including its irregularities (a missing space, a missing newline), because
 * people grep logs for them. Trailing newlines are dropped: the log is line-based.
 */

/** Entry kinds (type2name). "page" is what kernels before v5.x recorded for dma_map_page. */
export type DmaDebugType = 'single' | 'page' | 'scatter-gather' | 'coherent' | 'resource';

/** dir2name. */
export function dirName(dir: DmaDataDirection): string {
  switch (dir) {
    case 'bidirectional':
      return 'DMA_BIDIRECTIONAL';
    case 'to-device':
      return 'DMA_TO_DEVICE';
    case 'from-device':
      return 'DMA_FROM_DEVICE';
    default:
      return 'DMA_NONE';
  }
}

const a = formatDmaAddr;

export const DmaDebugText = {
  freeInvalid: () => 'device driver tries to free an invalid DMA memory address',
  freeNotAllocated: (addr: number, size: number) =>
    `device driver tries to free DMA memory it has not allocated [device address=${a(addr)}] [size=${size} bytes]`,
  sizeMismatch: (addr: number, mapSize: number, unmapSize: number) =>
    `device driver frees DMA memory with different size [device address=${a(addr)}] [map size=${mapSize} bytes] [unmap size=${unmapSize} bytes]`,
  typeMismatch: (addr: number, size: number, mapped: DmaDebugType, unmapped: DmaDebugType) =>
    `device driver frees DMA memory with wrong function [device address=${a(addr)}] [size=${size} bytes] [mapped as ${mapped}] [unmapped as ${unmapped}]`,
  cpuAddressMismatch: (addr: number, size: number, allocCpu: number, freeCpu: number) =>
    `device driver frees DMA memory with different CPU address [device address=${a(addr)}] [size=${size} bytes] [cpu alloc address=${a(allocCpu)}] [cpu free address=${a(freeCpu)}]`,
  sgCountMismatch: (mapCount: number, unmapCount: number) =>
    `device driver frees DMA sg list with different entry count [map count=${mapCount}] [unmap count=${unmapCount}]`,
  directionMismatch: (addr: number, size: number, mapped: DmaDataDirection, unmapped: DmaDataDirection) =>
    `device driver frees DMA memory with different direction [device address=${a(addr)}] [size=${size} bytes] [mapped with ${dirName(mapped)}] [unmapped with ${dirName(unmapped)}]`,
  mapErrorNotChecked: (addr: number, size: number, mapped: DmaDebugType) =>
    `device driver failed to check map error[device address=${a(addr)}] [size=${size} bytes] [mapped as ${mapped}]`,
  syncNotAllocated: (addr: number, size: number) =>
    `device driver tries to sync DMA memory it has not allocated [device address=${a(addr)}] [size=${size} bytes]`,
  syncOutsideRange: (addr: number, allocSize: number, syncSize: number) =>
    `device driver syncs DMA memory outside allocated range [device address=${a(addr)}] [allocation size=${allocSize} bytes] [sync offset+size=${syncSize}]`,
  syncDirectionMismatch: (addr: number, size: number, mapped: DmaDataDirection, synced: DmaDataDirection) =>
    `device driver syncs DMA memory with different direction [device address=${a(addr)}] [size=${size} bytes] [mapped with ${dirName(mapped)}] [synced with ${dirName(synced)}]`,
  syncReadOnlyForCpu: (addr: number, size: number, mapped: DmaDataDirection, synced: DmaDataDirection) =>
    `device driver syncs device read-only DMA memory for cpu [device address=${a(addr)}] [size=${size} bytes] [mapped with ${dirName(mapped)}] [synced with ${dirName(synced)}]`,
  syncWriteOnlyToDevice: (addr: number, size: number, mapped: DmaDataDirection, synced: DmaDataDirection) =>
    `device driver syncs device write-only DMA memory to device [device address=${a(addr)}] [size=${size} bytes] [mapped with ${dirName(mapped)}] [synced with ${dirName(synced)}]`,
  syncSgCountMismatch: (mapCount: number, syncCount: number) =>
    `device driver syncs DMA sg list with different entry count [map count=${mapCount}] [sync count=${syncCount}]`,
  pendingAtUnbind: (count: number, addr: number, size: number, dir: DmaDataDirection, type: DmaDebugType) =>
    `device driver has pending DMA allocations while released from device [count=${count}]\nOne of leaked entries details: [device address=${a(addr)}] [size=${size} bytes] [mapped with ${dirName(dir)}] [mapped as ${type}]`,
  invalidArea: (addr: number, len: number) => `device driver maps memory from invalid area [addr=${a(addr)}] [len=${len}]`,
  sgSegmentTooLong: (len: number, max: number) => `mapping sg segment longer than device claims to support [len=${len}] [max=${max}]`,
  sgSegmentBoundary: (start: number, end: number, boundary: number) =>
    `mapping sg segment across boundary [start=${a(start)}] [end=${a(end)}] [boundary=${a(boundary)}]`,
} as const;

/** The error classes dma-debug counts, one per message above. */
export type DmaDebugErrorClass = keyof typeof DmaDebugText;
