/**
 * The IOMMU API of `@dmasim/iommu-core` (Linux drivers/iommu/iommu.c): ops, domains, groups,
 * default domains, fwspec, attach, map/unmap and fault reporting.
 */
export * from './types';
export * from './gather';
export * from './domain';
export * from './events';
export * from './ops';
export * from './group';
export * from './fwspec';
export * from './bus-host';
export * from './bus-adapter';
export * from './pci';
export * from './map';
export * from './fault';
export * from './core';
export * from './di';
export * from './testing';
