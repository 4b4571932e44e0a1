import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ofDmaGetMaxCpuAddress, ofParseRanges, ofTranslate } from './address';
import { importDevicetree, ofDmaLimit } from './board';
import { compileDts, dtcAvailable, readDevicetreeFile } from './dtc';
import { ofIommus, ofMapId } from './iommu';
import { parseFdt } from './fdt';
import { findNodeByPath, type DtTree } from './tree';
import { serializeFdt, writeDts } from './write';
import { hasSharedDt, SHARED_DT, TEST_MODELS } from './test-helpers';

const TREES = ['bcm2711-rpi-4-b', 'juno-r1', 'qemu/virt', 'qemu/virt-smmuv3'];
const load = (name: string): DtTree => readDevicetreeFile(join(SHARED_DT, `${name}.dtb`));
const facts = (name: string): string => readFileSync(join(SHARED_DT, `${name}.facts.txt`), 'utf8');

if (!hasSharedDt) console.log(`shared-trees.test: ${SHARED_DT} is absent, the checks on real device trees are skipped`);

describe.skipIf(!hasSharedDt)('real device trees (../shared/dt)', () => {
  it.each(TREES)('%s: the dma-ranges of every bus translate to the CPU addresses the facts file lists', (name) => {
    const t = load(name);
    const text = facts(name);
    // "  /soc  [status=...]" then "bus 0xc0000000 -> parent 0x0 size 0x40000000 ... ; cpu [0x0..0x3fffffff]"
    const blocks = [...text.matchAll(/^ {2}(\/\S*) {2}\[[^\n]*\n((?: {6}[^\n]*\n)+)/gm)];
    let checked = 0;
    for (const [, path, body] of blocks) {
      const node = findNodeByPath(t, path!)!;
      const expected = [...body!.matchAll(/bus (0x[0-9a-f]+) -> parent (0x[0-9a-f]+) size (0x[0-9a-f]+).*cpu \[(0x[0-9a-f]+)\.\.(0x[0-9a-f]+)\]/g)].map((m) => ({ bus: Number(m[1]), cpu: Number(m[4]), end: Number(m[5]) }));
      const got = (ofParseRanges(t, node, 'dma-ranges') ?? []).map((r) => ({ bus: r.busAddr, cpu: ofTranslate(t, node, r.parentAddr, 'dma-ranges')!, end: ofTranslate(t, node, r.parentAddr, 'dma-ranges')! + r.size - 1 }));
      expect(got, path).toEqual(expected);
      checked += expected.length;
    }
    expect(checked).toBe((text.match(/; cpu \[/g) ?? []).length);
    const max = /of_dma_get_max_cpu_address\(\): .*= (0x[0-9a-f]+)/.exec(text);
    expect(ofDmaGetMaxCpuAddress(t)).toBe(max === null ? Number.MAX_SAFE_INTEGER : Number(max[1]));
  });

  it.each(TREES)('%s: every master’s iommus and iommu-map are the streams the facts file lists', (name) => {
    const t = load(name);
    const text = facts(name);
    const masters = [...text.matchAll(/^ {2}(\/\S+) \[[^\n]*\n {6}iommus: ([^\n]+)/gm)];
    expect(masters).toHaveLength((text.match(/^ {6}iommus: /gm) ?? []).length);
    for (const m of masters) {
      const expected = m[2]!.split('; ').map((s) => s.replace(/ sid /, ':'));
      expect(ofIommus(t, findNodeByPath(t, m[1]!)!).map((s) => `${s.iommu.path}:0x${s.args[0]!.toString(16)}`), m[1]).toEqual(expected);
    }
    for (const m of text.matchAll(/^ {2}(\/\S+) \[[^\n]*\n {6}iommu-map: rid-base (0x[0-9a-f]+) -> (\S+) sid-base (0x[0-9a-f]+)/gm)) {
      expect(ofMapId(t, findNodeByPath(t, m[1]!)!, Number(m[2]))).toEqual({ iommu: findNodeByPath(t, m[3]!), id: Number(m[4]) });
    }
  });

  it('RPi4: ZONE_DMA is 30 bits and hvs reaches up to 0x3fffffff', () => {
    const imp = importDevicetree(load('bcm2711-rpi-4-b'), TEST_MODELS, 'rpi4');
    expect(imp.zoneDmaBits).toBe(30);
    const soc = imp.board.buses.find((b) => b.name === 'soc')!;
    expect(imp.board.devices.find((d) => d.name === 'fe400000.hvs')?.bus).toBe('soc');
    expect(ofDmaLimit(soc.dmaRanges!.map((r) => ({ cpuStart: r.cpu, dmaStart: r.bus, size: r.size })))).toBe(0x3fffffff);
    expect(imp.board.memory).toEqual([]); // the firmware fills /memory in
  });

  it('Juno r1: seven SMMUs (the GPU one disabled), EHCI/OHCI on one USB SMMU stream, every PCI requester on stream 0', () => {
    const t = load('juno-r1');
    const imp = importDevicetree(t, TEST_MODELS, 'juno-r1');
    expect(imp.board.iommus).toHaveLength(6);
    expect(imp.nodes.filter((n) => n.as === 'disabled' && n.name.endsWith('.iommu')).map((n) => n.name)).toEqual(['2b400000.iommu']);
    const usb = imp.board.devices.filter((d) => d.compatible === 'generic-ehci' || d.compatible === 'generic-ohci');
    expect(usb.map((d) => d.iommus)).toEqual([[{ iommu: '7fb30000.iommu', streamIds: [0], shared: true }], [{ iommu: '7fb30000.iommu', streamIds: [0], shared: true }]]);
    const pcie = findNodeByPath(t, '/pcie@40000000')!;
    expect(new Set([0x0, 0x100, 0x200, 0x800].map((rid) => ofMapId(t, pcie, rid)?.id))).toEqual(new Set([0]));
  });

  it('QEMU virt with iommu=smmuv3: the SMMUv3 is named as the real boot log names it, its host bridge marked', () => {
    const imp = importDevicetree(load('qemu/virt-smmuv3'), TEST_MODELS, 'virt');
    expect(imp.unmodelledIommus).toEqual([{ name: '9050000.smmuv3', path: '/smmuv3@9050000', compatible: 'arm,smmu-v3', masters: ['4010000000.pcie'] }]);
    const log = readFileSync(join(SHARED_DT, '../reference/real-boot/boot-console-smmuv3-nvme.log'), 'utf8');
    expect(log).toContain('arm-smmu-v3 9050000.smmuv3:');
    expect(log).toContain('pci-host-generic 4010000000.pcie:');
    expect(imp.board.buses.map((b) => b.name)).toContain('4010000000.pcie');
  });

  it.skipIf(!dtcAvailable()).each(TREES)('%s: the .dts compiles (dtc) to the tree of the .dtb, and writeDts round-trips it', (name) => {
    const t = load(name);
    const fromDts = readDevicetreeFile(join(SHARED_DT, `${name}.dts`));
    expect(serializeFdt(fromDts)).toEqual(serializeFdt(t));
    expect(serializeFdt(parseFdt(compileDts(writeDts(t), 'w.dts'), 'w.dts'))).toEqual(serializeFdt(t));
  });
});
