export * from './regs';
export * from './params';
export * from './iotlb';
export * from './walker';
export * from './context-bank';
export * from './smmu';
export * from './testing/lpae-test-tables';
