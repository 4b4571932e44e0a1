export * from './format';
export * from './hw/index';
export * from './driver/index';
export * from './plugin/index';
