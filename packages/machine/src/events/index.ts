export * from './filter';
export * from './recorder';
