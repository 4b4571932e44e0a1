import { mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { dtcAvailable, serializeFdt } from '@dmasim/devicetree';
import { boardTree } from './devicetree';
import { builtinModels } from './models';
import { EXAMPLES_DIR, exampleBoards, loadBoard } from './load';
import { runBoard } from '../machine/run';
import { buildProgram } from '../cli/program';
import type { RunReport } from '../report/types';

/** The devicetree package's own small tree (Juno- and RPi4-shaped). */
const MINI = resolve(import.meta.dirname, '../../../devicetree/src/fixtures/mini.dtb');
const BAD_CELLS = resolve(import.meta.dirname, '../../../devicetree/src/fixtures/bad-iommu-cells.dtb');
const SCENARIOS = resolve(EXAMPLES_DIR, '../scenarios');
const SHARED_DT = resolve(process.env.DMASIM_SHARED ?? resolve(import.meta.dirname, '../../../../../shared'), 'dt');
const hasShared = readdirSafe(SHARED_DT).length > 0;
if (!hasShared) console.log(`devicetree.test: ${SHARED_DT} is absent, the checks on real device trees are skipped`);
if (!dtcAvailable()) console.log('devicetree.test: dtc is not installed, the .dts round trips are skipped (apt-get install device-tree-compiler)');

function readdirSafe(dir: string): string[] {
  try {
    return readdirSync(dir);
  } catch {
    return [];
  }
}

const tmp = mkdtempSync(join(tmpdir(), 'dmasim-dt-'));
const write = (name: string, text: string | Uint8Array): string => {
  const p = join(tmp, name);
  writeFileSync(p, text);
  return p;
};
const dev = (r: RunReport, name: string) => r.devices.find((d) => d.name === name);

async function cli(...argv: string[]): Promise<{ code: number; out: string; err: string }> {
  let out = '';
  let err = '';
  const code = await buildProgram({ out: (s) => (out += s), err: (s) => (err += s) }).run(argv);
  return { code, out, err };
}

const boards = [...exampleBoards(), ...readdirSafe(SCENARIOS).filter((f) => f.endsWith('.yaml')).map((f) => join(SCENARIOS, f))];

describe('export-dts: every example board and scenario imports back to the same machine', () => {
  it.each(boards)('%s (blob)', async (ref) => {
    const loaded = await loadBoard(ref);
    const dtb = write(`${loaded.board.name}.dtb`, serializeFdt(boardTree(loaded.board, builtinModels())));
    const [a, b] = [await runBoard(ref), await runBoard(dtb)];
    expect(b.report).toEqual(a.report);
  });

  it.skipIf(!dtcAvailable()).each(exampleBoards())('%s (dmasim export-dts, then dtc)', async (ref) => {
    const out = join(tmp, `${ref}.dts`);
    expect((await cli('export-dts', ref, '-o', out)).code).toBe(0);
    const [a, b] = [await runBoard(ref), await runBoard(out)];
    expect(b.report).toEqual(a.report);
  });
});

describe('a board from a tree (the devicetree package’s mini tree)', () => {
  const yaml = (extra: string): string =>
    write('mini.yaml', `name: mini-dt\ndevicetree: ${MINI}\nkernel: { arch: arm64, profile: linux-6.x }\n${extra}`);

  it('boots with the kernel’s device names, IOMMUs, shared USB stream and the /soc DMA window', async () => {
    const { report } = await runBoard(MINI);
    expect(dev(report, 'fe400000.hvs')).toMatchObject({ bus: 'soc', state: 'bound', dmaLimit: '0x3fffffff' });
    const ohci = dev(report, '7ffb0000.usb')!;
    const ehci = dev(report, '7ffc0000.usb')!;
    expect(ohci.iommu).toMatchObject({ name: '7fb30000.iommu', streamIds: [0] });
    expect(ehci.iommu?.group).toBe(ohci.iommu?.group);
    expect(dev(report, '7ff00000.sata')?.iommu).toMatchObject({ name: '2b600000.iommu', streamIds: [0x10, 0x11] });
    expect(report.iommus.map((i) => i.name)).toEqual(['7fb30000.iommu', '2b500000.iommu', '2b600000.iommu']);
  });

  it('lists nodes no model exists for as no-driver devices, with their DMA limit', async () => {
    const { report } = await runBoard(MINI);
    expect(dev(report, 'fe007000.dma')).toMatchObject({ state: 'no-driver', bus: 'soc:inner', dmaLimit: '0x3fffffff', driver: null });
    expect(dev(report, 'fe007000.dma')?.reason).toMatch(/no model for brcm,bcm2835-dma \(\/soc\/inner\/dma@7e007000\)/);
    expect(dev(report, '2d000000.gpu')).toBeUndefined(); // disabled: the kernel makes no device
  });

  it('YAML overrides: memory, context banks by kernel name, PCI functions all on stream 0 in one group', async () => {
    const file = yaml(
      [
        'memory: [{ base: 0x80000000, size: 512MiB }]',
        'iommus: [{ name: 2b500000.iommu, contextBanks: 1 }]',
        'devices:',
        '  - { name: nic, pci: { bdf: "00:02.0", vendor: 0x11ab, device: 0x4380 }, bus: 40000000.pcie }',
        '  - { name: dev3, pci: { bdf: "00:03.0", vendor: 0x1b36, device: 0x0005 }, bus: 40000000.pcie }',
      ].join('\n') + '\n',
    );
    const { report, loaded } = await runBoard(file);
    expect(loaded.board.memory).toEqual([{ base: 0x80000000, size: 512 * 1024 ** 2 }]);
    expect(report.iommus.find((i) => i.name === '2b500000.iommu')?.contextBanks).toBe(1);
    const pci = ['0000:00:01.0', 'nic', 'dev3'].map((n) => dev(report, n)!);
    expect(pci.map((d) => d.iommu?.streamIds)).toEqual([[0], [0], [0]]);
    expect(new Set(pci.map((d) => d.iommu?.group)).size).toBe(1);
    expect(pci.every((d) => d.state === 'bound' && d.dmaOps === 'iommu-dma')).toBe(true);
  });

  it('a master behind an IOMMU no plugin models is marked: its DMA is not translated here, a bypass problem', async () => {
    const { report, loaded } = await runBoard(MINI);
    expect(loaded.devicetree?.unmodelledIommus).toEqual([{ name: '7fc00000.iommu', path: '/iommu@7fc00000', compatible: 'acme,iommu', masters: ['7fd00000.ethernet'] }]);
    expect(dev(report, '7fd00000.ethernet')).toMatchObject({ state: 'bound', iommu: null });
    expect(dev(report, '7fd00000.ethernet')?.reason).toMatch(/behind 7fc00000\.iommu \(acme,iommu, \/iommu@7fc00000\), which dmasim does not model/);
    expect(report.problems[0]).toMatchObject({ kind: 'iommu-bypass', device: '7fd00000.ethernet' });
    expect(report.outcome).toBe('degraded');
  });

  it('a tree whose lowest DMA limit is on a bus with no modelled device still sets ZONE_DMA', async () => {
    // /scb/lowbus reaches 512 MiB (29 bits); the board's own buses alone would say 1 GiB (/soc)
    const { loaded } = await runBoard(yaml('memory: [{ base: 0x0, size: 640MiB }]\n'));
    expect(loaded.devicetree?.zoneDmaBits).toBe(29);
    expect(loaded.board.kernel.dmaZone).toBe(0x20000000);
    // RAM above the zone mask: ZONE_DMA becomes the first 4 GiB, as max_zone_phys does
    expect((await runBoard(MINI)).loaded.board.kernel.dmaZone).toBe(0xc0000000);
  });

  it('bad trees are one-line errors naming the file and the node', async () => {
    const r = await cli('run', BAD_CELLS);
    expect(r.code).toBe(1);
    expect(r.err).toBe(`dmasim: ${BAD_CELLS}: /soc/iommu@2b500000: #iommu-cells is 2, the arm,mmu-401 binding expects 1\n`);
    const junk = write('junk.dtb', 'not a tree at all, just some text');
    expect((await cli('run', junk)).err).toMatch(/junk\.dtb: header: bad magic 0x6e6f7420, expected 0xd00dfeed/);
    expect((await cli('run', write('bad.yaml', 'name: x\ndevicetree: 3\n'))).err).toMatch(/bad\.yaml: devicetree: expected the path of a \.dtb or \.dts file/);
  });
});

describe.skipIf(!hasShared)('real trees (../shared/dt)', () => {
  it('RPi4 with its memory given: hvs reaches 0x3fffffff and the fixed pool reproduces seed 004', async () => {
    const file = write(
      'rpi4.yaml',
      [
        'name: rpi4-dt',
        `devicetree: ${join(SHARED_DT, 'bcm2711-rpi-4-b.dtb')}`,
        'memory: [{ base: 0x0, size: 0x3b400000 }, { base: 0x40000000, size: 0xbc000000 }]',
        'kernel: { swiotlb: { size: 64MiB, dynamic: false } }',
        'workloads: [{ kind: display-import, producer: fec00000.gpu, consumer: fe400000.hvs, buffers: [524288, 815104], frames: 2 }]',
      ].join('\n'),
    );
    const { report } = await runBoard(file);
    expect(dev(report, 'fe400000.hvs')).toMatchObject({ state: 'bound', dmaLimit: '0x3fffffff' });
    expect(report.log.some((l) => l.includes('vc4-drm gpu: swiotlb buffer is full (sz: 524288 bytes), total 32768 (slots)'))).toBe(true);
    expect(report.workloads[0]?.ok).toBe(false);
  });

  it('Juno r1: six live SMMUs of seven, EHCI/OHCI in one group, every PCIe function in one group', async () => {
    const file = write(
      'juno.yaml',
      [
        'name: juno-dt',
        `devicetree: ${join(SHARED_DT, 'juno-r1.dtb')}`,
        'iommus: [{ name: 2b500000.iommu, contextBanks: 4, streamMatchRegisters: 32 }]',
        'devices:',
        '  - { name: lan, pci: { bdf: "08:00.0", vendor: 0x11ab, device: 0x4380 }, bus: 40000000.pcie }',
        '  - { name: slot0, pci: { bdf: "04:00.0", vendor: 0x1b36, device: 0x0010 }, bus: 40000000.pcie }',
        '  - { name: slot1, pci: { bdf: "05:00.0", vendor: 0x1b36, device: 0x0005 }, bus: 40000000.pcie }',
      ].join('\n'),
    );
    const { report, loaded } = await runBoard(file);
    expect(report.iommus).toHaveLength(6);
    expect(loaded.devicetree?.nodes.filter((n) => n.name.endsWith('.iommu')).map((n) => `${n.name}:${n.as}`)).toContain('2b400000.iommu:disabled');
    expect(dev(report, '7ffb0000.usb')?.iommu?.group).toBe(dev(report, '7ffc0000.usb')?.iommu?.group);
    const pci = ['lan', 'slot0', 'slot1'].map((n) => dev(report, n)!);
    expect(new Set(pci.map((d) => d.iommu?.group)).size).toBe(1);
    expect(pci.map((d) => d.iommu?.streamIds)).toEqual([[0], [0], [0]]);
  });

  it('QEMU virt with SMMUv3: the NVMe at 00:01.0 goes through 9050000.smmuv3 on its requester id, as the real boot', async () => {
    const file = write(
      'virt.yaml',
      [`name: virt-dt`, `devicetree: ${join(SHARED_DT, 'qemu/virt-smmuv3.dtb')}`, 'devices: [{ name: nvme, pci: { bdf: "00:01.0", vendor: 0x1b36, device: 0x0010 }, bus: 4010000000.pcie }]'].join('\n'),
    );
    const { report } = await runBoard(file);
    expect(dev(report, 'nvme')).toMatchObject({ state: 'bound', dmaOps: 'iommu-dma', iommu: { name: '9050000.smmuv3', streamIds: [0x8], group: 0 } });
    const real = readFileSync(join(SHARED_DT, '../reference/real-boot/boot-console-smmuv3-nvme.log'), 'utf8');
    const ours = report.log.filter((l) => l.includes('arm-smmu-v3 9050000.smmuv3:')).map((l) => l.replace(/^\[[^\]]*\] /, ''));
    expect(ours.length).toBeGreaterThan(0);
    for (const l of ours) expect(real).toContain(l);
  });
});
