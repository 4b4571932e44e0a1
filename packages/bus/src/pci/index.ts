export * from './config';
export * from './hw';
export * from './pci-bus';
