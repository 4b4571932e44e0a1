export * from './schema';
export * from './errors';
export * from './models';
export * from './validate';
export * from './merge';
export * from './load';
export * from './json-schema';
