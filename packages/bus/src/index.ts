export * from './fwnode';
export * from './device';
