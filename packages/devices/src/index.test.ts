import { describe, expect, it } from 'vitest';
import { deviceModels, findDeviceModel } from './index';

describe('deviceModels plugin table', () => {
  it('serves every model name of the board contract', () => {
    for (const c of ['calxeda,hb-ahci', 'calxeda,hb-xgmac', 'brcm,bcm2711-hvs', 'brcm,2711-v3d', 'generic-ehci', 'generic-ohci']) expect(findDeviceModel({ compatible: c })).toBeDefined();
    for (const p of ['1b36:0010', '11ab:4380', '1b36:0005']) expect(findDeviceModel({ pciId: p })).toBeDefined();
    expect(findDeviceModel({ compatible: 'arm,mmu-401' })).toBeUndefined();
  });

  it('names each workload kind once per model and only models that run workloads list them', () => {
    const kinds = deviceModels.flatMap((m) => m.workloads);
    expect(new Set(kinds)).toEqual(new Set(['disk-io', 'net-loopback', 'display-import', 'nvme-io', 'dma-selftest']));
    for (const m of deviceModels) if (m.workloads.length > 0) expect(typeof m.runWorkload).toBe('function');
  });
});
