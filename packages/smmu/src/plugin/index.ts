export * from './board-keys';
export * from './hop';
export * from './model';
