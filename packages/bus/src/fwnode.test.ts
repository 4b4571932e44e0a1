import { EINVAL } from '@dmasim/core';
import { describe, expect, it } from 'vitest';
import { FwNode, type PropValue } from './fwnode';
import { ofMatchDevice } from './platform';

describe('firmware node properties of the wrong shape read as the kernel reads them', () => {
  it('a numeric compatible matches no driver instead of throwing in of_match_node', () => {
    const node = new FwNode('d', { compatible: 5 as unknown as string[] });
    expect(ofMatchDevice([{ compatible: 'generic-ehci' }], node)).toBeNull();
    expect(node.readError('compatible')).toBe(-EINVAL);
    expect(node.has('compatible')).toBe(true);
  });

  it('a one-string compatible is a one-entry list (matched whole, not as a substring)', () => {
    const node = new FwNode('d', { compatible: 'generic-ehci' as unknown as string[] });
    expect(node.compatible).toEqual(['generic-ehci']);
    expect(ofMatchDevice([{ compatible: 'ehci' }], node)).toBeNull();
  });

  it.each<[string, unknown]>([
    ['iommus', 1],
    ['iommus', [{ node: 'smmu0', args: [-1] }]],
    ['reg', [0x1000, Number.NaN]],
    ['dma-coherent', 'yes'],
    ['#iommu-cells', 0.5],
    ['iommu-map', [{ ridBase: 0, iommu: 'smmu0', iommuBase: 0, length: 2 ** 33 }]],
  ])('%s = %j: present, typed reads fail with -EINVAL', (key, value) => {
    const node = new FwNode('d');
    node.set(key, value as PropValue);
    expect(node.get(key)).toBeUndefined();
    expect(node.readError(key)).toBe(-EINVAL);
    expect(node.keys()).toContain(key);
  });

  it('well-formed values and unknown properties read back as set', () => {
    const node = new FwNode('d', { iommus: [{ node: 'smmu0', args: [3] }], 'vendor,thing': 'x' });
    expect(node.get('iommus')).toEqual([{ node: 'smmu0', args: [3] }]);
    expect(node.readError('iommus')).toBe(0);
    expect(node.get('vendor,thing')).toBe('x');
    expect(node.readError('absent')).toBeUndefined();
  });
});
