import { EventEmitter } from 'eventemitter3';
import { EventQueue, type TimedEvent } from './event-queue';
import { type Decision, type OrderPolicy, ReplayDivergenceError } from './ordering';
import { Prng } from './prng';

/** Initcall levels in the order the kernel runs them. */
export const INITCALL_LEVELS = ['early', 'core', 'postcore', 'arch', 'subsys', 'fs', 'device', 'late'] as const;
export type InitcallLevel = (typeof INITCALL_LEVELS)[number];

export interface SchedulerOptions {
  /** Seed of the machine's PRNG (and of the shuffle policy when it gives none). */
  readonly seed?: number;
  /** Ordering policy for items ready together; default natural. */
  readonly policy?: OrderPolicy;
  /** Decisions recorded by an earlier run: replay them exactly instead of applying the policy. */
  readonly replay?: readonly Decision[];
  /**
   * Picks the next item among those still waiting at a decision point (exploration drives runs
   * through this); undefined means: what the policy would pick. Ignored when replaying.
   */
  readonly chooser?: Chooser;
}

/** Chooses the next item (by key) among `remaining` at a decision point. */
export type Chooser = (point: string, remaining: readonly string[]) => string | undefined;

export interface SchedulerEvents {
  decision: (d: Decision, index: number) => void;
}

interface Initcall {
  readonly name: string;
  readonly fn: () => void;
}

/**
 * The machine's discrete-event scheduler: simulated nanoseconds, timed events, initcall levels, and
 * every ordering choice among items that are ready together (which driver registers first, which
 * device is added first, which deferred probe is retried first). Each choice is recorded as a
 * Decision so a run can be replayed exactly from its trace.
 */
export class Scheduler extends EventEmitter<SchedulerEvents> {
  readonly prng: Prng;
  readonly policy: OrderPolicy;
  private readonly shuffler: Prng;
  private readonly queue = new EventQueue();
  private readonly recorded: Decision[] = [];
  private readonly replay: readonly Decision[] | undefined;
  private readonly chooser: Chooser | undefined;
  private readonly initcalls = new Map<InitcallLevel, Initcall[]>();
  private seq = 0;
  private clock = 0;
  /** The initcall level running now, if any. */
  currentLevel: InitcallLevel | null = null;

  constructor(options: SchedulerOptions = {}) {
    super();
    const seed = options.seed ?? 1;
    this.prng = new Prng(seed);
    this.policy = options.policy ?? { kind: 'natural' };
    this.shuffler = new Prng(this.policy.kind === 'shuffle' ? this.policy.seed : seed);
    this.replay = options.replay;
    this.chooser = options.replay === undefined ? options.chooser : undefined;
  }

  /** Simulated time in nanoseconds. */
  get now(): number {
    return this.clock;
  }

  /** Lets simulated time pass (work done synchronously, e.g. an initcall's cost). */
  advance(ns: number): void {
    if (ns > 0) this.clock += ns;
  }

  /** Decisions made so far, in order. */
  get decisions(): readonly Decision[] {
    return this.recorded;
  }

  /**
   * Orders items that are ready together at a named decision point, by the policy (or the trace when
   * replaying), and records the decision. `keyOf` gives each item's stable name.
   */
  order<T>(point: string, items: readonly T[], keyOf: (item: T) => string): T[] {
    if (items.length === 0) return [];
    const keys = items.map(keyOf);
    let chosen: string[];
    if (this.replay !== undefined) {
      const idx = this.recorded.length;
      const expected = this.replay[idx];
      if (expected === undefined || expected.point !== point || !sameSet(expected.candidates, keys)) {
        throw new ReplayDivergenceError(idx, expected, { point, candidates: keys });
      }
      chosen = [...expected.chosen];
    } else if (this.chooser !== undefined) {
      chosen = [];
      const remaining = [...keys];
      while (remaining.length > 0) chosen.push(this.pick(point, remaining));
    } else {
      chosen = this.applyPolicy(keys);
    }
    const byKey = new Map<string, T[]>();
    items.forEach((it, i) => {
      const k = keys[i]!;
      const list = byKey.get(k);
      if (list) list.push(it);
      else byKey.set(k, [it]);
    });
    const out: T[] = [];
    for (const k of chosen) {
      const it = byKey.get(k)?.shift();
      if (it !== undefined) out.push(it);
    }
    const d: Decision = { point, candidates: keys, chosen, level: this.currentLevel };
    this.recorded.push(d);
    this.emit('decision', d, this.recorded.length - 1);
    return out;
  }

  /**
   * Runs fn for each item in the order chosen at a decision point. With a chooser, each next item is
   * chosen after the previous one ran, so the choice can depend on what it did (exploration prunes
   * on that). The decision is recorded before the first item runs, so traces replay in order.
   */
  forEachOrdered<T>(point: string, items: readonly T[], keyOf: (item: T) => string, fn: (item: T) => void): void {
    if (this.chooser === undefined || items.length < 2) {
      for (const it of this.order(point, items, keyOf)) fn(it);
      return;
    }
    const keys = items.map(keyOf);
    const chosen: string[] = [];
    const d: Decision = { point, candidates: keys, chosen, level: this.currentLevel };
    this.recorded.push(d);
    const waiting = items.map((item, i) => ({ item, key: keys[i]! }));
    while (waiting.length > 0) {
      const key = this.pick(point, waiting.map((w) => w.key));
      const at = waiting.findIndex((w) => w.key === key);
      const [next] = waiting.splice(at, 1);
      chosen.push(key);
      if (chosen.length === keys.length) this.emit('decision', d, this.recorded.indexOf(d));
      fn(next!.item);
    }
  }

  /** One pick by the chooser (removed from `remaining`), falling back to the policy's first choice. */
  private pick(point: string, remaining: string[]): string {
    const wanted = this.chooser?.(point, remaining);
    const key = wanted !== undefined && remaining.includes(wanted) ? wanted : this.applyPolicy(remaining)[0]!;
    remaining.splice(remaining.indexOf(key), 1);
    return key;
  }

  private applyPolicy(keys: readonly string[]): string[] {
    switch (this.policy.kind) {
      case 'natural':
        return [...keys];
      case 'reverse':
        return [...keys].reverse();
      case 'shuffle':
        return keys.length < 2 ? [...keys] : this.shuffler.shuffle(keys);
      case 'explicit': {
        const rank = new Map(this.policy.order.map((n, i) => [n, i]));
        return keys
          .map((k, i) => ({ k, i, r: rank.get(k) }))
          .sort((a, b) => {
            if (a.r !== undefined && b.r !== undefined) return a.r - b.r;
            if (a.r !== undefined) return -1;
            if (b.r !== undefined) return 1;
            return a.i - b.i;
          })
          .map((x) => x.k);
      }
    }
  }

  // ---- timed events ---------------------------------------------------------------------------

  /** Schedules fn to run `delayNs` from now. Returns a handle that can cancel it. */
  schedule(delayNs: number, fn: () => void, label = 'event'): { cancel(): void } {
    // the queued event is its own handle: one object per event, no closure
    const ev = new ScheduledEvent(this.clock + Math.max(0, delayNs), this.seq++, label, fn);
    this.queue.push(ev);
    return ev;
  }

  /** Number of events waiting. */
  get pending(): number {
    return this.queue.size;
  }

  /** Runs events in time order until none is left (or `maxEvents` ran). Returns how many ran. */
  runUntilIdle(maxEvents = 10_000_000): number {
    let n = 0;
    while (n < maxEvents) {
      const ev = this.queue.pop();
      if (ev === undefined) break;
      if (ev.cancelled) continue;
      if (ev.time > this.clock) this.clock = ev.time;
      ev.fn();
      n++;
    }
    return n;
  }

  /** Runs events due up to time `t` (inclusive) and moves the clock to t. */
  runUntil(t: number): number {
    let n = 0;
    for (;;) {
      const ev = this.queue.peek();
      if (ev === undefined || ev.time > t) break;
      this.queue.pop();
      if (ev.cancelled) continue;
      if (ev.time > this.clock) this.clock = ev.time;
      ev.fn();
      n++;
    }
    if (t > this.clock) this.clock = t;
    return n;
  }

  // ---- initcalls ------------------------------------------------------------------------------

  /** Queues work at an initcall level; `name` is its stable name in traces and explicit orders. */
  queueInitcall(level: InitcallLevel, name: string, fn: () => void): void {
    const list = this.initcalls.get(level);
    if (list) list.push({ name, fn });
    else this.initcalls.set(level, [{ name, fn }]);
  }

  /**
   * Runs every initcall level in order. Within a level, the calls are ordered by the policy at the
   * decision point `initcall:<level>`; work queued to the current level while it runs forms another
   * batch of the same level. Timed events due are run after each call.
   */
  runInitcalls(costNs = 1000): void {
    for (const level of INITCALL_LEVELS) {
      this.currentLevel = level;
      for (;;) {
        const batch = this.initcalls.get(level);
        if (!batch || batch.length === 0) break;
        this.initcalls.set(level, []);
        this.forEachOrdered(`initcall:${level}`, batch, (c) => c.name, (call) => {
          call.fn();
          this.advance(costNs);
          this.runUntil(this.clock);
        });
      }
    }
    this.currentLevel = null;
    this.runUntilIdle();
  }
}

/** A queued event that is also the handle returned to whoever scheduled it. */
class ScheduledEvent implements TimedEvent {
  cancelled = false;
  constructor(
    readonly time: number,
    readonly seq: number,
    readonly label: string,
    readonly fn: () => void,
  ) {}

  cancel(): void {
    this.cancelled = true;
  }
}

function sameSet(a: readonly string[], b: readonly string[]): boolean {
  if (a.length !== b.length) return false;
  const sa = [...a].sort();
  const sb = [...b].sort();
  return sa.every((x, i) => x === sb[i]);
}
