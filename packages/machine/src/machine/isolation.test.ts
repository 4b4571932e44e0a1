import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { runBoard } from './run';

const dir = mkdtempSync(join(tmpdir(), 'dmasim-isolation-'));
const scenario = resolve(import.meta.dirname, '../../../../examples/scenarios/arm64-2015-ordering.yaml');

function board(name: string, text: string): string {
  const p = join(dir, `${name}.yaml`);
  writeFileSync(p, text);
  return p;
}

/** The 2015 ordering bug: EHCI is created before its SMMU, keeps direct ops and is never attached. */
function unattachedEhci(disableBypass: boolean): string {
  return board(`iso-${disableBypass}`, `extends: ${scenario}\nname: iso\niommus: [{ name: smmu_usb, disableBypass: ${disableBypass} }]\nworkloads: [{ kind: dma-selftest, device: ehci, rounds: 2 }]\n`);
}

describe('isolation: iommus[].disableBypass reaches the SMMU driver (linux-4.2)', () => {
  it('bypass allowed: the unattached master reaches memory, reported as iommu-bypass', async () => {
    const { report } = await runBoard(unattachedEhci(false));
    expect(report.workloads[0]).toMatchObject({ ok: true });
    expect(report.faults).toEqual([]);
    expect(report.problems).toContainEqual(expect.objectContaining({ kind: 'iommu-bypass', device: 'ehci' }));
  });

  it('bypass disabled: the reset makes unmatched streams fault (sCR0.USFCFG), so not one byte is reached', async () => {
    const { report } = await runBoard(unattachedEhci(true));
    expect(report.workloads[0]).toMatchObject({ ok: false, bytes: 0 });
    expect(report.faults).toContainEqual(expect.objectContaining({ iommu: 'smmu_usb', device: 'ehci', kind: 'unidentified-stream' }));
    expect(report.problems.filter((p) => p.kind === 'iommu-bypass')).toEqual([]);
  });
});

describe('a PCI function the iommu-map leaves out', () => {
  it('keeps untranslated DMA (of_map_id) and is reported as iommu-bypass naming the firmware gap', async () => {
    const { report } = await runBoard(board('gap', 'extends: generic-pcie\nname: gap\nbuses: [{ name: pcie0, iommuMap: { iommu: smmu0, ridBase: 0, length: 0x200 } }]\n'));
    const nic = report.devices.find((d) => d.name === 'nic0');
    expect(nic).toMatchObject({ state: 'bound', dmaOps: 'direct', iommu: null });
    expect(report.problems).toContainEqual({
      kind: 'iommu-bypass',
      device: 'nic0',
      detail: 'requester id 0x200 is outside the iommu-map of pcie0 (ids 0x0-0x1ff to smmu0): the firmware leaves it out, so its DMA bypasses smmu0',
    });
    expect(report.problems.some((p) => p.device === 'nvme0')).toBe(false);
  });
});
