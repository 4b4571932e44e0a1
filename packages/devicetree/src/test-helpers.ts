import { existsSync, readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { parseFdt } from './fdt';
import type { DtTree } from './tree';
import { MODELLED_PCI_HOSTS, type DtModels } from './board';

/** The package's own fixture trees (compiled .dtb committed beside the .dts). */
export function fixture(name: string): DtTree {
  const file = resolve(import.meta.dirname, 'fixtures', `${name}.dtb`);
  return parseFdt(new Uint8Array(readFileSync(file)), `${name}.dtb`);
}

export function fixtureBytes(name: string): Uint8Array {
  return new Uint8Array(readFileSync(resolve(import.meta.dirname, 'fixtures', `${name}.dtb`)));
}

export function fixtureSource(name: string): string {
  return readFileSync(resolve(import.meta.dirname, 'fixtures', `${name}.dts`), 'utf8');
}

/** `<repo>/../shared/dt` (or `$DMASIM_SHARED/dt`), when this checkout has the shared folder beside it. */
export const SHARED_DT = resolve(process.env.DMASIM_SHARED ?? resolve(import.meta.dirname, '../../../../shared'), 'dt');
export const hasSharedDt = existsSync(SHARED_DT);

/** The models dmasim ships, as the machine describes them (kept small: tests of this package only). */
export const TEST_MODELS: DtModels = {
  device: (c) => ['calxeda,hb-ahci', 'calxeda,hb-xgmac', 'brcm,bcm2711-hvs', 'brcm,2711-v3d', 'generic-ehci', 'generic-ohci'].includes(c),
  iommu: (c) =>
    ['arm,mmu-400', 'arm,mmu-401', 'arm,mmu-500', 'arm,smmu-v1', 'arm,smmu-v2'].includes(c)
      ? { iommuCells: 1, keys: (n) => ({ contextBanks: 8, streamMatchRegisters: 16, coherentWalk: n.dmaCoherent }) }
      : undefined,
  pciHost: (c) => MODELLED_PCI_HOSTS.includes(c),
};
