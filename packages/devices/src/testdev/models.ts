import type { PciDev, PlatformDevice } from '@dmasim/bus';
import { hex } from '@dmasim/core';
import { injectDmaFault } from '../common/fault-inject';
import { numParam, notRunnable, strParam } from '../common/params';
import type { DeviceModel, WorkloadContext, WorkloadParams, WorkloadResult } from '../model';
import { createDmaEngineHardware } from './burst-boundary';
import { SELFTEST_BYTES, dmaEngineOf, dmaEngineProbe, type DmaEngine } from './dma-selftest';
import { SELFTEST_BUGS, isSelftestBug, runSelftestBug, type SelftestBug } from './selftest-bugs';

/** USB bus numbers per machine, in probe order. */
const usbBusNumbers = new WeakMap<object, number>();
function nextUsbBus(key: object): number {
  const n = (usbBusNumbers.get(key) ?? 0) + 1;
  usbBusNumbers.set(key, n);
  return n;
}

/**
 * The `dma-selftest` workload: `rounds` memcpy self-tests on a DMA-engine device; with `bug`, each
 * round commits that driver bug through the DMA API instead (see selftest-bugs.ts).
 */
function dmaSelftestWorkload(ctx: WorkloadContext, params: WorkloadParams): WorkloadResult {
  const name = typeof params['device'] === 'string' ? params['device'] : '';
  const dev = ctx.device(name);
  const eng = dev === undefined ? null : dmaEngineOf(dev);
  if (dev === undefined || eng === null) return notRunnable(params.kind, `no bound DMA-engine device ${JSON.stringify(name)}`);
  const bug = strParam(params, 'bug', '');
  if (bug !== '' && !isSelftestBug(bug)) throw new TypeError(`workload ${params.kind}: bug must be one of ${SELFTEST_BUGS.join(', ')}, got ${JSON.stringify(bug)}`);
  const inject = numParam(params, 'injectFault', 0);
  if (inject > 0) injectDmaFault(dev, inject);
  const rounds = numParam(params, 'rounds', 16);
  if (bug !== '') return bugRounds(ctx, eng, params.kind, bug, rounds);
  let errors = 0;
  for (let i = 0; i < rounds; i++) if (eng.selftest(i + 2) !== 0) errors++;
  return { kind: params.kind, ok: errors === 0, bytes: (rounds - errors) * SELFTEST_BYTES, errors, details: { rounds } };
}

function bugRounds(ctx: WorkloadContext, eng: DmaEngine, kind: string, bug: SelftestBug, rounds: number): WorkloadResult {
  let bytes = 0;
  let errors = 0;
  const counters: Record<string, number> = {};
  for (let i = 0; i < rounds; i++) {
    const r = runSelftestBug(ctx.core, eng, bug, i + 2);
    bytes += r.bytes;
    errors += r.errors;
    for (const [k, v] of Object.entries(r.counters)) counters[k] = (counters[k] ?? 0) + v;
  }
  return { kind, ok: errors === 0, bytes, errors, details: { rounds, bug, ...counters } };
}

/** QEMU's generic PCI test function `1b36:0005`, driver `pci-testdev`. */
export const pciTestdevModel: DeviceModel = {
  name: 'pci-testdev',
  pciIds: ['1b36:0005'],
  workloads: ['dma-selftest'],
  createHardware: (ctx) => createDmaEngineHardware(ctx, { vendor: 0x1b36, device: 0x0005, classCode: 0xff0000 }),
  drivers: (ctx) => [
    {
      name: 'pci-testdev',
      bus: ctx.bus.pci,
      idTable: [{ vendor: 0x1b36, device: 0x0005 }],
      probe: (pdev: PciDev) => dmaEngineProbe(ctx.core, pdev, 'pci-testdev', 64, () => []),
      remove: (pdev: PciDev) => {
        dmaEngineOf(pdev)?.release();
        pdev.driverData = undefined;
      },
    },
  ],
  runWorkload: dmaSelftestWorkload,
};

/** `generic-ehci` (Juno USB), driver `ehci-platform`. */
export const genericEhciModel: DeviceModel = {
  name: 'generic-ehci',
  compatibles: ['generic-ehci'],
  workloads: ['dma-selftest'],
  createHardware: (ctx) => createDmaEngineHardware(ctx),
  drivers: (ctx) => [
    {
      name: 'ehci-platform',
      bus: ctx.bus.platform,
      ofMatchTable: [{ compatible: 'generic-ehci' }],
      probe: (pdev: PlatformDevice) =>
        dmaEngineProbe(ctx.core, pdev, 'ehci-platform', 32, (irq, base) => [
          'EHCI Host Controller',
          `new USB bus registered, assigned bus number ${nextUsbBus(ctx.core)}`,
          `irq ${irq}, io mem ${hex(base, 8)}`,
          'USB 2.0 started, EHCI 1.00',
        ]),
      remove: (pdev: PlatformDevice) => {
        dmaEngineOf(pdev)?.release();
        pdev.driverData = undefined;
      },
    },
  ],
  runWorkload: dmaSelftestWorkload,
};

/** `generic-ohci` (Juno USB), driver `ohci-platform`. */
export const genericOhciModel: DeviceModel = {
  name: 'generic-ohci',
  compatibles: ['generic-ohci'],
  workloads: ['dma-selftest'],
  createHardware: (ctx) => createDmaEngineHardware(ctx),
  drivers: (ctx) => [
    {
      name: 'ohci-platform',
      bus: ctx.bus.platform,
      ofMatchTable: [{ compatible: 'generic-ohci' }],
      probe: (pdev: PlatformDevice) =>
        dmaEngineProbe(ctx.core, pdev, 'ohci-platform', 32, (irq, base) => [
          'Generic Platform OHCI controller',
          `new USB bus registered, assigned bus number ${nextUsbBus(ctx.core)}`,
          `irq ${irq}, io mem ${hex(base, 8)}`,
        ]),
      remove: (pdev: PlatformDevice) => {
        dmaEngineOf(pdev)?.release();
        pdev.driverData = undefined;
      },
    },
  ],
  runWorkload: dmaSelftestWorkload,
};
