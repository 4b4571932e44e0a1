import { DEFAULT_MMIO_WINDOW, deviceModels, type DeviceModel } from '@dmasim/devices';
import type { IommuBoardEntry, IommuModel } from '@dmasim/iommu-core';
import { BUILTIN_IOMMU_MODELS } from '../machine/builtin-plugins';
import { IOMMU_COMMON_KEYS, type BoardIommu } from './schema';

/**
 * What a board may name: device models by DT compatible or PCI vendor:device, and IOMMU models
 * (which check their own keys of an `iommus[]` entry). The plugin registry extends this catalogue;
 * validation uses it.
 */
export type IommuModelCheck = Pick<IommuModel, 'name' | 'iommuCells' | 'boardKeys' | 'checkBoardKeys' | 'boardWarnings' | 'devicetreeKeys'>;

export interface ModelCatalogue {
  /** compatible → workload kinds that device model can run. */
  readonly deviceCompatibles: ReadonlyMap<string, readonly string[]>;
  /** "vvvv:dddd" (lower-case hex) → workload kinds. */
  readonly pciIds: ReadonlyMap<string, readonly string[]>;
  readonly iommuCompatibles: ReadonlyMap<string, IommuModelCheck>;
  /** compatible or PCI id → one line saying which model serves it (for the JSON Schema). */
  readonly descriptions?: ReadonlyMap<string, string>;
  /** compatible or "vvvv:dddd" → bytes of the model's register window (absent: 4 KiB). */
  readonly mmioSizes?: ReadonlyMap<string, number>;
}

/** The register window each model declares, by compatible and PCI id. */
export function mmioSizesOf(models: readonly DeviceModel[]): Map<string, number> {
  const out = new Map<string, number>();
  for (const m of models) for (const key of [...(m.compatibles ?? []), ...(m.pciIds ?? []).map((id) => id.toLowerCase())]) out.set(key, m.mmioSize ?? DEFAULT_MMIO_WINDOW);
  return out;
}

export function pciIdKey(vendor: number, device: number): string {
  return `${vendor.toString(16).padStart(4, '0')}:${device.toString(16).padStart(4, '0')}`;
}

/** An `iommus[]` entry of a parsed board as its model sees it: the common keys, and its own keys apart. */
export function iommuBoardEntry(m: BoardIommu): IommuBoardEntry {
  const keys: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(m)) if (!IOMMU_COMMON_KEYS.includes(k)) keys[k] = v;
  return {
    name: m.name,
    compatible: m.compatible,
    base: m.base,
    size: m.size,
    ...(m.irq !== undefined ? { irq: m.irq } : {}),
    masters: (m.masters ?? []).map((ms) => ({ device: ms.device, ids: ms.streamIds })),
    keys,
  };
}

/** The models dmasim ships. */
export function builtinModels(): ModelCatalogue {
  return {
    deviceCompatibles: new Map([
      ['calxeda,hb-ahci', ['disk-io']],
      ['calxeda,hb-xgmac', ['net-loopback']],
      ['brcm,bcm2711-hvs', ['display-import']],
      ['brcm,2711-v3d', ['display-import']],
      ['generic-ehci', ['dma-selftest']],
      ['generic-ohci', ['dma-selftest']],
    ]),
    pciIds: new Map([
      ['1b36:0010', ['nvme-io']],
      ['11ab:4380', ['net-loopback']],
      ['1b36:0005', ['dma-selftest']],
    ]),
    iommuCompatibles: new Map(BUILTIN_IOMMU_MODELS.flatMap((m) => m.compatibles.map((c) => [c, m] as const))),
    mmioSizes: mmioSizesOf(deviceModels),
  };
}
