// The one module of core that loads tsyringe at run time (and so needs reflect-metadata first):
// `@dmasim/core/standalone` leaves it out.
import 'reflect-metadata';
import type { DependencyContainer } from 'tsyringe';
import { container as rootContainer } from 'tsyringe';

/** One child container per machine: nothing registered in it is visible to another machine. */
export function createMachineContainer(parent: DependencyContainer = rootContainer): DependencyContainer {
  return parent.createChildContainer();
}
