import { ENODEV, EPROBE_DEFER, ETIMEDOUT } from '@dmasim/core';
import { describe, expect, it } from 'vitest';
import type { Device } from './device';
import { makeBus, platformDev, platformDrv } from './test-helpers';

/** A consumer driver that defers until the supplier device is bound, as a driver waiting on a resource would. */
function consumerDriver(b: ReturnType<typeof makeBus>, supplierName: string, compatible = 'x,consumer') {
  return platformDrv(b, `consumer-${compatible}`, compatible, (dev) => {
    const s = b.core.devices.get(supplierName);
    if (s?.state !== 'bound') return b.core.devErrProbe(dev, -EPROBE_DEFER, `wait for supplier ${supplierName}`);
    return 0;
  });
}

describe('deferred probe', () => {
  it('consumer before supplier: deferred, then bound once the supplier binds (after the late initcall)', () => {
    const b = makeBus();
    const cons = platformDev(b, 'cons', 'x,consumer');
    const sup = platformDev(b, 'sup', 'x,supplier');
    b.core.driverRegisterAt('device', consumerDriver(b, 'sup'));
    b.core.driverRegisterAt('device', platformDrv(b, 'supplier', 'x,supplier'));
    b.core.addDevicesAt('arch', 'of_platform_default_populate_init', [cons, sup]);
    const bound: string[] = [];
    b.core.on('bound', (e) => bound.push(e.device.name));
    b.sched.runInitcalls();
    expect(cons.state).toBe('bound');
    expect(bound).toEqual(['sup', 'cons']);
    expect(b.core.deferred.pending.size + b.core.deferred.active.size).toBe(0);
  });

  it('before the late initcall a bind does not retry deferred devices (the kernel waits for the bulk of probes)', () => {
    const b = makeBus({ queueLateInitcall: false });
    b.core.driverRegister(consumerDriver(b, 'sup'));
    b.core.driverRegister(platformDrv(b, 'supplier', 'x,supplier'));
    const cons = platformDev(b, 'cons', 'x,consumer');
    b.core.deviceAdd(cons);
    b.core.deviceAdd(platformDev(b, 'sup', 'x,supplier'));
    b.sched.runUntilIdle();
    expect(cons.state).toBe('deferred');
    b.core.deferredProbeInitcall();
    expect(cons.state).toBe('bound');
  });

  it('once enabled, a successful bind queues a retry that runs as scheduled work', () => {
    const b = makeBus({ queueLateInitcall: false });
    b.core.deferredProbeInitcall();
    b.core.driverRegister(consumerDriver(b, 'sup'));
    b.core.driverRegister(platformDrv(b, 'supplier', 'x,supplier'));
    const cons = platformDev(b, 'cons', 'x,consumer');
    b.core.deviceAdd(cons);
    b.core.deviceAdd(platformDev(b, 'sup', 'x,supplier'));
    expect(cons.state).toBe('deferred');
    expect(b.core.deferred.workPending).toBe(true);
    b.sched.runUntilIdle();
    expect(cons.state).toBe('bound');
  });

  it('a supplier that never appears: the timeout says why, and the device fails', () => {
    const b = makeBus({ deferredProbe: { timeoutSec: 10 } });
    const cons = platformDev(b, 'cons', 'x,consumer');
    b.core.driverRegisterAt('device', consumerDriver(b, 'ghost'));
    b.core.addDevicesAt('arch', 'populate', [cons]);
    const timedOut: string[] = [];
    b.core.on('deferredTimeout', (e) => timedOut.push(`${e.device.name}: ${e.reason}`));
    b.sched.runInitcalls();
    expect(cons.state).toBe('failed');
    expect(cons.probeError).toBe(-ETIMEDOUT);
    expect(timedOut).toEqual(['cons: wait for supplier ghost']);
    const line = b.log.format().find((l) => l.includes('deferred probe pending'));
    // the timeout fires 10 simulated seconds after the late initcall
    expect(line).toMatch(/^\[ {3}10\.0000\d\d\] platform cons: deferred probe pending: wait for supplier ghost$/);
    expect(b.core.deferred.listing()).toEqual(['cons\twait for supplier ghost']);
  });

  it('a deferral without a reason is reported as "(reason unknown)"; no timeout when it is 0', () => {
    const b = makeBus({ deferredProbe: { timeoutSec: 5 } });
    b.core.driverRegisterAt('device', platformDrv(b, 'mute', 'x,mute', () => -EPROBE_DEFER));
    b.core.addDevicesAt('arch', 'populate', [platformDev(b, 'm', 'x,mute')]);
    b.sched.runInitcalls();
    expect(b.log.format().filter((l) => / {4}5\.0000\d\d\] platform m: deferred probe pending: \(reason unknown\)$/.test(l))).toHaveLength(1);

    const quiet = makeBus({ deferredProbe: { timeoutSec: 0 } });
    quiet.core.driverRegisterAt('device', platformDrv(quiet, 'mute', 'x,mute', () => -EPROBE_DEFER));
    quiet.core.addDevicesAt('arch', 'populate', [platformDev(quiet, 'm', 'x,mute')]);
    quiet.sched.runInitcalls();
    expect(quiet.log.format().some((l) => l.includes('deferred probe pending'))).toBe(false);
    expect(quiet.core.devices.get('m')?.state).toBe('deferred');
  });

  it('a DMA-configure hook returning -EPROBE_DEFER defers the probe until its IOMMU is bound (the 6.x way)', () => {
    const b = makeBus();
    const seen: string[] = [];
    b.core.dmaConfigure.add('of_iommu_configure', (dev: Device) => {
      if (dev.fwnode.get('iommus') === undefined) return 0;
      return b.core.devices.get('smmu')?.state === 'bound' ? 0 : -EPROBE_DEFER;
    });
    const master = platformDev(b, 'sata', 'calxeda,hb-ahci');
    master.fwnode.set('iommus', [{ node: 'smmu', args: [0] }]);
    const smmu = platformDev(b, 'smmu', 'arm,mmu-401');
    b.core.on('deferred', (e) => seen.push(`${e.device.name}:${e.source}`));
    b.core.driverRegisterAt('device', platformDrv(b, 'ahci', 'calxeda,hb-ahci', () => (seen.push('ahci probe'), 0)));
    b.core.driverRegisterAt('device', platformDrv(b, 'arm-smmu', 'arm,mmu-401'));
    b.core.addDevicesAt('arch', 'populate', [master, smmu]);
    b.sched.runInitcalls();
    expect(seen[0]).toBe('sata:dma-configure');
    expect(seen.at(-1)).toBe('ahci probe');
    expect(master.state).toBe('bound');
  });

  it('retriggers when a bind happened during a probe that then deferred', () => {
    const b = makeBus({ queueLateInitcall: false });
    b.core.deferredProbeInitcall();
    let attempts = 0;
    // the probe registers a child that binds, then defers: without the retrigger it would wait forever
    b.core.driverRegister(platformDrv(b, 'child', 'x,child'));
    b.core.driverRegister(platformDrv(b, 'parent', 'x,parent', (dev) => {
      attempts++;
      if (attempts === 1) {
        b.core.deviceAdd(platformDev(b, 'kid', 'x,child', dev));
        return -EPROBE_DEFER;
      }
      return 0;
    }));
    const p = platformDev(b, 'p', 'x,parent');
    b.core.deviceAdd(p);
    expect(p.state).toBe('deferred');
    b.sched.runUntilIdle();
    expect(attempts).toBe(2);
    expect(p.state).toBe('bound');
  });

  it('check_state: keep deferring before initcalls end, then -ENODEV without modules or -ETIMEDOUT after the timeout', () => {
    const builtin = makeBus({ queueLateInitcall: false, deferredProbe: { modules: false, timeoutSec: 0 } });
    const d = platformDev(builtin, 'd', 'x');
    expect(builtin.core.deferredProbeCheckState(d)).toBe(-EPROBE_DEFER);
    builtin.core.deferredProbeInitcall();
    expect(builtin.core.deferredProbeCheckState(d)).toBe(-ENODEV);
    expect(builtin.log.format().join('\n')).toContain('ignoring dependency for device, assuming no driver');

    const modular = makeBus({ queueLateInitcall: false, deferredProbe: { timeoutSec: 10 } });
    modular.core.deferredProbeInitcall();
    expect(modular.core.deferredProbeCheckState(d)).toBe(-EPROBE_DEFER);
    modular.sched.runUntilIdle();
    expect(modular.core.deferredProbeCheckState(d)).toBe(-ETIMEDOUT);
    expect(modular.log.format().join('\n')).toContain('deferred probe timeout, ignoring dependency');
  });

  it('a device removed while waiting leaves the deferred list', () => {
    const b = makeBus({ queueLateInitcall: false });
    b.core.driverRegister(platformDrv(b, 'mute', 'x,mute', () => -EPROBE_DEFER));
    const d = platformDev(b, 'm', 'x,mute');
    b.core.deviceAdd(d);
    expect(b.core.deferred.has(d)).toBe(true);
    b.core.deviceDel(d);
    expect(b.core.deferred.has(d)).toBe(false);
  });
});
