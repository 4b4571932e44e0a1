import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { RunReport } from '../report/types';
import { runBoard } from './run';

const EXAMPLES = resolve(import.meta.dirname, '../../../../examples');
const run = async (path: string): Promise<RunReport> => (await runBoard(join(EXAMPLES, path))).report;
const dev = (r: RunReport, name: string) => r.devices.find((d) => d.name === name)!;
const mmu = (r: RunReport, name: string) => r.iommus.find((m) => m.name === name)!;

describe('two IOMMU types on one platform bus (RK3288-like)', () => {
  it('2015: the SMMU takes the platform bus ops; the Rockchip IOMMUs get no driver and their masters bypass them', async () => {
    const r = await run('boards/rk3288-2015.yaml');
    expect(dev(r, 'usb_host0_ehci')).toMatchObject({ dmaOps: 'arm-iommu', iommu: { name: 'smmu0', contextBank: 0 } });
    expect(dev(r, 'usb_host0_ohci')).toMatchObject({ dmaOps: 'arm-iommu', iommu: { name: 'smmu0', contextBank: 1 } });
    for (const m of ['usb_hsic', 'usb_host2_ohci']) expect(dev(r, m)).toMatchObject({ state: 'bound', dmaOps: 'direct', iommu: { group: null, domain: null } });
    expect(mmu(r, 'vopb_mmu')).toEqual({ name: 'vopb_mmu', driver: null, paging: false, dteAddr: null, domains: [] });
    expect(r.log.some((l) => l.includes('rk_iommu'))).toBe(false);
    // the data still arrives, but untranslated: the report says so first
    expect(r.workloads.every((w) => w.ok)).toBe(true);
    expect(r.outcome).toBe('degraded');
    expect(r.problems.map((p) => [p.kind, p.device])).toEqual([
      ['iommu-bypass', 'usb_hsic'],
      ['iommu-bypass', 'usb_host2_ohci'],
    ]);
    expect(r.problems[0]!.detail).toMatch(/DMA bypasses vopb_mmu/);
  });

  it('2015 without the SMMU: rk_iommu gets the bus ops and translates its masters through arm mappings', async () => {
    const r = await run('scenarios/rk3288-rk-only-2015.yaml');
    for (const [m, mmuName] of [['usb_hsic', 'vopb_mmu'], ['usb_host2_ohci', 'vopl_mmu']] as const) {
      expect(dev(r, m)).toMatchObject({ dmaOps: 'arm-iommu', iommu: { name: mmuName, domainType: 'UNMANAGED', contextBank: null } });
      expect(mmu(r, mmuName)).toMatchObject({ driver: 'rk_iommu', paging: true, domains: [{ type: 'UNMANAGED', devices: [m] }] });
    }
    expect(r.workloads.every((w) => w.ok && w.bytes > 0)).toBe(true);
    expect(r.problems).toEqual([]);
  });

  it('6.x: per-device ops, both drivers register and every master is translated by its own IOMMU', async () => {
    const r = await run('boards/rk3288-6x.yaml');
    for (const m of ['usb_host0_ehci', 'usb_host0_ohci', 'usb_hsic', 'usb_host2_ohci']) expect(dev(r, m)).toMatchObject({ state: 'bound', dmaOps: 'iommu-dma', iommu: { domainType: 'DMA' } });
    expect(mmu(r, 'smmu0')).toMatchObject({ contextBanksUsed: 2 });
    expect(mmu(r, 'vopb_mmu')).toMatchObject({ driver: 'rk_iommu', paging: true, domains: [{ type: 'DMA', devices: ['usb_hsic'] }] });
    expect(mmu(r, 'vopl_mmu')).toMatchObject({ driver: 'rk_iommu', paging: true, domains: [{ type: 'DMA', devices: ['usb_host2_ohci'] }] });
    expect(r.outcome).toBe('ok');
  });
});
