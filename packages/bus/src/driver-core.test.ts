import { EIO, ENODEV, EPROBE_DEFER } from '@dmasim/core';
import { describe, expect, it } from 'vitest';
import { BUS_NOTIFY_ADD_DEVICE, busNotifyName } from './bus-type';
import type { Device } from './device';
import { NOTIFY_DONE } from './notifier';
import { makeBus, platformDev, platformDrv } from './test-helpers';

function recordNotifications(b: ReturnType<typeof makeBus>): string[] {
  const seen: string[] = [];
  b.platform.registerNotifier({ name: 'recorder', call: (a, d) => (seen.push(`${busNotifyName(a).slice(11)} ${d.name}`), NOTIFY_DONE) });
  return seen;
}

describe('driver core: add and probe', () => {
  it('announces ADD_DEVICE before probing, then BIND_DRIVER and BOUND_DRIVER around the probe', () => {
    const b = makeBus();
    const seen = recordNotifications(b);
    b.core.dmaConfigure.add('of_dma_configure', (dev) => (seen.push(`dma_configure ${dev.name}`), 0));
    b.core.driverRegister(platformDrv(b, 'ahci', 'calxeda,hb-ahci', (dev) => (seen.push(`probe ${dev.name}`), 0)));
    const sata = platformDev(b, 'sata', 'calxeda,hb-ahci');
    expect(b.core.deviceAdd(sata)).toBe(0);
    expect(seen).toEqual(['ADD_DEVICE sata', 'dma_configure sata', 'BIND_DRIVER sata', 'probe sata', 'BOUND_DRIVER sata']);
    expect(sata.state).toBe('bound');
    expect(sata.driverName).toBe('ahci');
  });

  it('runs the IOMMU core notifier (priority 0) before the arm64 attach notifier (priority -100) on ADD_DEVICE', () => {
    const b = makeBus();
    const order: string[] = [];
    // registered in the "wrong" order on purpose: priority, not registration, decides
    b.platform.registerNotifier({ name: '__iommu_attach_notifier', priority: -100, call: (a, d) => (a === BUS_NOTIFY_ADD_DEVICE && order.push(`attach ${d.name}`), NOTIFY_DONE) });
    b.platform.registerNotifier({ name: 'iommu_bus_notifier', call: (a, d) => (a === BUS_NOTIFY_ADD_DEVICE && order.push(`add_device ${d.name}`), NOTIFY_DONE) });
    const events: string[] = [];
    b.core.on('notifierCalled', (e) => events.push(`${e.callback}@${e.priority}:${e.actionName}`));
    b.core.deviceAdd(platformDev(b, 'xgmac0', 'calxeda,hb-xgmac'));
    expect(order).toEqual(['add_device xgmac0', 'attach xgmac0']);
    expect(events).toEqual(['iommu_bus_notifier@0:BUS_NOTIFY_ADD_DEVICE', '__iommu_attach_notifier@-100:BUS_NOTIFY_ADD_DEVICE']);
  });

  it('does not replay devices to a notifier registered late; the explicit helper does', () => {
    const b = makeBus();
    b.core.deviceAdd(platformDev(b, 'early0', 'x'));
    b.core.deviceAdd(platformDev(b, 'early1', 'x'));
    const seen: string[] = [];
    const nb = { name: 'late', call: (_a: number, d: Device) => (seen.push(d.name), NOTIFY_DONE) };
    b.platform.registerNotifier(nb);
    expect(seen).toEqual([]);
    b.core.deviceAdd(platformDev(b, 'after', 'x'));
    expect(seen).toEqual(['after']);
    expect(b.core.replayAddDevice(b.platform, nb)).toBe(3);
    expect(seen).toEqual(['after', 'early0', 'early1', 'after']);
  });

  it('driver registration tries every unbound device on its bus, in add order', () => {
    const b = makeBus();
    const devs = ['a', 'b', 'c'].map((n) => platformDev(b, n, n === 'b' ? 'other' : 'vendor,thing'));
    for (const d of devs) b.core.deviceAdd(d);
    expect(devs.map((d) => d.state)).toEqual(['no-driver', 'no-driver', 'no-driver']);
    const probed: string[] = [];
    b.core.driverRegister(platformDrv(b, 'thing', 'vendor,thing', (d) => (probed.push(d.name), 0)));
    expect(probed).toEqual(['a', 'c']);
    expect(devs.map((d) => d.state)).toEqual(['bound', 'no-driver', 'bound']);
  });

  it('logs a failed probe with the kernel text, sends DRIVER_NOT_BOUND and tears DMA down', () => {
    const b = makeBus();
    const seen = recordNotifications(b);
    const torn: string[] = [];
    b.core.dmaDeconfigure.add('arch_teardown_dma_ops', (d) => torn.push(d.name));
    b.core.driverRegister(platformDrv(b, 'broken', 'x,broken', () => -EIO));
    const dev = platformDev(b, 'dev0', 'x,broken');
    b.core.deviceAdd(dev);
    expect(b.log.format()).toContain('[    0.000000] broken dev0: probe with driver broken failed with error -5');
    expect(seen).toEqual(['ADD_DEVICE dev0', 'BIND_DRIVER dev0', 'DRIVER_NOT_BOUND dev0']);
    expect(torn).toEqual(['dev0']);
    expect(dev.state).toBe('failed');
    expect(dev.driver).toBeNull();
    expect(dev.probeError).toBe(-EIO);
  });

  it('a driver rejecting the match (-ENODEV) lets the next matching driver bind, quietly', () => {
    const b = makeBus();
    b.core.driverRegister(platformDrv(b, 'picky', 'x,dev', () => -ENODEV));
    b.core.driverRegister(platformDrv(b, 'generic', 'x,dev'));
    const dev = platformDev(b, 'd', 'x,dev');
    b.core.deviceAdd(dev);
    expect(dev.driverName).toBe('generic');
    expect(b.log.lines.filter((l) => l.level === 'err')).toEqual([]);
  });

  it('a DMA-configure failure stops before BIND_DRIVER and does not run the driver probe', () => {
    const b = makeBus();
    const seen = recordNotifications(b);
    let probed = false;
    b.core.dmaConfigure.add('of_dma_configure', () => -ENODEV);
    b.core.driverRegister(platformDrv(b, 'drv', 'x,y', () => ((probed = true), 0)));
    const dev = platformDev(b, 'd', 'x,y');
    b.core.deviceAdd(dev);
    expect(probed).toBe(false);
    expect(seen).toEqual(['ADD_DEVICE d']);
    expect(dev.state).toBe('failed');
  });

  it('unbinds and removes with UNBIND/UNBOUND between DEL and REMOVED, calling remove and teardown hooks', () => {
    const b = makeBus();
    const seen = recordNotifications(b);
    b.core.dmaCleanup.add('iommu_device_unuse_default_domain', (d) => seen.push(`dma_cleanup ${d.name}`));
    b.core.dmaDeconfigure.add('arch_teardown_dma_ops', (d) => seen.push(`teardown ${d.name}`));
    b.core.driverRegister(platformDrv(b, 'drv', 'x,y', () => 0, { remove: (d) => seen.push(`remove ${d.name}`) }));
    const dev = platformDev(b, 'd', 'x,y');
    b.core.deviceAdd(dev);
    seen.length = 0;
    b.core.deviceDel(dev);
    expect(seen).toEqual(['DEL_DEVICE d', 'UNBIND_DRIVER d', 'remove d', 'dma_cleanup d', 'teardown d', 'UNBOUND_DRIVER d', 'REMOVED_DEVICE d']);
    expect(dev.state).toBe('removed');
    expect(b.platform.devices.has(dev)).toBe(false);
    // the name is free again
    expect(b.core.deviceAdd(platformDev(b, 'd', 'x,y'))).toBe(0);
  });

  it('driver unregistration unbinds its devices, last bound first', () => {
    const b = makeBus();
    const removed: string[] = [];
    const drv = platformDrv(b, 'drv', 'x,y', () => 0, { remove: (d) => removed.push(d.name) });
    b.core.driverRegister(drv);
    for (const n of ['d0', 'd1', 'd2']) b.core.deviceAdd(platformDev(b, n, 'x,y'));
    b.core.driverUnregister(drv);
    expect(removed).toEqual(['d2', 'd1', 'd0']);
    expect(b.core.devices.get('d0')?.driver).toBeNull();
  });

  it('refuses a duplicate device name and a duplicate driver with the kernel messages', () => {
    const b = makeBus();
    expect(b.core.deviceAdd(platformDev(b, 'dup', 'x'))).toBe(0);
    expect(b.core.deviceAdd(platformDev(b, 'dup', 'x'))).toBeLessThan(0);
    b.core.driverRegister(platformDrv(b, 'drv', 'x'));
    expect(b.core.driverRegister(platformDrv(b, 'drv', 'x'))).toBeLessThan(0);
    const text = b.log.format().join('\n');
    expect(text).toContain("sysfs: cannot create duplicate filename '/devices/dup'");
    expect(text).toContain("Error: Driver 'drv' is already registered, aborting...");
  });

  it('probes asynchronously when the driver prefers it: nothing runs until the scheduler does', () => {
    const b = makeBus();
    const probed: string[] = [];
    b.core.driverRegister(platformDrv(b, 'slow', 'x,slow', (d) => (probed.push(d.name), 0), { probeType: 'prefer-async' }));
    const d = platformDev(b, 'd', 'x,slow');
    b.core.deviceAdd(d);
    expect(probed).toEqual([]);
    expect(d.state).toBe('probing');
    b.sched.runUntilIdle();
    expect(probed).toEqual(['d']);
    expect(d.state).toBe('bound');
  });

  it('async on driver registration too, and waitForDeviceProbe flushes it', () => {
    const b = makeBus({ asyncProbe: true });
    const probed: string[] = [];
    b.core.deviceAdd(platformDev(b, 'd0', 'x,a'));
    b.core.deviceAdd(platformDev(b, 'd1', 'x,a'));
    b.core.driverRegister(platformDrv(b, 'a', 'x,a', (d) => (probed.push(d.name), 0)));
    expect(probed).toEqual([]);
    b.core.waitForDeviceProbe();
    expect(probed).toEqual(['d0', 'd1']);
  });

  it('emits observational events for added, registered, started, bound and failed', () => {
    const b = makeBus();
    const ev: string[] = [];
    b.core.on('deviceAdded', (e) => ev.push(`added ${e.device.name}`));
    b.core.on('driverRegistered', (e) => ev.push(`registered ${e.driver}`));
    b.core.on('probeStarted', (e) => ev.push(`start ${e.device.name}`));
    b.core.on('bound', (e) => ev.push(`bound ${e.device.name}`));
    b.core.on('probeFailed', (e) => ev.push(`failed ${e.device.name} ${e.error}`));
    b.core.driverRegister(platformDrv(b, 'ok', 'x,ok'));
    b.core.driverRegister(platformDrv(b, 'bad', 'x,bad', () => -EIO));
    b.core.deviceAdd(platformDev(b, 'g', 'x,ok'));
    b.core.deviceAdd(platformDev(b, 'h', 'x,bad'));
    expect(ev).toEqual(['registered ok', 'registered bad', 'added g', 'start g', 'bound g', 'added h', 'start h', `failed h ${-EIO}`]);
  });

  it('a device deferred by its driver probe is reported with the driver and reason', () => {
    const b = makeBus();
    const ev: unknown[] = [];
    b.core.on('deferred', (e) => ev.push({ dev: e.device.name, drv: e.driver, source: e.source, reason: e.reason }));
    b.core.driverRegister(platformDrv(b, 'c', 'x,c', (d) => b.core.devErrProbe(d, -EPROBE_DEFER, 'supplier not ready')));
    b.core.deviceAdd(platformDev(b, 'cons', 'x,c'));
    expect(ev).toEqual([{ dev: 'cons', drv: 'c', source: 'probe', reason: 'supplier not ready' }]);
  });

  it('the 2015 path configures DMA at creation, before the device is on its bus or seen by a notifier', () => {
    const b = makeBus();
    const seen = recordNotifications(b);
    b.core.deviceCreate.add('of_dma_configure', (d) => seen.push(`configure ${d.name} on-bus=${b.platform.devices.has(d)}`));
    b.core.deviceCreateUndo.add('of_dma_deconfigure', (d) => seen.push(`deconfigure ${d.name}`));
    expect(b.core.createAndAddDevice(platformDev(b, 'sata', 'x'))).toBe(0);
    expect(b.core.createAndAddDevice(platformDev(b, 'sata', 'x'))).toBeLessThan(0);
    expect(seen).toEqual(['configure sata on-bus=false', 'ADD_DEVICE sata', 'configure sata on-bus=false', 'deconfigure sata']);
  });
});
