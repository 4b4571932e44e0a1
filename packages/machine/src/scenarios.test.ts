import { readdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { runBoard } from './machine/run';
import type { RunReport } from './report/types';

const SCENARIOS = resolve(import.meta.dirname, '../../../examples/scenarios');
const run = async (name: string): Promise<RunReport> => (await runBoard(join(SCENARIOS, `${name}.yaml`))).report;
const device = (r: RunReport, name: string) => r.devices.find((d) => d.name === name)!;

describe('seed scenarios', () => {
  it('every scenario gives a byte-identical report on a second run', async () => {
    for (const f of readdirSync(SCENARIOS).filter((x) => x.endsWith('.yaml'))) {
      const a = JSON.stringify((await runBoard(join(SCENARIOS, f))).report);
      const b = JSON.stringify((await runBoard(join(SCENARIOS, f))).report);
      expect(a, f).toBe(b);
    }
  });

  it('seed 000: a 512 KiB arm mapping without growth runs out under packet churn; with growth it does not', async () => {
    const bug = await run('arm-mapping-no-growth');
    const w = bug.workloads[0]!;
    expect(w.ok).toBe(false);
    expect(w.details).toMatch(/txMapErrors=\d+/);
    expect(w.errors).toBeGreaterThan(100);
    const fix = await run('arm-mapping-growth');
    expect(fix.workloads[0]).toMatchObject({ ok: true, errors: 0 });
    expect(fix.outcome).toBe('ok');
  });

  it('seed 002 review: 6 masters, 4 context banks: per-group leaves two without a bank, per-iommu shares one', async () => {
    const perGroup = await run('context-banks-per-group');
    expect(perGroup.iommus[0]).toMatchObject({ contextBanks: 4, contextBanksUsed: 4 });
    expect(perGroup.devices.filter((d) => d.iommu?.contextBank !== null && d.iommu?.contextBank !== undefined)).toHaveLength(4);
    expect(perGroup.devices.filter((d) => d.state === 'failed').map((d) => d.name)).toEqual(['m4', 'm5']);
    // blocked, not bypassing: bypass is disabled, so the failed attach is the finding
    expect(perGroup.problems.filter((p) => p.device === 'm4').map((p) => p.kind)).toEqual(['attach-failed', 'probe-failed', 'fault']);
    expect(perGroup.problems.find((p) => p.kind === 'attach-failed')!.detail).toMatch(/its DMA is blocked/);
    const shared = await run('context-banks-per-iommu');
    expect(shared.iommus[0]).toMatchObject({ contextBanksUsed: 1 });
    expect(shared.iommus[0]!.domains).toHaveLength(1);
    expect(shared.iommus[0]!.domains[0]!.devices).toEqual(['m0', 'm1', 'm2', 'm3', 'm4', 'm5']);
    expect(shared.devices.every((d) => d.state === 'bound' && d.dmaOps === 'iommu-dma')).toBe(true);
  });

  it('seed 002: masters created before their SMMU keep platform DMA ops in 2015; probe deferral fixes it', async () => {
    const old = await run('arm64-2015-ordering');
    expect(device(old, 'ohci').dmaOps).toBe('direct');
    expect(device(old, 'ehci').dmaOps).toBe('direct');
    // the bug the scenario shows is a finding, not an ok run
    expect(old.outcome).toBe('degraded');
    expect(old.problems).toEqual([
      { kind: 'iommu-bypass', device: 'ohci', detail: 'DMA bypasses smmu_usb: firmware lists it, kernel attached no domain (dma ops direct)' },
      { kind: 'iommu-bypass', device: 'ehci', detail: 'DMA bypasses smmu_usb: firmware lists it, kernel attached no domain (dma ops direct)' },
    ]);
    const now = await run('arm64-6x-ordering');
    expect(now.outcome).toBe('ok');
    expect(now.problems).toEqual([]);
    expect(device(now, 'ohci')).toMatchObject({ state: 'bound', dmaOps: 'iommu-dma' });
    expect(device(now, 'ohci').iommu!.route).toBe('translated');
    expect(device(now, 'ehci')).toMatchObject({ state: 'bound', dmaOps: 'iommu-dma' });
    expect(device(now, 'ohci').iommu!.group).toBe(device(now, 'ehci').iommu!.group);
  });

  it('seed 004: the fixed pool cannot bounce the frames; per-buffer dynamic bounce buffers can', async () => {
    const full = await run('rpi4-swiotlb-full');
    expect(full.workloads[0]).toMatchObject({ kind: 'display-import', ok: false });
    expect(full.swiotlb!.fullErrors).toBeGreaterThan(0);
    expect(full.log.some((l) => l.endsWith('vc4-drm gpu: swiotlb buffer is full (sz: 524288 bytes), total 32768 (slots), used 0 (slots)'))).toBe(true);
    expect(full.log.some((l) => l.includes('vc4-drm gpu: swiotlb buffer is full (sz: 815104 bytes)'))).toBe(true);
    const dynamic = await run('rpi4-swiotlb-dynamic');
    expect(dynamic.workloads[0]).toMatchObject({ ok: true, errors: 0 });
    expect(dynamic.swiotlb!.dynamicBuffers).toBe(20);
    expect(dynamic.swiotlb!.fullErrors).toBe(0);
  });

  it('seed 001: NVMe-style requests with unaligned first segments complete through the two-step API', async () => {
    const r = await run('nvme-two-step');
    expect(r.workloads[0]).toMatchObject({ kind: 'nvme-io', ok: true, errors: 0 });
    expect(device(r, 'nvme0').dmaOps).toBe('iommu-dma');
  });

  it('juno-r1: the PCIe masters bypass smmu_pcie, listed first; EHCI loses the shared stream to OHCI', async () => {
    const r = await runBoard('juno-r1').then((b) => b.report);
    expect(r.outcome).toBe('degraded');
    expect(r.problems.slice(0, 6).map((p) => `${p.kind}:${p.device}`)).toEqual(['lan', 'sata', 'slot0', 'slot1', 'slot2', 'slot3'].map((d) => `iommu-bypass:${d}`));
    expect(r.problems.slice(6).map((p) => `${p.kind}:${p.device}`)).toEqual(['attach-failed:ehci', 'probe-failed:ehci', 'fault:ehci']);
    expect(r.problems[6]!.detail).toMatch(/translated in ohci's domain/);
  });

  it('seed 002 review: a double unmap oopses the 2015 dma-iommu code; later kernels warn and go on', async () => {
    const old = await run('double-unmap-2015');
    expect(device(old, 'ehci')).toMatchObject({ state: 'bound', dmaOps: 'iommu-dma' });
    expect(old.outcome).toBe('oops');
    expect(old.problems.map((p) => p.kind)).toEqual(['oops', 'workload-failed']);
    expect(old.workloads[0]).toMatchObject({ kind: 'dma-selftest', ok: false });
    expect(old.log.some((l) => l.includes('Unable to handle kernel NULL pointer dereference'))).toBe(true);
    const now = await run('double-unmap-6x');
    expect(device(now, 'ehci')).toMatchObject({ state: 'bound', dmaOps: 'iommu-dma' });
    expect(now.outcome).toBe('degraded');
    expect(now.dmaDebug).toEqual([expect.objectContaining({ device: 'ehci', message: expect.stringContaining('device driver tries to free DMA memory it has not allocated') as unknown })]);
    expect(now.log.some((l) => l.includes('WARNING:') && l.includes('iommu_dma_unmap_page'))).toBe(true);
    // the copy itself was checked; the kernel complaining is the workload's error
    expect(now.workloads[0]).toMatchObject({ ok: false, bytes: 4096, errors: 1 });
    expect(now.workloads[0]!.details).toMatch(/doubleUnmaps=1 kernelWarnings=[1-9]/);
  });

  it('seed 002 review: syncing an sg list with the mapped count leaves the later entries stale', async () => {
    const r = await run('sync-sg-nents');
    expect(device(r, 'ehci')).toMatchObject({ dmaOps: 'iommu-dma', coherent: false });
    const w = r.workloads[0]!;
    expect(w.ok).toBe(false);
    const entries = Number(/entries=(\d+)/.exec(w.details ?? '')?.[1]);
    const mapped = Number(/mappedSegments=(\d+)/.exec(w.details ?? '')?.[1]);
    const stale = Number(/staleEntries=(\d+)/.exec(w.details ?? '')?.[1]);
    expect(mapped).toBeLessThan(entries); // the IOMMU merged the separate pages
    expect(stale).toBe(entries - mapped); // exactly the entries the sync skipped
    expect(w.errors).toBe(stale);
    expect(w.bytes).toBe(mapped * 4096);
    expect(r.log.some((l) => /dmasim dma-selftest ehci: sg entry \d: \d+ of 4096 bytes stale/.test(l))).toBe(true);
    expect(r.outcome).toBe('degraded');
  });

  it('seed 002 review: an sg segment straddles the device boundary in 2015; padding keeps it inside later', async () => {
    const old = await run('sg-boundary-2015');
    expect(device(old, 'ehci').dmaOps).toBe('iommu-dma');
    expect(old.workloads[0]).toMatchObject({ ok: false, errors: 1, bytes: 12 * 1024 });
    expect(old.workloads[0]!.details).toContain('crossingSegments=1');
    expect(old.log.some((l) => /dmasim dma-selftest ehci: sg segment 1 \(0x[0-9a-f]+, 65536 bytes\): bus error at 0x[0-9a-f]+0000$/.test(l))).toBe(true);
    expect(old.outcome).toBe('degraded');
    const now = await run('sg-boundary-6x');
    expect(device(now, 'ehci').dmaOps).toBe('iommu-dma');
    expect(now.workloads[0]).toMatchObject({ ok: true, errors: 0, bytes: 76 * 1024 });
    expect(now.workloads[0]!.details).toContain('crossingSegments=0');
    expect(now.outcome).toBe('ok');
  });

  it("Juno's real iommu-map-mask = <0>: every PCI function on stream 0, one group, one context bank", async () => {
    const r = await run('juno-one-stream');
    const pci = r.devices.filter((d) => d.bus === 'pcie0');
    expect(pci).toHaveLength(6);
    expect(new Set(pci.map((d) => d.iommu?.streamIds.join(',')))).toEqual(new Set(['0']));
    expect(new Set(pci.map((d) => d.iommu?.group)).size).toBe(1);
    const smmu = r.iommus.find((m) => m.name === 'smmu_pcie')!;
    expect(smmu.contextBanksUsed).toBe(1);
    expect(smmu.domains).toHaveLength(1);
    expect(pci.every((d) => d.state === 'bound' && d.dmaOps === 'iommu-dma')).toBe(true);
  });

  it('SMMUv3: a master wired behind the SMMU with no STE gets direct DMA, and every transaction is aborted with C_BAD_STREAMID', async () => {
    const r = await run('smmuv3-missing-stream');
    expect(r.outcome).toBe('degraded');
    expect(device(r, 'sata0')).toMatchObject({ state: 'bound', dmaOps: 'direct' });
    expect(r.faults.length).toBeGreaterThan(0);
    expect(r.faults.every((f) => f.device === 'sata0' && f.streamId === 0x2000 && f.kind === 'bad-streamid')).toBe(true);
    const at = r.log.findIndex((l) => l.endsWith('arm-smmu-v3 smmuv3: event 0x02 received:'));
    expect(at).toBeGreaterThan(0);
    expect(r.log[at + 1]).toMatch(/arm-smmu-v3 smmuv3: \t0x0000200000000002$/);
    expect(r.workloads.find((w) => w.kind === 'disk-io')).toMatchObject({ ok: false, bytes: 0 });
    // the NVMe's streams are in the stream table and keep working
    expect(r.workloads.find((w) => w.kind === 'nvme-io')).toMatchObject({ ok: true, errors: 0 });
  });
});
