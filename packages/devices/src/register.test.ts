import 'reflect-metadata';
import { container } from 'tsyringe';
import { describe, expect, it } from 'vitest';
import { DevicesTokens, deviceModels, register } from './index';
import type { DeviceModel } from './model';

describe('devices register', () => {
  it('registers the built-in models and extra ones in a machine container, not the root one', () => {
    const a = container.createChildContainer();
    const b = container.createChildContainer();
    const extra: DeviceModel = { name: 'x', compatibles: ['acme,x'], workloads: [], createHardware: (ctx) => ({ name: ctx.name, mmioSize: 0x1000, destroy: () => undefined }), drivers: () => [] };
    register(a, { extra: [extra] });
    register(b);
    expect(a.resolve(DevicesTokens.DeviceModels)).toHaveLength(deviceModels.length + 1);
    expect(b.resolve(DevicesTokens.DeviceModels)).toHaveLength(deviceModels.length);
    expect(container.isRegistered(DevicesTokens.DeviceModels)).toBe(false);
  });
});
