export * from './regs';
export * from './params';
export * from './events';
export * from './commands';
export * from './stream-config';
export * from './tlb-contexts';
export * from './smmu-v3';
export * from './dma-hop';
