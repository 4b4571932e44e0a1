import { dirname, isAbsolute, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { deviceModels as builtinDeviceModels, type DeviceModel } from '@dmasim/devices';
import type { IommuModel } from '@dmasim/iommu-core';
import { mmioSizesOf, type ModelCatalogue } from '../board/models';
import { BoardError } from '../board/errors';
import { BUILTIN_IOMMU_MODELS } from './builtin-plugins';
import { deviceModelProblem } from './plugin-check';

/**
 * The plugin registry of a machine: device models by DT compatible or PCI vendor:device, IOMMU
 * models by compatible. Built-in models come from `@dmasim/devices` and the IOMMU packages
 * (`builtin-plugins.ts`); a board may list third-party plugin modules, each exporting
 * `deviceModels: DeviceModel[]`, `iommuModels: IommuModel[]`, or both.
 */
export class PluginRegistry {
  private readonly byCompatible = new Map<string, DeviceModel>();
  private readonly byPciId = new Map<string, DeviceModel>();
  private readonly iommuByCompatible = new Map<string, IommuModel>();

  constructor(models: readonly DeviceModel[] = builtinDeviceModels, iommuModels: readonly IommuModel[] = BUILTIN_IOMMU_MODELS) {
    for (const m of iommuModels) this.addIommu(m);
    for (const m of models) this.add(m);
  }

  add(model: DeviceModel): void {
    for (const c of model.compatibles ?? []) this.byCompatible.set(c, model);
    for (const id of model.pciIds ?? []) this.byPciId.set(id.toLowerCase(), model);
  }

  /** Adds an IOMMU model; a later model serving a compatible replaces the earlier one for it. */
  addIommu(model: IommuModel): void {
    for (const c of model.compatibles) this.iommuByCompatible.set(c, model);
  }

  findByCompatible(compatible: string): DeviceModel | undefined {
    return this.byCompatible.get(compatible);
  }

  findByPciId(id: string): DeviceModel | undefined {
    return this.byPciId.get(id.toLowerCase());
  }

  findIommuModel(compatible: string): IommuModel | undefined {
    return this.iommuByCompatible.get(compatible);
  }

  /** Every distinct device model, in registration order. */
  get models(): DeviceModel[] {
    return [...new Set([...this.byCompatible.values(), ...this.byPciId.values()])];
  }

  /** Every distinct IOMMU model, in registration order. */
  get iommuModels(): IommuModel[] {
    return [...new Set(this.iommuByCompatible.values())];
  }

  /** What board validation accepts. */
  catalogue(): ModelCatalogue {
    const describe = (m: DeviceModel): string => `${m.name} model${m.workloads.length > 0 ? `; workloads: ${m.workloads.join(', ')}` : ''}`;
    return {
      deviceCompatibles: new Map([...this.byCompatible].map(([c, m]) => [c, m.workloads])),
      pciIds: new Map([...this.byPciId].map(([id, m]) => [id, m.workloads])),
      iommuCompatibles: new Map(this.iommuByCompatible),
      descriptions: new Map([
        ...[...this.byCompatible, ...this.byPciId].map(([k, m]): [string, string] => [k, describe(m)]),
        ...[...this.iommuByCompatible].map(([c, m]): [string, string] => [c, m.descriptions?.[c] ?? `${m.name} IOMMU model`]),
      ]),
      mmioSizes: mmioSizesOf(this.models),
    };
  }
}

/** Imports the plugin modules a board lists (paths relative to the board file). */
export async function loadPlugins(registry: PluginRegistry, paths: readonly string[], boardFile: string): Promise<void> {
  for (const [i, p] of paths.entries()) {
    const file = isAbsolute(p) ? p : resolve(dirname(boardFile), p);
    const fail = (message: string): never => {
      throw new BoardError([{ file: boardFile, path: `plugins[${i}]`, message, found: JSON.stringify(p) }]);
    };
    let mod: { deviceModels?: unknown; iommuModels?: unknown };
    try {
      mod = (await import(pathToFileURL(file).href)) as typeof mod;
    } catch (e) {
      return fail(`cannot load plugin module: ${(e as Error).message}`);
    }
    const { deviceModels, iommuModels } = mod;
    if ((deviceModels !== undefined && !Array.isArray(deviceModels)) || (iommuModels !== undefined && !Array.isArray(iommuModels)) || (deviceModels === undefined && iommuModels === undefined)) {
      fail('expected a module exporting deviceModels: DeviceModel[] and/or iommuModels: IommuModel[]');
    }
    for (const [j, m] of ((iommuModels ?? []) as unknown[]).entries()) {
      const problem = iommuModelProblem(m);
      if (problem !== null) fail(`iommuModels[${j}] is not an IommuModel: ${problem}`);
      registry.addIommu(m as IommuModel);
    }
    for (const [j, m] of ((deviceModels ?? []) as unknown[]).entries()) {
      const problem = deviceModelProblem(m);
      if (problem !== null) fail(`deviceModels[${j}] of the plugin module: ${problem}`);
      registry.add(m as DeviceModel);
    }
  }
}

/** What is missing from a value meant to be an IommuModel (a plugin module's export), or null. */
function iommuModelProblem(m: unknown): string | null {
  if (typeof m !== 'object' || m === null) return 'expected an object';
  const o = m as Record<string, unknown>;
  if (typeof o.name !== 'string') return 'no name';
  if (!Array.isArray(o.compatibles) || !o.compatibles.every((c) => typeof c === 'string')) return 'compatibles must be a list of strings';
  if (typeof o.iommuCells !== 'number') return 'no iommuCells';
  if (!Array.isArray(o.boardKeys)) return 'no boardKeys';
  for (const f of ['checkBoardKeys', 'createHardware', 'createDriver']) if (typeof o[f] !== 'function') return `no ${f}()`;
  return null;
}
