export * from './hw/index';
