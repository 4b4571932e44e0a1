export * from './run-html';
export * from './explore-html';
