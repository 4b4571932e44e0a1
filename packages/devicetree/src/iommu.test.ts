import { describe, expect, it } from 'vitest';
import { checkIommuBinding, ofIdMap, ofIommus, ofMapId, ofMmuMasters } from './iommu';
import { irqNumber, ofIrqs } from './irq';
import { findNodeByPath, type DtTree } from './tree';
import { cellsValue } from './write';
import { fixture } from './test-helpers';

const node = (t: DtTree, p: string) => findNodeByPath(t, p)!;

describe('iommus, iommu-map, mmu-masters', () => {
  const t = fixture('mini');

  it('iommus gives the SMMU node and the stream id', () => {
    expect(ofIommus(t, node(t, '/usb@7ffc0000')).map((s) => [s.iommu.path, s.args])).toEqual([['/iommu@7fb30000', [0]]]);
  });
  it('iommu-map-mask = <0> puts every requester id on stream 0', () => {
    const pcie = node(t, '/pcie@40000000');
    expect(ofIdMap(t, pcie).map((e) => [e.ridBase, e.iommu.path, e.outBase, e.length])).toEqual([[0, '/iommu@2b500000', 0, 1]]);
    for (const rid of [0x0, 0x100, 0x800, 0xffff]) expect(ofMapId(t, pcie, rid)).toEqual({ iommu: node(t, '/iommu@2b500000'), id: 0 });
  });
  it('without a mask, requester ids outside the map have no IOMMU', () => {
    const t2 = fixture('mini');
    const pcie = node(t2, '/pcie@40000000');
    pcie.props.delete('iommu-map-mask');
    expect(ofMapId(t2, pcie, 0)).toBeDefined();
    expect(ofMapId(t2, pcie, 0x100)).toBeUndefined();
  });
  it('the legacy mmu-masters reads each master’s #stream-id-cells', () => {
    expect(ofMmuMasters(t, node(t, '/iommu@2b600000')).map((m) => [m.master.path, m.streamIds])).toEqual([['/sata@7ff00000', [0x10, 0x11]]]);
  });
  it('a dangling phandle names the node and the property', () => {
    const t2 = fixture('mini');
    node(t2, '/usb@7ffc0000').props.set('iommus', cellsValue(0x77, 0));
    expect(() => ofIommus(t2, node(t2, '/usb@7ffc0000'))).toThrow(/mini\.dtb: \/usb@7ffc0000: iommus refers to phandle 0x77, which no node has/);
  });
  it('#iommu-cells the binding does not allow', () => {
    const bad = fixture('bad-iommu-cells');
    expect(() => checkIommuBinding(bad, node(bad, '/soc/iommu@2b500000'), 'arm,mmu-401', 1)).toThrow('bad-iommu-cells.dtb: /soc/iommu@2b500000: #iommu-cells is 2, the arm,mmu-401 binding expects 1');
  });
});

describe('interrupts', () => {
  const t = fixture('mini');
  it('reads GIC specifiers through the root interrupt-parent; the board number is the SPI as written', () => {
    const irqs = ofIrqs(t, node(t, '/iommu@7fb30000'));
    expect(irqs.map((i) => [i.controller.path, irqNumber(i)])).toEqual([['/interrupt-controller@2c010000', 101], ['/interrupt-controller@2c010000', 101]]);
  });
  it('an interrupt-parent loop is an error, not a hang', () => {
    const t2 = fixture('mini');
    const a = node(t2, '/soc');
    const b = node(t2, '/scb');
    a.props.set('phandle', cellsValue(0x100));
    b.props.set('phandle', cellsValue(0x101));
    a.props.set('interrupt-parent', cellsValue(0x101));
    b.props.set('interrupt-parent', cellsValue(0x100));
    t2.phandles.set(0x100, a).set(0x101, b);
    const hvs = node(t2, '/soc/hvs@7e400000');
    expect(() => ofIrqs(t2, hvs)).toThrow(/\/soc\/hvs@7e400000: interrupt-parent references loop/);
  });
});
