export * from './hop';
export * from './model';
