import { describe, expect, it } from 'vitest';
import { container } from 'tsyringe';
import { FwNode, register as registerBus, resolveBus } from '@dmasim/bus';
import { register as registerCore, MiB } from '@dmasim/core';
import { register as registerIommu } from '@dmasim/iommu-core';
import { SmmuHardware } from './hw/smmu';
import { register, SmmuTokens } from './register';

describe('register(container)', () => {
  it('provides the driver under SmmuTokens and queues the platform driver at the device initcall level', () => {
    const c = container.createChildContainer();
    const core = registerCore(c, { memory: [{ base: 0, size: 64 * MiB }] });
    registerBus(c);
    registerIommu(c);
    const driver = register(c, { disableBypass: false });
    expect(c.resolve(SmmuTokens.ArmSmmuDriver)).toBe(driver);
    const hw = new SmmuHardware({ model: 'mmu-401', memory: core.memory, globalIrqs: [core.irqs.line(40)], contextIrqs: [core.irqs.line(40)] });
    hw.mapInto(core.mmio, 0x2b500000);
    const bus = resolveBus(c);
    const dev = bus.platform.createDevice(new FwNode('smmu0', { compatible: ['arm,mmu-401'], reg: [0x2b500000, hw.size], interrupts: [40, 40], '#global-interrupts': 1 }));
    bus.core.deviceAdd(dev);
    expect(driver.instances).toHaveLength(0); // no driver yet
    core.sched.runInitcalls();
    expect(driver.instances).toHaveLength(1);
    expect(dev.state).toBe('bound');
    void c.dispose();
  });
});
