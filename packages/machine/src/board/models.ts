/**
 * What a board may name: device models by DT compatible or PCI vendor:device, and IOMMU models with
 * the limits their hardware can have. The plugin registry extends this catalogue; validation uses it.
 */
export interface IommuModelLimits {
  readonly maxContextBanks: number;
  readonly maxStreamMatchRegisters: number;
  /** What an editor shows beside the compatible. */
  readonly description?: string;
}

export interface ModelCatalogue {
  /** compatible → workload kinds that device model can run. */
  readonly deviceCompatibles: ReadonlyMap<string, readonly string[]>;
  /** "vvvv:dddd" (lower-case hex) → workload kinds. */
  readonly pciIds: ReadonlyMap<string, readonly string[]>;
  readonly iommuCompatibles: ReadonlyMap<string, IommuModelLimits>;
  /** compatible or PCI id → one line saying which model serves it (for the JSON Schema). */
  readonly descriptions?: ReadonlyMap<string, string>;
}

export function pciIdKey(vendor: number, device: number): string {
  return `${vendor.toString(16).padStart(4, '0')}:${device.toString(16).padStart(4, '0')}`;
}

/**
 * The models dmasim ships. Context-bank and stream-match limits: the SMMUv1/v2 ID registers encode up
 * to 128 of each (NUMCB, NUMSMRG are 8-bit fields capped at 128 by the architecture); the MMU-400 and
 * MMU-401 are small stage-2 designs offered with up to 8 banks.
 */
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
    iommuCompatibles: new Map([
      ['arm,mmu-400', { maxContextBanks: 8, maxStreamMatchRegisters: 128, description: 'ARM CoreLink MMU-400 (SMMUv1, arm-smmu driver), up to 8 context banks' }],
      ['arm,mmu-401', { maxContextBanks: 8, maxStreamMatchRegisters: 128, description: 'ARM CoreLink MMU-401 (SMMUv1, arm-smmu driver), up to 8 context banks' }],
      ['arm,mmu-500', { maxContextBanks: 128, maxStreamMatchRegisters: 128, description: 'ARM CoreLink MMU-500 (SMMUv2, arm-smmu driver), up to 128 context banks' }],
      ['arm,smmu-v1', { maxContextBanks: 128, maxStreamMatchRegisters: 128, description: 'generic ARM SMMUv1 (arm-smmu driver)' }],
      ['arm,smmu-v2', { maxContextBanks: 128, maxStreamMatchRegisters: 128, description: 'generic ARM SMMUv2 (arm-smmu driver)' }],
    ]),
  };
}
