import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ReplayDivergenceError, type OrderPolicy } from './ordering';
import { Prng } from './prng';
import { INITCALL_LEVELS, Scheduler } from './scheduler';

const ITEMS = ['smmu0', 'sata', 'xgmac0', 'hvs', 'v3d', 'pcie0', 'nvme', 'nic'];
const id = (s: string) => s;

function orderWith(policy: OrderPolicy, items = ITEMS, seed?: number): string[] {
  return new Scheduler({ policy, seed }).order('probe', items, id);
}

describe('Scheduler: ordering policies', () => {
  it('natural keeps the given order; reverse reverses it', () => {
    expect(orderWith({ kind: 'natural' })).toEqual(ITEMS);
    expect(orderWith({ kind: 'reverse' })).toEqual([...ITEMS].reverse());
  });

  it('explicit puts the named items first in that order, the rest after in natural order', () => {
    expect(orderWith({ kind: 'explicit', order: ['v3d', 'smmu0', 'not-present'] })).toEqual([
      'v3d',
      'smmu0',
      'sata',
      'xgmac0',
      'hvs',
      'pcie0',
      'nvme',
      'nic',
    ]);
  });

  it('the same seed gives the same shuffle, and every shuffle is a permutation (property)', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 2 ** 31 - 1 }), (seed) => {
        const a = orderWith({ kind: 'shuffle', seed });
        const b = orderWith({ kind: 'shuffle', seed });
        expect(a).toEqual(b);
        expect([...a].sort()).toEqual([...ITEMS].sort());
      }),
      { numRuns: 50 },
    );
  });

  it('different seeds give different orders for 4 or more items', () => {
    const four = ITEMS.slice(0, 4);
    const orders = new Set<string>();
    for (let seed = 1; seed <= 20; seed++) orders.add(orderWith({ kind: 'shuffle', seed }, four).join(','));
    // 20 seeds over 24 permutations: a working shuffle shows many of them
    expect(orders.size).toBeGreaterThanOrEqual(8);
    expect(orderWith({ kind: 'shuffle', seed: 1 }, four)).not.toEqual(orderWith({ kind: 'shuffle', seed: 2 }, four));
  });

  it('successive decisions under one shuffle seed differ (the PRNG advances)', () => {
    const s = new Scheduler({ policy: { kind: 'shuffle', seed: 7 } });
    const runs = Array.from({ length: 5 }, () => s.order('p', ITEMS, id).join(','));
    expect(new Set(runs).size).toBeGreaterThan(1);
  });

  it('items with equal keys are each returned once, and a replay gives the same order', () => {
    const s = new Scheduler({ policy: { kind: 'shuffle', seed: 3 } });
    const items = [{ n: 'a', v: 1 }, { n: 'b', v: 2 }, { n: 'a', v: 3 }, { n: 'c', v: 4 }];
    const got = s.order('p', items, (x) => x.n).map((x) => x.v);
    expect([...got].sort()).toEqual([1, 2, 3, 4]);
    const replay = new Scheduler({ replay: s.decisions });
    expect(replay.order('p', items, (x) => x.n).map((x) => x.v)).toEqual(got);
  });
});

describe('Scheduler: trace and replay', () => {
  it('records every decision and replays them exactly', () => {
    const first = new Scheduler({ policy: { kind: 'shuffle', seed: 42 } });
    const o1 = first.order('initcall:device', ITEMS, id);
    const o2 = first.order('deferred-probe', ITEMS.slice(0, 5), id);
    expect(first.decisions).toHaveLength(2);
    expect(first.decisions[0]).toEqual({ point: 'initcall:device', candidates: ITEMS, chosen: o1, level: null });

    // a replay under a different policy follows the trace, not its own policy
    const trace = JSON.parse(JSON.stringify(first.decisions)) as typeof first.decisions;
    const replay = new Scheduler({ policy: { kind: 'natural' }, replay: trace });
    expect(replay.order('initcall:device', ITEMS, id)).toEqual(o1);
    expect(replay.order('deferred-probe', ITEMS.slice(0, 5), id)).toEqual(o2);
    expect(replay.decisions).toEqual(first.decisions);
  });

  it('throws ReplayDivergenceError when the run differs from the trace', () => {
    const trace = new Scheduler({ policy: { kind: 'reverse' } });
    trace.order('probe', ['a', 'b', 'c'], id);

    const otherPoint = new Scheduler({ replay: trace.decisions });
    expect(() => otherPoint.order('bind', ['a', 'b', 'c'], id)).toThrow(ReplayDivergenceError);

    const otherItems = new Scheduler({ replay: trace.decisions });
    expect(() => otherItems.order('probe', ['a', 'b', 'd'], id)).toThrow(ReplayDivergenceError);

    const tooLong = new Scheduler({ replay: trace.decisions });
    tooLong.order('probe', ['c', 'a', 'b'], id); // same set in another order is the same decision
    let err: unknown;
    try {
      tooLong.order('probe', ['a'], id);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(ReplayDivergenceError);
    expect((err as ReplayDivergenceError).index).toBe(1);
    expect((err as ReplayDivergenceError).expected).toBeUndefined();
  });

  it('a whole boot-like run replays from its trace (property)', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 1e9 }), (seed) => {
        const boot = (sched: Scheduler) => {
          const ran: string[] = [];
          for (const name of ITEMS) sched.queueInitcall(name.length % 2 === 0 ? 'device' : 'subsys', name, () => ran.push(name));
          sched.queueInitcall('late', 'late1', () => ran.push('late1'));
          sched.runInitcalls();
          return ran;
        };
        const a = new Scheduler({ policy: { kind: 'shuffle', seed } });
        const ranA = boot(a);
        const b = new Scheduler({ replay: a.decisions });
        expect(boot(b)).toEqual(ranA);
      }),
      { numRuns: 30 },
    );
  });
});

describe('Scheduler: timed events', () => {
  it('runs events in time order, ties in the order they were scheduled, and advances the clock', () => {
    const s = new Scheduler();
    const ran: string[] = [];
    s.schedule(300, () => ran.push(`c@${s.now}`));
    s.schedule(100, () => ran.push(`a@${s.now}`));
    s.schedule(200, () => ran.push(`b1@${s.now}`));
    s.schedule(200, () => ran.push(`b2@${s.now}`));
    s.schedule(200, () => ran.push(`b3@${s.now}`));
    expect(s.runUntilIdle()).toBe(5);
    expect(ran).toEqual(['a@100', 'b1@200', 'b2@200', 'b3@200', 'c@300']);
    expect(s.now).toBe(300);
  });

  it('events scheduled from events run relative to their time; cancelled events do not run', () => {
    const s = new Scheduler();
    const ran: string[] = [];
    s.schedule(10, () => {
      ran.push('outer');
      s.schedule(5, () => ran.push(`inner@${s.now}`));
      s.schedule(0, () => ran.push(`now@${s.now}`));
    });
    const h = s.schedule(12, () => ran.push('cancelled'));
    h.cancel();
    s.runUntilIdle();
    expect(ran).toEqual(['outer', 'now@10', 'inner@15']);
  });

  it('runUntil stops at the given time and moves the clock there', () => {
    const s = new Scheduler();
    const ran: number[] = [];
    for (const t of [5, 10, 15, 20]) s.schedule(t, () => ran.push(t));
    expect(s.runUntil(15)).toBe(3);
    expect(ran).toEqual([5, 10, 15]);
    s.advance(1);
    expect(s.now).toBe(16);
    expect(s.runUntil(100)).toBe(1);
    expect(s.now).toBe(100);
  });

  it('a heap of many random times pops in (time, seq) order (property)', () => {
    fc.assert(
      fc.property(fc.array(fc.integer({ min: 0, max: 50 }), { maxLength: 200 }), (times) => {
        const s = new Scheduler();
        const ran: [number, number][] = [];
        times.forEach((t, i) => s.schedule(t, () => ran.push([t, i])));
        s.runUntilIdle();
        const expected = times.map((t, i) => [t, i] as [number, number]).sort((x, y) => x[0] - y[0] || x[1] - y[1]);
        expect(ran).toEqual(expected);
      }),
    );
  });
});

describe('Scheduler: initcalls', () => {
  it('runs the levels in kernel order whatever order work was queued in', () => {
    const s = new Scheduler();
    const ran: string[] = [];
    for (const level of [...INITCALL_LEVELS].reverse()) s.queueInitcall(level, level, () => ran.push(`${level}:${s.currentLevel}`));
    s.runInitcalls();
    expect(ran).toEqual(INITCALL_LEVELS.map((l) => `${l}:${l}`));
    expect(s.currentLevel).toBeNull();
  });

  it('work queued to the current level while it runs runs in that level, before the next', () => {
    const s = new Scheduler();
    const ran: string[] = [];
    s.queueInitcall('device', 'platform_bus_init', () => {
      ran.push('platform_bus_init');
      s.queueInitcall('device', 'deferred', () => ran.push('deferred'));
    });
    s.queueInitcall('late', 'late', () => ran.push('late'));
    s.runInitcalls();
    expect(ran).toEqual(['platform_bus_init', 'deferred', 'late']);
    expect(s.decisions.map((d) => d.point)).toEqual(['initcall:device', 'initcall:device', 'initcall:late']);
  });

  it('orders the calls of one level by the policy and runs timed events between calls', () => {
    const s = new Scheduler({ policy: { kind: 'reverse' } });
    const ran: string[] = [];
    s.queueInitcall('subsys', 'a', () => {
      ran.push('a');
      s.schedule(0, () => ran.push('timer-from-a'));
    });
    s.queueInitcall('subsys', 'b', () => ran.push('b'));
    s.queueInitcall('subsys', 'c', () => ran.push('c'));
    s.runInitcalls(1000);
    expect(ran).toEqual(['c', 'b', 'a', 'timer-from-a']);
    expect(s.now).toBe(3000);
  });
});

describe('Prng', () => {
  it('is deterministic and stays in range', () => {
    const a = new Prng(5);
    const b = new Prng(5);
    for (let i = 0; i < 1000; i++) {
      const x = a.nextInt(7);
      expect(x).toBe(b.nextInt(7));
      expect(x >= 0 && x < 7 && Number.isInteger(x)).toBe(true);
      const f = a.nextFloat();
      expect(f).toBe(b.nextFloat());
      expect(f >= 0 && f < 1).toBe(true);
    }
  });

  it('covers every value of a small range', () => {
    const p = new Prng(9);
    const seen = new Set<number>();
    for (let i = 0; i < 200; i++) seen.add(p.nextInt(6));
    expect(seen.size).toBe(6);
  });
});
