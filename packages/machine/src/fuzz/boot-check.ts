import { BoardError } from '../board/errors';
import { parseBoard, type LoadedBoard } from '../board/load';
import { Machine } from '../machine/machine';
import { PluginRegistry } from '../machine/plugins';
import type { RunReport } from '../report/types';

export type BootOutcome = { readonly kind: 'invalid'; readonly error: BoardError } | { readonly kind: 'ran'; readonly report: RunReport; readonly machine: Machine };

/**
 * What a user gets for a board: a BoardError (exit 1, one line per problem) or a report. Anything
 * else escaping (a TypeError, a RangeError) is a host exception and is rethrown for the fuzzer.
 */
export function bootBoard(raw: unknown, file = 'fuzz.yaml'): BootOutcome {
  let loaded: LoadedBoard;
  try {
    loaded = parseBoard(raw, file);
  } catch (e) {
    if (e instanceof BoardError) return { kind: 'invalid', error: e };
    throw e;
  }
  return runParsed(loaded);
}

export function runParsed(loaded: LoadedBoard): BootOutcome {
  let machine: Machine;
  try {
    machine = new Machine(loaded, { registry: new PluginRegistry() });
  } catch (e) {
    if (e instanceof BoardError) return { kind: 'invalid', error: e };
    throw e;
  }
  const report = machine.run();
  JSON.stringify(report); // the report must be serialisable (--json)
  return { kind: 'ran', report, machine };
}
