import { describe, expect, it } from 'vitest';
import { EBUSY } from '../errno';
import { KernelLog } from '../log/kernel-log';
import { Scheduler } from '../sched/scheduler';
import { IRQ_LATENCY_NS, IrqController } from './irq';

function setup() {
  const sched = new Scheduler();
  const log = new KernelLog(() => sched.now);
  const irqs = new IrqController(sched, log);
  return { sched, log, irqs };
}

describe('IrqLine', () => {
  it('runs the handler through the scheduler after the latency, not synchronously', () => {
    const { sched, irqs } = setup();
    const calls: number[] = [];
    expect(
      irqs.requestIrq(
        42,
        (irq) => {
          calls.push(sched.now);
          irqs.line(irq).lower();
          return 'handled';
        },
        'xgmac0',
      ),
    ).toBe(0);
    sched.advance(1000);
    irqs.line(42).raise();
    expect(calls).toEqual([]);
    sched.runUntilIdle();
    expect(calls).toEqual([1000 + IRQ_LATENCY_NS]);
    expect(irqs.interrupts()).toEqual([{ irq: 42, count: 1, handlers: ['xgmac0'] }]);
  });

  it('level-triggered: keeps dispatching while raised, stops once lowered', () => {
    const { sched, irqs } = setup();
    let pending = 3; // the device clears its cause after three handler runs
    irqs.requestIrq(
      7,
      (irq) => {
        pending--;
        if (pending === 0) irqs.line(irq).lower();
        return 'handled';
      },
      'sata',
    );
    irqs.line(7).raise();
    irqs.line(7).raise(); // raising an already raised line does not queue a second dispatch
    sched.runUntilIdle();
    expect(irqs.line(7).count).toBe(3);
    expect(irqs.line(7).raised).toBe(false);
    expect(sched.now).toBe(3 * IRQ_LATENCY_NS);
  });

  it('a line lowered before its handler runs is not dispatched', () => {
    const { sched, irqs } = setup();
    let n = 0;
    irqs.requestIrq(3, () => (n++, 'handled'), 'dev');
    irqs.line(3).raise();
    irqs.line(3).lower();
    sched.runUntilIdle();
    expect(n).toBe(0);
  });

  it('a handler requested while the line is raised gets the pending interrupt', () => {
    const { sched, irqs } = setup();
    irqs.line(9).raise();
    sched.runUntilIdle();
    let n = 0;
    irqs.requestIrq(9, (irq) => (n++, irqs.line(irq).lower(), 'handled'), 'late');
    sched.runUntilIdle();
    expect(n).toBe(1);
  });

  it('refuses a second non-shared handler; shared lines call every handler', () => {
    const { sched, irqs } = setup();
    irqs.requestIrq(5, () => 'handled', 'a');
    expect(irqs.requestIrq(5, () => 'handled', 'b')).toBe(-EBUSY);
    const seen: string[] = [];
    irqs.requestIrq(6, () => (seen.push('x'), 'none'), 'x', true);
    irqs.requestIrq(6, (irq) => (seen.push('y'), irqs.line(irq).lower(), 'handled'), 'y', true);
    irqs.line(6).raise();
    sched.runUntilIdle();
    expect(seen).toEqual(['x', 'y']);
    expect(irqs.freeIrq(6, 'x')).toBe(0);
    expect(irqs.freeIrq(6, 'x')).toBeLessThan(0);
    expect(irqs.line(6).handlers).toEqual(['y']);
  });

  it('a raised line nobody handles is disabled after the limit with the kernel message', () => {
    const { sched, irqs, log } = setup();
    let calls = 0;
    irqs.requestIrq(33, () => (calls++, 'none'), 'deaf');
    irqs.line(33).raise();
    sched.runUntilIdle();
    expect(irqs.line(33).disabled).toBe(true);
    expect(calls).toBe(1000);
    const text = log.lines.map((l) => l.text);
    expect(text).toContain('irq 33: nobody cared (try booting with the "irqpoll" option)');
    expect(text).toContain('Disabling IRQ #33');
    // a disabled line is not dispatched again
    irqs.line(33).raise();
    sched.runUntilIdle();
    expect(calls).toBe(1000);
  });
});
