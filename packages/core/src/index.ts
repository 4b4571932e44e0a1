export * from './standalone';
export * from './container';
