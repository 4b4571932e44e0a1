export * from './board';
export * from './machine/machine';
export * from './machine/plugins';
export * from './machine/board-schema';
export * from './machine/run';
export * from './report/types';
export * from './report/build';
export * from './report/human';
