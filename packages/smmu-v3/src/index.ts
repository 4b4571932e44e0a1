export * from './words';
export * from './hw/index';
export * from './driver/index';
export * from './register';
export * from './plugin/index';
