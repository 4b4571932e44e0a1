import type { KernelLog } from '../log/kernel-log';
import type { Scheduler } from '../sched/scheduler';
import { EBUSY, EINVAL } from '../errno';

export type IrqReturn = 'handled' | 'none';
export type IrqHandler = (irq: number) => IrqReturn;

/** Nanoseconds from an interrupt being raised to its handler running. */
export const IRQ_LATENCY_NS = 500;
/** After this many dispatches in a row with nobody handling a raised line, it is disabled. */
const NOBODY_CARED_LIMIT = 1000;

interface Action {
  readonly name: string;
  readonly handler: IrqHandler;
}

/** One interrupt line. Level-triggered: while raised, its handlers are called until one clears it. */
export class IrqLine {
  private actions: Action[] = [];
  private level = false;
  private pendingDispatch = false;
  private unhandled = 0;
  disabled = false;
  count = 0;

  constructor(
    readonly irq: number,
    private readonly sched: Scheduler,
    private readonly log?: KernelLog,
  ) {}

  get raised(): boolean {
    return this.level;
  }

  get handlers(): readonly string[] {
    return this.actions.map((a) => a.name);
  }

  /** request_irq; shared lines allowed when every requester asks for sharing. */
  request(name: string, handler: IrqHandler, shared = false): number {
    if (!shared && this.actions.length > 0) return -EBUSY;
    this.actions.push({ name, handler });
    if (this.level) this.kick();
    return 0;
  }

  free(name: string): number {
    const before = this.actions.length;
    this.actions = this.actions.filter((a) => a.name !== name);
    return this.actions.length < before ? 0 : -EINVAL;
  }

  /** The device asserts the line; handlers run through the scheduler after IRQ_LATENCY_NS. */
  raise(): void {
    this.level = true;
    this.kick();
  }

  /** The device deasserts the line (normally from inside a handler, when the cause is cleared). */
  lower(): void {
    this.level = false;
  }

  private kick(): void {
    if (this.pendingDispatch || this.disabled || this.actions.length === 0) return;
    this.pendingDispatch = true;
    this.sched.schedule(IRQ_LATENCY_NS, () => this.dispatch(), `irq:${this.irq}`);
  }

  private dispatch(): void {
    this.pendingDispatch = false;
    if (!this.level || this.disabled) return;
    this.count++;
    let handled = false;
    for (const a of this.actions) if (a.handler(this.irq) === 'handled') handled = true;
    this.unhandled = handled ? 0 : this.unhandled + 1;
    if (this.unhandled >= NOBODY_CARED_LIMIT) {
      this.disabled = true;
      this.log?.err(`irq ${this.irq}: nobody cared (try booting with the "irqpoll" option)`);
      this.log?.err(`Disabling IRQ #${this.irq}`);
      return;
    }
    if (this.level) this.kick();
  }
}

/** The interrupt controller: lines by number, created on first use. */
export class IrqController {
  private readonly lines = new Map<number, IrqLine>();

  constructor(
    private readonly sched: Scheduler,
    private readonly log?: KernelLog,
  ) {}

  line(irq: number): IrqLine {
    let l = this.lines.get(irq);
    if (l === undefined) {
      l = new IrqLine(irq, this.sched, this.log);
      this.lines.set(irq, l);
    }
    return l;
  }

  requestIrq(irq: number, handler: IrqHandler, name: string, shared = false): number {
    return this.line(irq).request(name, handler, shared);
  }

  freeIrq(irq: number, name: string): number {
    return this.line(irq).free(name);
  }

  /** Lines that have been used, with their counts (like /proc/interrupts). */
  interrupts(): { irq: number; count: number; handlers: readonly string[] }[] {
    return [...this.lines.values()].sort((a, b) => a.irq - b.irq).map((l) => ({ irq: l.irq, count: l.count, handlers: l.handlers }));
  }
}
