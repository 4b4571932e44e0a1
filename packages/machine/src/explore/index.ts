export * from './explore';
export * from './explain';
export * from './signature';
export * from './tree';
export * from './run-path';
export * from './pool';
