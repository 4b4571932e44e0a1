import { Device, FwNode, type BusDmaRegion } from '@dmasim/bus';
import { GiB, createCoreServices, type CoreServices } from '@dmasim/core';
import { DmaMappingContext } from '../context';
import type { DmaDebugOptions } from '../debug/dma-debug';
import { Swiotlb, type SwiotlbOptions } from '@dmasim/swiotlb';
import { dmaDirectReach, swiotlbPortFor } from '../direct/swiotlb-adapter';
import { dmaToPhys } from '../direct/translate';

/** Small machines for this package's tests and benchmarks (no board needed). */
export interface TestMachine {
  readonly core: CoreServices;
  readonly ctx: DmaMappingContext;
  readonly tlb: Swiotlb | null;
}

export interface TestMachineOptions {
  /** RAM from 0 (default 2 GiB). */
  readonly ram?: number;
  /** End of ZONE_DMA (default 1 GiB, as a Raspberry Pi 4; 0 = none). */
  readonly dmaZoneEnd?: number;
  /** Options of the machine's swiotlb (built with dma-direct's reach); absent = no swiotlb. */
  readonly swiotlb?: SwiotlbOptions;
  readonly swiotlbForce?: boolean;
  readonly kmallocBounce?: boolean;
  readonly dmaDebug?: boolean | DmaDebugOptions;
}

export function makeMachine(options: TestMachineOptions = {}): TestMachine {
  const core = createCoreServices({ memory: [{ base: 0, size: options.ram ?? 2 * GiB }], pages: { dmaZoneEnd: options.dmaZoneEnd ?? 1 * GiB } });
  const tlb =
    options.swiotlb === undefined
      ? null
      : new Swiotlb({ memory: core.memory, pages: core.pages, log: core.log, cache: core.cache, reach: dmaDirectReach }, { verbose: false, ...options.swiotlb });
  const ctx = new DmaMappingContext({
    ...core,
    swiotlb: tlb === null ? null : swiotlbPortFor(tlb),
    swiotlbForce: options.swiotlbForce ?? false,
    kmallocBounce: options.kmallocBounce ?? false,
    dmaDebug: options.dmaDebug ?? false,
  });
  return { core, ctx, tlb };
}

export interface TestDeviceOptions {
  readonly coherent?: boolean;
  readonly maskBits?: number;
  readonly busDmaLimit?: number;
  readonly rangeMap?: readonly BusDmaRegion[] | null;
  readonly driver?: string;
  /** Leave the device without DMA ops (a device without DMA configured). */
  readonly noDma?: boolean;
}

/** A platform device bound to a driver, configured for dma-direct on the machine. */
export function makeDevice(m: TestMachine, name: string, options: TestDeviceOptions = {}): Device {
  const dev = new Device(name, new FwNode(name));
  dev.bus = { name: 'platform' };
  dev.driver = { name: options.driver ?? 'testdrv' };
  dev.state = 'bound';
  dev.dma.coherent = options.coherent ?? false;
  if (options.maskBits !== undefined) {
    dev.dma.maskBits = options.maskBits;
    dev.dma.coherentMaskBits = options.maskBits;
  }
  dev.dma.busDmaLimit = options.busDmaLimit ?? 0;
  dev.dma.rangeMap = options.rangeMap ?? null;
  if (options.noDma !== true) m.ctx.configureDevice(dev);
  return dev;
}

/** The Raspberry Pi 4 `soc` bus window: bus 0xc0000000.. maps CPU 0..1 GiB. */
export const RPI4_SOC_RANGES: readonly BusDmaRegion[] = [{ cpuStart: 0, dmaStart: 0xc0000000, size: 1 * GiB }];

/** Deterministic bytes for a buffer (pattern `seed`). */
export function pattern(len: number, seed: number): Uint8Array {
  const out = new Uint8Array(len);
  let x = seed;
  for (let i = 0; i < len; i++) {
    x = (x * 1103515245 + 12345) % 2147483648;
    out[i] = x % 251;
  }
  return out;
}

/** What the device reads at a bus address (through its window, snooping if coherent). */
export function deviceRead(m: TestMachine, dev: Device, dma: number, len: number): Uint8Array {
  const out = new Uint8Array(len);
  if (!m.core.cache.deviceRead(dmaToPhys(dev, dma), out, dev.dma.coherent).ok) throw new Error(`device read at ${dma} hit no memory`);
  return out;
}

/** The device writes at a bus address. */
export function deviceWrite(m: TestMachine, dev: Device, dma: number, data: Uint8Array): void {
  if (!m.core.cache.deviceWrite(dmaToPhys(dev, dma), data, dev.dma.coherent).ok) throw new Error(`device write at ${dma} hit no memory`);
}

/** What the CPU reads through its cacheable mapping. */
export function cpuRead(m: TestMachine, addr: number, len: number): Uint8Array {
  const out = new Uint8Array(len);
  m.core.cache.cpuRead(addr, out);
  return out;
}
