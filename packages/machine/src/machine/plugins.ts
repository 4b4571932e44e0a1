import { dirname, isAbsolute, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { deviceModels as builtinDeviceModels, type DeviceModel } from '@dmasim/devices';
import { builtinModels, type IommuModelLimits, type ModelCatalogue } from '../board/models';
import { BoardError } from '../board/errors';

/**
 * The plugin registry of a machine: device models by DT compatible or PCI vendor:device, IOMMU
 * models by compatible. Built-in models come from `@dmasim/devices` and `@dmasim/smmu`; a board may
 * list third-party plugin modules, each exporting `deviceModels: DeviceModel[]`.
 */
export class PluginRegistry {
  private readonly byCompatible = new Map<string, DeviceModel>();
  private readonly byPciId = new Map<string, DeviceModel>();
  readonly iommuModels: Map<string, IommuModelLimits>;

  constructor(models: readonly DeviceModel[] = builtinDeviceModels) {
    this.iommuModels = new Map(builtinModels().iommuCompatibles);
    for (const m of models) this.add(m);
  }

  add(model: DeviceModel): void {
    for (const c of model.compatibles ?? []) this.byCompatible.set(c, model);
    for (const id of model.pciIds ?? []) this.byPciId.set(id.toLowerCase(), model);
  }

  findByCompatible(compatible: string): DeviceModel | undefined {
    return this.byCompatible.get(compatible);
  }

  findByPciId(id: string): DeviceModel | undefined {
    return this.byPciId.get(id.toLowerCase());
  }

  /** Every distinct model, in registration order. */
  get models(): DeviceModel[] {
    return [...new Set([...this.byCompatible.values(), ...this.byPciId.values()])];
  }

  /** What board validation accepts. */
  catalogue(): ModelCatalogue {
    const describe = (m: DeviceModel): string => `${m.name} model${m.workloads.length > 0 ? `; workloads: ${m.workloads.join(', ')}` : ''}`;
    return {
      deviceCompatibles: new Map([...this.byCompatible].map(([c, m]) => [c, m.workloads])),
      pciIds: new Map([...this.byPciId].map(([id, m]) => [id, m.workloads])),
      iommuCompatibles: this.iommuModels,
      descriptions: new Map([
        ...[...this.byCompatible, ...this.byPciId].map(([k, m]): [string, string] => [k, describe(m)]),
        ...[...this.iommuModels].map(([c, l]): [string, string] => [c, l.description ?? `IOMMU model ${c}`]),
      ]),
    };
  }
}

/** Imports the plugin modules a board lists (paths relative to the board file). */
export async function loadPlugins(registry: PluginRegistry, paths: readonly string[], boardFile: string): Promise<void> {
  for (const [i, p] of paths.entries()) {
    const file = isAbsolute(p) ? p : resolve(dirname(boardFile), p);
    let mod: { deviceModels?: unknown };
    try {
      mod = (await import(pathToFileURL(file).href)) as { deviceModels?: unknown };
    } catch (e) {
      throw new BoardError([{ file: boardFile, path: `plugins[${i}]`, message: `cannot load plugin module: ${(e as Error).message}`, found: JSON.stringify(p) }]);
    }
    if (!Array.isArray(mod.deviceModels)) {
      throw new BoardError([{ file: boardFile, path: `plugins[${i}]`, message: 'expected a module exporting deviceModels: DeviceModel[]', found: JSON.stringify(p) }]);
    }
    for (const m of mod.deviceModels as DeviceModel[]) registry.add(m);
  }
}
