import 'reflect-metadata';
import { describe, expect, it } from 'vitest';
import { buildProgram } from '../cli/program';
import type { InfoReport } from './types';

async function info(...argv: string[]): Promise<{ code: number; out: string; err: string }> {
  let out = '';
  let err = '';
  const code = await buildProgram({ out: (s) => (out += s), err: (s) => (err += s) }).run(['info', ...argv]);
  return { code, out, err };
}

async function infoJson(...argv: string[]): Promise<InfoReport> {
  const r = await info(...argv, '--json');
  expect(r.err).toBe('');
  expect(r.code).toBe(0);
  return JSON.parse(r.out) as InfoReport;
}

describe('dmasim info', () => {
  it('juno-r1: each SMMU instance lists its groups, their domain and context bank, devices and stream ids', async () => {
    const r = await infoJson('juno-r1');
    const usb = r.iommus.find((i) => i.name === 'smmu_usb')!;
    expect(usb.compatible).toBe('arm,mmu-401');
    expect(usb.facts).toMatchObject({ contextBanks: 1, contextBanksUsed: 1 });
    const withDomain = usb.groups.filter((g) => g.domain !== null);
    expect(withDomain).toHaveLength(1);
    expect(withDomain[0]!.domain).toMatchObject({ type: 'DMA', contextBank: 0 });
    const masters = usb.groups.flatMap((g) => g.devices.map((d) => d.device)).sort();
    expect(masters).toEqual(['ehci', 'ohci']);
    // the 2015 kernel never sets bus ops on PCI: the PCIe SMMU's masters have no group and bypass
    const pcie = r.iommus.find((i) => i.name === 'smmu_pcie')!;
    expect(pcie.groups).toEqual([]);
    expect(pcie.ungrouped.find((d) => d.device === 'sata')).toEqual({ device: 'sata', streamIds: [768], route: 'bypass' });
  });

  it('the address map holds RAM, every device and IOMMU window and the swiotlb pool inside RAM, sorted', async () => {
    const r = await infoJson('juno-r1');
    const starts = r.addressMap.map((a) => Number(a.start));
    expect(starts).toEqual([...starts].sort((a, b) => a - b));
    const names = r.addressMap.map((a) => a.name);
    for (const n of ['smmu_usb', 'smmu_pcie', 'ehci', 'ohci', 'sata', 'ram0']) expect(names).toContain(n);
    const pool = r.addressMap.find((a) => a.kind === 'swiotlb')!;
    const ram = r.addressMap.filter((a) => a.kind === 'ram');
    expect(ram.some((m) => Number(m.start) <= Number(pool.start) && Number(pool.end) <= Number(m.end))).toBe(true);
  });

  it('rpi4: dma-ranges come from the bus that declares them and cap each device DMA limit', async () => {
    const r = await infoJson('rpi4');
    const soc = r.dmaWindows.find((b) => b.bus === 'soc')!;
    expect(soc.from).not.toBeNull();
    expect(soc.windows.length).toBeGreaterThan(0);
    expect(r.dmaLimits.find((d) => d.device === 'hvs')?.dmaLimit).toBe('0x3fffffff');
    expect(r.iommus).toEqual([]);
  });

  it('--set changes the resolved board and what boots from it', async () => {
    const r = await infoJson('juno-r1', '--set', 'kernel.profile=linux-6.x');
    expect(r.resolved.kernel.profile).toBe('linux-6.x');
    expect(r.overrides).toEqual(['kernel.profile=linux-6.x']);
    // 6.x puts the two masters sharing stream id 0 in one group (2015 gave each its own)
    const usb = r.iommus.find((i) => i.name === 'smmu_usb')!;
    expect(usb.groups).toHaveLength(1);
    expect(usb.groups[0]!.devices.map((d) => d.device).sort()).toEqual(['ehci', 'ohci']);
    const before = await infoJson('juno-r1');
    expect(before.iommus.find((i) => i.name === 'smmu_usb')!.groups).toHaveLength(2);
  });

  it('prints the human form: mtree-style map, IRQs and the IOMMU tree', async () => {
    const r = await info('juno-r1');
    expect(r.code).toBe(0);
    expect(r.out).toMatch(/^address-space: cpu physical$/m);
    expect(r.out).toMatch(/^\s+0x7fb30000-0x7fb3ffff\s+\(iommu\s*\) smmu_usb$/m);
    expect(r.out).toMatch(/^\s+101\s+smmu_usb \(iommu\)$/m);
    expect(r.out).toMatch(/group \d+ -> domain \d+ \(DMA\) context bank 0\n\s+ohci\s+ids \[0\]\s+translated/);
  });

  it('refuses a missing board with the reason', async () => {
    const r = await info('no-such-board');
    expect(r.code).toBe(1);
    expect(r.err).toMatch(/no-such-board: no such board file/);
  });
});
