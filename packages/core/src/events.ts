import { EventEmitter } from 'eventemitter3';

/**
 * Observational events (trace, reports, UI) are typed eventemitter3 emitters. They observe the
 * simulation and never steer it: ordering-sensitive kernel chains live in `bus`, not here.
 */
export { EventEmitter };
export type TypedEmitter<Events extends EventEmitter.ValidEventTypes> = EventEmitter<Events>;
