import { EEXIST, ENOENT, EBUSY, KernelLog, KernelOops } from '@dmasim/core';
import { describe, expect, it } from 'vitest';
import {
  NOTIFY_BAD,
  NOTIFY_DONE,
  NOTIFY_OK,
  NOTIFY_STOP,
  NOTIFY_STOP_MASK,
  NotifierChain,
  type NotifierCallRecord,
  notifierFromErrno,
  notifierToErrno,
} from './notifier';

function block(name: string, calls: string[], priority?: number, ret = NOTIFY_DONE) {
  return { name, ...(priority === undefined ? {} : { priority }), call: () => (calls.push(name), ret) };
}

describe('NotifierChain', () => {
  it('runs a priority -100 callback after the default-priority one, whatever the registration order', () => {
    const calls: string[] = [];
    const chain = new NotifierChain<string>('platform bus notifier');
    chain.register(block('__iommu_attach_notifier', calls, -100));
    chain.register(block('iommu_bus_notifier', calls));
    chain.call(0, 'dev');
    expect(calls).toEqual(['iommu_bus_notifier', '__iommu_attach_notifier']);
  });

  it('keeps registration order among equal priorities and sorts higher priorities first', () => {
    const calls: string[] = [];
    const chain = new NotifierChain<null>('c');
    chain.register(block('a', calls, 0));
    chain.register(block('b', calls, 10));
    chain.register(block('c', calls, 0));
    chain.register(block('d', calls, 10));
    chain.register(block('e', calls, -5));
    chain.call(1, null);
    expect(calls).toEqual(['b', 'd', 'a', 'c', 'e']);
    expect(chain.order).toEqual(calls);
  });

  it('stops at a return value carrying the stop mask and returns it', () => {
    const calls: string[] = [];
    const chain = new NotifierChain<null>('c');
    chain.register(block('first', calls, 0, NOTIFY_OK));
    chain.register(block('stopper', calls, 0, NOTIFY_BAD));
    chain.register(block('never', calls, 0, NOTIFY_OK));
    expect(chain.call(0, null)).toBe(NOTIFY_BAD);
    expect(calls).toEqual(['first', 'stopper']);
  });

  it('returns the last value when nothing stops, NOTIFY_DONE when empty', () => {
    const calls: string[] = [];
    const chain = new NotifierChain<null>('c');
    expect(chain.call(0, null)).toBe(NOTIFY_DONE);
    chain.register(block('a', calls, 0, NOTIFY_OK));
    chain.register(block('b', calls, 0, NOTIFY_DONE));
    expect(chain.call(0, null)).toBe(NOTIFY_DONE);
  });

  it('logs a throwing callback and goes on with the chain', () => {
    const log = new KernelLog();
    const calls: string[] = [];
    const records: NotifierCallRecord<null>[] = [];
    const chain = new NotifierChain<null>('platform bus notifier', { log, observer: (r) => records.push(r) });
    chain.register({ name: 'buggy', call: () => { throw new Error('boom'); } });
    chain.register(block('after', calls, 0, NOTIFY_OK));
    expect(chain.call(0, null)).toBe(NOTIFY_OK);
    expect(calls).toEqual(['after']);
    expect(log.warnCount).toBe(1);
    expect(log.format().join('\n')).toContain('notifier callback buggy on platform bus notifier failed: boom');
    expect(records.map((r) => [r.callback, r.result, r.error])).toEqual([['buggy', NOTIFY_DONE, 'boom'], ['after', NOTIFY_OK, undefined]]);
  });

  it('lets a kernel oops unwind through the chain', () => {
    const log = new KernelLog();
    const chain = new NotifierChain<null>('c', { log });
    chain.register({ name: 'oopser', call: () => log.oops('NULL pointer dereference') });
    expect(() => chain.call(0, null)).toThrow(KernelOops);
  });

  it('refuses a block registered twice and a missing unregister, like the kernel', () => {
    const log = new KernelLog();
    const chain = new NotifierChain<null>('c', { log });
    const b = block('x', [], 0);
    expect(chain.register(b)).toBe(0);
    expect(chain.register(b)).toBe(-EEXIST);
    expect(log.warnCount).toBe(1);
    expect(chain.unregister(b)).toBe(0);
    expect(chain.unregister(b)).toBe(-ENOENT);
    expect(chain.register(block('p', [], 3))).toBe(0);
    expect(chain.register(block('q', [], 3), true)).toBe(-EBUSY);
  });

  it('a callback unregistering itself does not disturb the call in progress', () => {
    const calls: string[] = [];
    const chain = new NotifierChain<null>('c');
    const self = { name: 'once', call: () => { calls.push('once'); chain.unregister(self); return NOTIFY_DONE; } };
    chain.register(self);
    chain.register(block('next', calls));
    chain.call(0, null);
    chain.call(0, null);
    expect(calls).toEqual(['once', 'next', 'next']);
  });

  it('folds errnos into return values and back', () => {
    expect(notifierFromErrno(0)).toBe(NOTIFY_OK);
    expect(notifierFromErrno(-12) & NOTIFY_STOP_MASK).toBe(NOTIFY_STOP_MASK);
    expect(notifierToErrno(notifierFromErrno(-12))).toBe(-12);
    expect(notifierToErrno(NOTIFY_STOP)).toBe(0);
    expect(notifierToErrno(NOTIFY_BAD)).toBe(-1);
  });
});
