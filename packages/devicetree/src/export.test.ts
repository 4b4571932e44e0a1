import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { importDevicetree } from './board';
import { compileDts, dtcAvailable } from './dtc';
import { DtError } from './errors';
import { boardToTree, type ExportableBoard } from './export';
import { parseFdt } from './fdt';
import { serializeFdt, writeDts } from './write';
import { fixture, fixtureBytes, fixtureSource, TEST_MODELS } from './test-helpers';

if (!dtcAvailable()) console.log('export.test: dtc is not installed, the tests that compile DTS are skipped (apt-get install device-tree-compiler)');

/** A board with every kind of part export writes (shaped like the machine's parsed boards). */
const BOARD: ExportableBoard = {
  name: 'roundtrip',
  description: 'every part once',
  kernel: { arch: 'arm64', profile: 'linux-6.x', dmaZone: 0x40000000, swiotlb: { size: 0x4000000, dynamic: false } },
  cpus: 4,
  memory: [{ base: 0x0, size: 0x3b400000 }, { base: 0x40000000, size: 0xbc000000 }],
  iommus: [
    { name: 'smmu_usb', compatible: 'arm,mmu-401', base: 0x7fb30000, size: 0x10000, irq: 101, contextBanks: 1, streamMatchRegisters: 2, coherentWalk: true },
    { name: 'smmu_sata', compatible: 'arm,smmu-v1', base: 0x7fb40000, size: 0x10000, contextBanks: 4, streamMatchRegisters: 8, coherentWalk: false, disableBypass: true, masters: [{ device: 'sata', streamIds: [3, 4] }] },
  ],
  buses: [
    { name: 'soc', type: 'platform', dmaRanges: [{ bus: 0xc0000000, cpu: 0x0, size: 0x40000000 }] },
    { name: 'scb', type: 'platform' },
    { name: 'pcie0', type: 'pci', dmaRanges: [{ bus: 0x80000000, cpu: 0x80000000, size: 0x80000000 }], iommuMap: { iommu: 'smmu_usb', ridBase: 0, streamBase: 0x100, length: 0x100, mask: 0xff } },
  ],
  devices: [
    { name: 'hvs', compatible: 'brcm,bcm2711-hvs', bus: 'soc', base: 0xfe400000, irq: 97 },
    { name: 'v3d', compatible: 'brcm,2711-v3d', bus: 'scb', base: 0xfec00000, size: 0x4000, irq: 74, dmaMask: 40 },
    { name: 'ohci', compatible: 'generic-ohci', bus: 'scb', base: 0x7ffb0000, iommus: [{ iommu: 'smmu_usb', streamIds: [0] }], coherent: true, status: 'disabled' },
    { name: 'sata', compatible: 'calxeda,hb-ahci', bus: 'scb', base: 0xffe08000, properties: { ports: 2 } },
    { name: 'nvme', pci: { bdf: '01:00.0', vendor: 0x1b36, device: 0x0010 }, bus: 'pcie0', coherent: false },
  ],
  workloads: [{ kind: 'display-import', producer: 'v3d', consumer: 'hvs', buffers: [524288], frames: 1 }],
};

function expectSameBoard(again: ReturnType<typeof importDevicetree>['board']): void {
  expect(again.name).toBe('roundtrip');
  expect(again.description).toBe('every part once');
  expect(again.kernel).toEqual(BOARD.kernel);
  expect(again.cpus).toBe(4);
  expect(again.memory).toEqual(BOARD.memory);
  expect(again.workloads).toEqual(BOARD.workloads);
  expect(again.iommus).toEqual([
    { ...BOARD.iommus[0] },
    { ...BOARD.iommus[1], masters: [{ device: 'sata', streamIds: [3, 4] }] },
  ]);
  expect(again.buses.sort((a, b) => a.name.localeCompare(b.name))).toEqual([...BOARD.buses].sort((a, b) => a.name.localeCompare(b.name)));
  expect(again.devices).toEqual([
    { name: 'hvs', compatible: 'brcm,bcm2711-hvs', bus: 'soc', base: 0xfe400000, size: 0x1000, irq: 97 },
    { name: 'v3d', compatible: 'brcm,2711-v3d', bus: 'scb', base: 0xfec00000, size: 0x4000, irq: 74, dmaMask: 40 },
    { name: 'ohci', compatible: 'generic-ohci', bus: 'scb', base: 0x7ffb0000, size: 0x1000, iommus: [{ iommu: 'smmu_usb', streamIds: [0], shared: false }], coherent: true, status: 'disabled' },
    { name: 'sata', compatible: 'calxeda,hb-ahci', bus: 'scb', base: 0xffe08000, size: 0x1000, properties: { ports: 2 } },
    { name: 'nvme', pci: { bdf: '01:00.0', vendor: 0x1b36, device: 0x0010 }, bus: 'pcie0', coherent: false },
  ]);
}

describe('board → tree → board', () => {
  it('through dmasim’s own blob writer gives back the same board', () => {
    const blob = serializeFdt(boardToTree(BOARD));
    expectSameBoard(importDevicetree(parseFdt(blob, 'rt.dtb'), TEST_MODELS).board);
  });

  it.skipIf(!dtcAvailable())('through DTS text and dtc gives back the same board (needs dtc: apt-get install device-tree-compiler)', () => {
    const dts = writeDts(boardToTree(BOARD), ['exported by a test']);
    expectSameBoard(importDevicetree(parseFdt(compileDts(dts, 'rt.dts'), 'rt.dts'), TEST_MODELS).board);
  });

  it.skipIf(!dtcAvailable())('the committed fixture blobs are what dtc makes of their sources', () => {
    for (const name of ['mini', 'bad-iommu-cells']) expect(compileDts(fixtureSource(name), `${name}.dts`)).toEqual(fixtureBytes(name));
  });

  it.skipIf(!dtcAvailable())('writeDts of a real tree compiles back to the same blob structure', () => {
    const t = fixture('mini');
    const again = parseFdt(compileDts(writeDts(t), 'w.dts'), 'w.dts');
    expect(serializeFdt(again)).toEqual(serializeFdt(t));
  });

  it.skipIf(!dtcAvailable())('dtc errors name the file', () => {
    expect(() => compileDts('/dts-v1/;\n/ { x = <1>\n', 'broken.dts')).toThrow(/^broken\.dts: dtc: does not compile: .*broken\.dts/);
  });
});

describe('import of corrupted trees', () => {
  it('never throws anything but DtError (fuzzed property bytes)', () => {
    const base = fixture('mini');
    const paths = [...base.phandles.values()].map((n) => n.path);
    fc.assert(
      fc.property(fc.array(fc.tuple(fc.nat(1000), fc.constantFrom('reg', 'ranges', 'dma-ranges', 'iommus', 'interrupts', 'iommu-map', 'mmu-masters', '#address-cells', '#size-cells', '#iommu-cells', 'status', 'compatible', 'interrupt-parent'), fc.uint8Array({ maxLength: 24 })), { maxLength: 6 }), (edits) => {
        const t = fixture('mini');
        const nodes = [t.root, ...[...t.phandles.values()], ...paths.map(() => t.root)];
        for (const [i, prop, value] of edits) nodes[i % nodes.length]!.props.set(prop, value);
        try {
          importDevicetree(parseFdt(serializeFdt(t), 'f.dtb'), TEST_MODELS);
        } catch (e) {
          if (!(e instanceof DtError)) throw e;
        }
      }),
      { numRuns: 500 },
    );
  });
});
