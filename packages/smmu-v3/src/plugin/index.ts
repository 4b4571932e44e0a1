export * from './board-keys';
export * from './model';
