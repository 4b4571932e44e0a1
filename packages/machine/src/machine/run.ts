import { loadBoard, type LoadedBoard } from '../board/load';
import type { Decision, OrderPolicy } from '@dmasim/core';
import type { RunReport } from '../report/types';
import { Machine } from './machine';
import { withDevicetree } from '../report/devicetree';
import { loadPlugins, PluginRegistry } from './plugins';

export interface RunOptions {
  readonly seed?: number;
  readonly policy?: OrderPolicy;
  readonly replay?: readonly Decision[];
}

export interface BoardRun {
  readonly loaded: LoadedBoard;
  readonly machine: Machine;
  readonly report: RunReport;
}

/**
 * Loads a board with the plugins it lists, validated against every model they bring; `overrides`
 * are `--set path=value` texts applied over the board's layers.
 */
export async function loadBoardWithPlugins(ref: string, options: { overrides?: readonly string[] } = {}): Promise<{ loaded: LoadedBoard; registry: PluginRegistry }> {
  const registry = new PluginRegistry();
  const loaded = await loadBoard(ref, {
    ...(options.overrides !== undefined ? { overrides: options.overrides } : {}),
    prepare: async (raw, file) => {
      const plugins = Array.isArray(raw.plugins) ? raw.plugins.filter((p): p is string => typeof p === 'string') : [];
      await loadPlugins(registry, plugins, file);
      return registry.catalogue();
    },
  });
  return { loaded, registry };
}

/**
 * Boots a loaded board, runs its workloads, shuts it down and reports; `observe` sees the machine
 * before it boots (to listen to its events).
 */
export function runLoaded(loaded: LoadedBoard, registry: PluginRegistry, options: RunOptions = {}, observe?: (m: Machine) => void): BoardRun {
  const machine = new Machine(loaded, { ...options, registry });
  observe?.(machine);
  return { loaded, machine, report: withDevicetree(machine.run(), loaded.devicetree) };
}

/** `dmasim run` without the CLI: a board path or example name in, the report out. */
export async function runBoard(ref: string, options: RunOptions = {}): Promise<BoardRun> {
  const { loaded, registry } = await loadBoardWithPlugins(ref);
  return runLoaded(loaded, registry, options);
}
