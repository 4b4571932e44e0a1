export * from './regs';
export * from './rk-iommu-hw';
