import { CoreTokens, EPROBE_DEFER, createMachineContainer, register as registerCore, type Decision, type SchedulerOptions } from '@dmasim/core';
import { describe, expect, it } from 'vitest';
import { BusTokens, register } from './di';
import { DEFERRED_PROBE_POINT } from './deferred';
import { makeBus, platformDev, platformDrv } from './test-helpers';

/**
 * A small boot: 6 independent devices each with its own driver, and 5 consumers waiting on one
 * supplier. Returns the order devices bound in and the decisions the scheduler made.
 */
function boot(sched: SchedulerOptions): { bound: string[]; decisions: readonly Decision[] } {
  const b = makeBus({}, sched);
  const devs = [];
  for (let i = 0; i < 6; i++) {
    b.core.driverRegisterAt('device', platformDrv(b, `drv${i}`, `x,dev${i}`));
    devs.push(platformDev(b, `dev${i}`, `x,dev${i}`));
  }
  b.core.driverRegisterAt('device', platformDrv(b, 'consumer', 'x,consumer', (d) =>
    b.core.devices.get('supplier')?.state === 'bound' ? 0 : b.core.devErrProbe(d, -EPROBE_DEFER, 'wait for supplier')));
  b.core.driverRegisterAt('late', platformDrv(b, 'supplier', 'x,supplier'));
  for (let i = 0; i < 5; i++) devs.push(platformDev(b, `cons${i}`, 'x,consumer'));
  devs.push(platformDev(b, 'supplier', 'x,supplier'));
  b.core.addDevicesAt('arch', 'of_platform_default_populate_init', devs);
  const bound: string[] = [];
  b.core.on('bound', (e) => bound.push(e.device.name));
  b.sched.runInitcalls();
  return { bound, decisions: b.sched.decisions };
}

describe('ordering through the scheduler', () => {
  it('the same seed gives the same order', () => {
    const a = boot({ policy: { kind: 'shuffle', seed: 42 } });
    const c = boot({ policy: { kind: 'shuffle', seed: 42 } });
    expect(a.bound).toEqual(c.bound);
    expect(a.bound).toHaveLength(12);
  });

  it('different seeds give different orders of independent items', () => {
    const orders = new Set<string>();
    for (let seed = 1; seed <= 6; seed++) orders.add(boot({ policy: { kind: 'shuffle', seed } }).bound.join(','));
    expect(orders.size).toBeGreaterThan(1);
    // the deferred consumers are retried in a seed-dependent order too
    const retries = new Set<string>();
    for (let seed = 1; seed <= 6; seed++) {
      const d = boot({ policy: { kind: 'shuffle', seed } }).decisions.find((x) => x.point === DEFERRED_PROBE_POINT && x.candidates.length === 5);
      retries.add(d?.chosen.join(',') ?? 'none');
    }
    expect(retries.has('none')).toBe(false);
    expect(retries.size).toBeGreaterThan(1);
  });

  it('natural order is the registration and population order', () => {
    const { bound } = boot({});
    expect(bound).toEqual(['dev0', 'dev1', 'dev2', 'dev3', 'dev4', 'dev5', 'supplier', 'cons0', 'cons1', 'cons2', 'cons3', 'cons4']);
  });

  it('an explicit order controls which device is added and which driver registers first', () => {
    const { bound, decisions } = boot({ policy: { kind: 'explicit', order: ['dev5', 'dev4', 'drv4', 'drv2'] } });
    expect(decisions.find((d) => d.point === 'device-add')?.chosen.slice(0, 3)).toEqual(['dev5', 'dev4', 'dev0']);
    // devices are added at arch level, before drivers exist: the driver order decides the bind order
    expect(bound.slice(0, 3)).toEqual(['dev4', 'dev2', 'dev0']);
  });

  it('replaying the recorded decisions reproduces the order exactly', () => {
    const first = boot({ policy: { kind: 'shuffle', seed: 9 } });
    const again = boot({ replay: first.decisions });
    expect(again.bound).toEqual(first.bound);
    expect(again.decisions).toEqual(first.decisions);
  });
});

describe('dependency injection', () => {
  it('registers the driver core and buses in a machine container, separate per machine', async () => {
    const c1 = createMachineContainer();
    const c2 = createMachineContainer();
    for (const c of [c1, c2]) {
      registerCore(c, { memory: [{ base: 0, size: 0x100000 }] });
      register(c);
    }
    const core1 = c1.resolve(BusTokens.DriverCore);
    expect(core1.log).toBe(c1.resolve(CoreTokens.KernelLog));
    expect(core1).not.toBe(c2.resolve(BusTokens.DriverCore));
    expect(core1.bus('platform')).toBe(c1.resolve(BusTokens.PlatformBus));
    expect([...core1.buses.keys()]).toEqual(['platform', 'amba', 'pci']);
    await c1.dispose();
    await c2.dispose();
  });
});
