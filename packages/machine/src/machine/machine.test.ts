import { describe, expect, it } from 'vitest';
import { exampleBoards } from '../board/load';
import type { DeviceReport, RunReport } from '../report/types';
import { runBoard } from './run';

/** Runs an example board once per test file (boots take tens of milliseconds, not seconds). */
const reports = new Map<string, Promise<RunReport>>();
function run(board: string): Promise<RunReport> {
  let r = reports.get(board);
  if (r === undefined) {
    r = runBoard(board).then((b) => b.report);
    reports.set(board, r);
  }
  return r;
}

function device(report: RunReport, name: string): DeviceReport {
  const d = report.devices.find((x) => x.name === name);
  if (d === undefined) throw new Error(`no device ${name} in the ${report.board} report`);
  return d;
}

function workload(report: RunReport, kind: string): RunReport['workloads'][number] {
  const w = report.workloads.find((x) => x.kind === kind);
  if (w === undefined) throw new Error(`no ${kind} workload in the ${report.board} report`);
  return w;
}

/** The boards this file states an outcome for; every shipped example must be among them. */
// rk3288-2015 and rk3288-6x are stated in rk3288.test.ts
const COVERED = ['calxeda-ecx2000', 'rpi4', 'generic-pcie', 'juno-r1', 'qemu-virt-smmuv3', 'rk3288-2015', 'rk3288-6x'];

describe('example boards: what a kernel engineer should see', () => {
  it('states an expected outcome for every shipped example board', () => {
    for (const name of exampleBoards()) expect(COVERED).toContain(name);
  });

  it('calxeda-ecx2000 (arm layer, linux-4.2): every SMMU master on its own arm-iommu mapping, both workloads clean', async () => {
    const r = await run('calxeda-ecx2000');
    expect(r.outcome).toBe('ok');
    const banks = new Set<number | null>();
    for (const [name, driver] of [['sata', 'ahci'], ['xgmac0', 'calxedaxgmac'], ['xgmac1', 'calxedaxgmac']] as const) {
      const d = device(r, name);
      expect(d).toMatchObject({ driver, state: 'bound', dmaOps: 'arm-iommu', coherent: true });
      expect(d.iommu).toMatchObject({ name: 'smmu0', domainType: 'UNMANAGED' });
      banks.add(d.iommu?.contextBank ?? null);
    }
    expect([...banks].sort()).toEqual([0, 1, 2]);
    expect(r.iommus).toEqual([expect.objectContaining({ name: 'smmu0', contextBanks: 4, contextBanksUsed: 3 })]);
    expect(workload(r, 'disk-io')).toMatchObject({ ok: true, errors: 0 });
    expect(workload(r, 'net-loopback')).toMatchObject({ ok: true, errors: 0 });
    expect(r.faultCount).toBe(0);
    expect(r.dmaDebug).toEqual([]);
    expect(r.warnings).toBe(0);
  });

  it('rpi4 (linux-6.x, no IOMMU): vc4 cannot import v3d buffers above its 1 GiB window: the fixed swiotlb pool cannot bounce them (seed 004)', async () => {
    const r = await run('rpi4');
    expect(r.outcome).toBe('degraded');
    expect(device(r, 'hvs')).toMatchObject({ driver: 'vc4-hvs', state: 'bound', dmaOps: 'direct', dmaLimit: '0x3fffffff', iommu: null });
    expect(device(r, 'gpu')).toMatchObject({ driver: 'vc4-drm', state: 'bound', dmaOps: 'direct', dmaLimit: '0x3fffffff' });
    expect(device(r, 'v3d')).toMatchObject({ driver: 'v3d', state: 'bound', dmaOps: 'direct', dmaLimit: '0xffffffffff' });
    const w = workload(r, 'display-import');
    expect(w.ok).toBe(false);
    expect(w.errors).toBeGreaterThan(0);
    expect(w.details).toMatch(/importFailures=[1-9]/);
    expect(w.details).toContain('renderFailures=0');
    expect(r.swiotlb?.fullErrors).toBeGreaterThan(0);
    expect(r.swiotlb?.dynamicBuffers).toBe(0);
    // a segment over the 256 KiB swiotlb limit can never be bounced, whatever the pool holds
    expect(r.log).toContain('[   10.000034] vc4-drm gpu: swiotlb buffer is full (sz: 524288 bytes), total 32768 (slots), used 0 (slots)');
    // v3d declares it takes segments of any length (dma_set_max_seg_size), so dma-debug stays quiet
    expect(r.dmaDebug).toEqual([]);
    expect(r.faultCount).toBe(0);
  });

  it('generic-pcie (MMU-500, linux-6.x): every function and root port gets a DMA default domain and bank; NVMe and the NIC move data intact', async () => {
    const r = await run('generic-pcie');
    expect(r.outcome).toBe('ok');
    const expected = { nvme0: ['nvme', 256], nic0: ['sky2', 512], func0: ['pci-testdev', 768] } as const;
    const endpointBanks: (number | null)[] = [];
    for (const [name, [driver, sid]] of Object.entries(expected)) {
      const d = device(r, name);
      expect(d).toMatchObject({ driver, state: 'bound', dmaOps: 'iommu-dma', coherent: true });
      expect(d.iommu).toMatchObject({ name: 'smmu0', streamIds: [sid], domainType: 'DMA' });
      endpointBanks.push(d.iommu?.contextBank ?? null);
    }
    const smmu = r.iommus[0]!;
    expect(smmu.contextBanksUsed).toBe(6);
    const rootPorts = smmu.domains.filter((d) => d.devices.some((n) => /^0000:00:0[1-3]\.0$/.test(n)));
    expect(rootPorts).toHaveLength(3);
    const allBanks = smmu.domains.map((d) => d.contextBank);
    expect(new Set(allBanks).size).toBe(6);
    expect(allBanks).toEqual(expect.arrayContaining(endpointBanks));
    const nvme = workload(r, 'nvme-io');
    expect(nvme).toMatchObject({ ok: true, errors: 0 });
    // the driver used the two-step IOVA API for every request (seed 001)
    expect(nvme.details).toContain('iovaRequests=200 sgRequests=0');
    expect(workload(r, 'net-loopback')).toMatchObject({ ok: true, errors: 0 });
    expect(r.log.some((l) => l.includes('nobody cared') || l.includes('probe failure') || l.includes('data mismatch'))).toBe(false);
    expect(r.faultCount).toBe(0);
    expect(r.dmaDebug).toEqual([]);
  });

  it('qemu-virt-smmuv3 (SMMUv3, linux-6.x): the real 6.1 probe lines, one group per function in probe order, NVMe I/O through strict stage-1 domains', async () => {
    const r = await run('qemu-virt-smmuv3');
    expect(r.outcome).toBe('ok');
    const smmuLines = r.log.filter((l) => l.includes(' arm-smmu-v3 ')).map((l) => l.replace(/^\[[^\]]*\] /, ''));
    expect(smmuLines.slice(0, 3)).toEqual([
      'arm-smmu-v3 smmuv3: ias 44-bit, oas 44-bit (features 0x00008305)',
      'arm-smmu-v3 smmuv3: allocated 65536 entries for cmdq',
      'arm-smmu-v3 smmuv3: allocated 32768 entries for evtq',
    ]);
    const groups = r.log.filter((l) => l.includes('Adding to iommu group')).map((l) => l.slice(l.indexOf('0000:')));
    expect(groups).toEqual(['0000:00:01.0: Adding to iommu group 0', '0000:00:02.0: Adding to iommu group 1', '0000:00:03.0: Adding to iommu group 2']);
    for (const [name, sid] of [['nvme0', 8], ['nic0', 16], ['func0', 24]] as const) {
      expect(device(r, name)).toMatchObject({ state: 'bound', dmaOps: 'iommu-dma' });
      expect(device(r, name).iommu).toMatchObject({ name: 'smmuv3', streamIds: [sid], domainType: 'DMA' });
    }
    expect(r.iommus).toEqual([expect.objectContaining({ name: 'smmuv3', streamTable: '2-level', streams: [8, 16, 24], asidsUsed: 3, events: 0 })]);
    expect(workload(r, 'nvme-io')).toMatchObject({ ok: true, errors: 0 });
    expect(workload(r, 'net-loopback')).toMatchObject({ ok: true, errors: 0 });
    expect(r.faultCount).toBe(0);
  });

  it('juno-r1 (arm64 2015 ops, linux-4.2): EHCI and OHCI share stream 0 behind a one-bank SMMU, so EHCI ends up in OHCI’s context and faults', async () => {
    const r = await run('juno-r1');
    expect(r.outcome).toBe('degraded');
    const ohci = device(r, 'ohci');
    expect(ohci).toMatchObject({ driver: 'ohci-platform', state: 'bound', dmaOps: 'iommu-dma' });
    expect(ohci.iommu).toMatchObject({ name: 'smmu_usb', streamIds: [0], domainType: 'DMA', contextBank: 0 });
    // EHCI's attach found no free context bank: it kept dma-direct, and its stream still matches
    // OHCI's SMR, so its bus addresses are looked up in OHCI's page tables
    const ehci = device(r, 'ehci');
    expect(ehci).toMatchObject({ state: 'failed', dmaOps: 'direct', reason: 'probe failed with EIO' });
    expect(ehci.iommu).toMatchObject({ name: 'smmu_usb', domain: null, contextBank: null });
    expect(r.log).toContain('[    0.000002] Failed to attach device ehci to IOMMU mapping; retaining platform DMA ops');
    expect(r.log.some((l) => l.includes('arm-smmu smmu_usb: Unhandled context fault: iova=0x80000000') && l.includes('cb=0'))).toBe(true);
    expect(r.faults).toEqual([{ iommu: 'smmu_usb', device: 'ehci', streamId: 0, iova: '0x80000000', access: 'read', kind: 'translation' }]);
    // No stream match conflict: the 2015 driver took SMRs at attach, and EHCI's attach never got there
    expect(r.log.some((l) => l.includes('Unexpected global fault'))).toBe(false);
    expect(r.iommus.find((m) => m.name === 'smmu_usb')).toMatchObject({ contextBanks: 1, contextBanksUsed: 1 });

    // PCI under 4.2: no arm64 IOMMU ops (the 2015 notifier covers platform and AMBA) and no
    // add_device (iommu-map is a later binding), so the functions use dma-direct, bounded by the
    // bus's dma-ranges, and their unmatched streams bypass the SMMU
    for (const [name, driver] of [['lan', 'sky2'], ['sata', 'pci-testdev'], ['slot0', 'nvme'], ['slot1', 'pci-testdev'], ['slot2', 'pci-testdev'], ['slot3', 'pci-testdev']] as const) {
      const d = device(r, name);
      expect(d).toMatchObject({ driver, state: 'bound', dmaOps: 'direct', dmaLimit: '0x9ffffffff', coherent: true });
      expect(d.iommu).toMatchObject({ name: 'smmu_pcie', group: null, domain: null });
    }
    expect(r.iommus.find((m) => m.name === 'smmu_pcie')).toMatchObject({ contextBanksUsed: 0, domains: [] });
    expect(workload(r, 'net-loopback')).toMatchObject({ ok: true, errors: 0 });
    const nvme = workload(r, 'nvme-io');
    expect(nvme).toMatchObject({ ok: true, errors: 0 });
    expect(nvme.details).toContain('iovaRequests=0 sgRequests=100');
    expect(r.dmaDebug).toEqual([]);
  });
});

describe('determinism', () => {
  it('two runs of each example board with the same seed give byte-identical reports', async () => {
    for (const name of COVERED) {
      const a = (await runBoard(name, { seed: 7 })).report;
      const b = (await runBoard(name, { seed: 7 })).report;
      expect(JSON.stringify(b)).toBe(JSON.stringify(a));
      expect(a.seed).toBe(7);
    }
  });
});
