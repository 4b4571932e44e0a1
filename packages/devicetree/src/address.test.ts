import { describe, expect, it } from 'vitest';
import { ofDmaGetMaxCpuAddress, ofDmaGetRange, ofNAddrCells, ofRegs, ofTranslate, PHYS_ADDR_MAX } from './address';
import { findNodeByPath, type DtTree } from './tree';
import { cellsValue } from './write';
import { fixture } from './test-helpers';

const node = (t: DtTree, p: string) => findNodeByPath(t, p)!;

describe('reg through ranges (of_translate_address)', () => {
  const t = fixture('mini');

  it('translates a /soc bus address to the CPU address the kernel maps', () => {
    expect(ofRegs(t, node(t, '/soc/hvs@7e400000'))).toEqual([{ busAddr: 0x7e400000, cpuAddr: 0xfe400000, size: 0x8000, flags: 0 }]);
  });
  it('goes through two levels of ranges (/scb/lowbus)', () => {
    expect(ofRegs(t, node(t, '/scb/lowbus/dev@10000'))[0]?.cpuAddr).toBe(0xfc000000 + 0x2000000 + 0x10000);
  });
  it('a root-level reg of two-cell addresses is already a CPU address', () => {
    expect(ofNAddrCells(t, node(t, '/memory@80000000'))).toBe(2);
    expect(ofRegs(t, node(t, '/memory@80000000')).map((r) => r.cpuAddr)).toEqual([0x80000000, 0x880000000]);
  });
  it('an address outside every ranges window does not translate', () => {
    expect(ofTranslate(t, node(t, '/soc/hvs@7e400000'), 0x10000000, 'ranges')).toBeUndefined();
  });
  it('a wrong cell count names the node and the counts it expected', () => {
    const t2 = fixture('mini');
    node(t2, '/soc').props.set('dma-ranges', cellsValue(0xc0000000, 0, 0));
    expect(() => ofDmaGetRange(t2, node(t2, '/soc'))).toThrow(/mini\.dtb: \/soc: dma-ranges has 3 cells, not a multiple of 4 \(#address-cells 1 \+ parent #address-cells 2 \+ #size-cells 1\)/);
  });
  it('overlapping ranges entries are refused: a translation through them would be ambiguous', () => {
    const t2 = fixture('mini');
    node(t2, '/soc').props.set('ranges', cellsValue(0x7e000000, 0, 0xfe000000, 0x1800000, 0x7e100000, 0, 0x10000000, 0x1000));
    expect(() => ofRegs(t2, node(t2, '/soc/hvs@7e400000'))).toThrow(/\/soc: ranges entries 0 and 1 overlap/);
  });
});

describe('dma-ranges (of_dma_get_range, of_dma_get_max_cpu_address)', () => {
  const t = fixture('mini');

  it('gives /soc devices bus 0xc0000000 → CPU 0, 1 GiB', () => {
    expect(ofDmaGetRange(t, node(t, '/soc'))?.regions).toEqual([{ cpuStart: 0, dmaStart: 0xc0000000, size: 0x40000000 }]);
  });
  it('empty dma-ranges passes on to the parent; no dma-ranges at all means no map', () => {
    expect(ofDmaGetRange(t, node(t, '/soc/inner'))?.node.path).toBe('/soc');
    expect(ofDmaGetRange(t, node(t, '/scb'))).toBeNull();
  });
  it('a bus below one without dma-ranges translates its CPU side 1:1 (lowbus under scb)', () => {
    expect(ofDmaGetRange(t, node(t, '/scb/lowbus'))?.regions).toEqual([{ cpuStart: 0, dmaStart: 0, size: 0x20000000 }]);
  });
  it('PCI dma-ranges read 3-cell child addresses', () => {
    expect(ofDmaGetRange(t, node(t, '/pcie@40000000'))?.regions).toEqual([
      { cpuStart: 0x80000000, dmaStart: 0x80000000, size: 0x80000000 },
      { cpuStart: 0x800000000, dmaStart: 0x800000000, size: 0x200000000 },
    ]);
  });
  it('the lowest DMA limit of the tree is the lowbus window (512 MiB)', () => {
    expect(ofDmaGetMaxCpuAddress(t)).toBe(0x1fffffff);
  });
  it('a disabled subtree does not limit ZONE_DMA; a tree without dma-ranges is unlimited', () => {
    const t2 = fixture('mini');
    node(t2, '/scb').props.set('status', new TextEncoder().encode('disabled\0'));
    expect(ofDmaGetMaxCpuAddress(t2)).toBe(0x3fffffff);
    for (const p of ['/soc', '/pcie@40000000']) node(t2, p).props.delete('dma-ranges');
    expect(ofDmaGetMaxCpuAddress(t2)).toBe(PHYS_ADDR_MAX);
  });
});
