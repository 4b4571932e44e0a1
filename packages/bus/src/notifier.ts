import { EEXIST, ENOENT, EBUSY, KernelOops, type KernelLog } from '@dmasim/core';

/** Return codes of a notifier callback (include/linux/notifier.h). */
export const NOTIFY_DONE = 0x0000;
export const NOTIFY_OK = 0x0001;
/** Set in a return value: do not call the callbacks after this one. */
export const NOTIFY_STOP_MASK = 0x8000;
export const NOTIFY_BAD = NOTIFY_STOP_MASK | 0x0002;
export const NOTIFY_STOP = NOTIFY_OK | NOTIFY_STOP_MASK;

/** notifier_from_errno: folds a negative errno into a stopping return value. */
export function notifierFromErrno(err: number): number {
  return err !== 0 ? NOTIFY_STOP_MASK | (NOTIFY_OK - err) : NOTIFY_OK;
}

/** notifier_to_errno: the errno folded by notifierFromErrno, or 0. */
export function notifierToErrno(ret: number): number {
  const r = ret & ~NOTIFY_STOP_MASK; // return codes are small ints, not addresses
  return r > NOTIFY_OK ? NOTIFY_OK - r : 0;
}

/** struct notifier_block: a named callback with a priority (higher runs first). */
export interface NotifierBlock<D> {
  /** Stable name used in logs, events and traces (the kernel prints the function with %ps). */
  readonly name: string;
  /** Default 0, as a zero-initialised notifier_block. */
  readonly priority?: number;
  call(action: number, data: D): number;
}

/** What one callback invocation did, reported to the chain's observer. */
export interface NotifierCallRecord<D> {
  readonly chain: string;
  readonly callback: string;
  readonly priority: number;
  readonly action: number;
  readonly data: D;
  readonly result: number;
  /** Set when the callback threw (the chain went on as if it returned NOTIFY_DONE). */
  readonly error?: string;
}

export interface NotifierChainOptions<D> {
  readonly log?: KernelLog;
  /** Called after every callback: observational only (events, traces). */
  readonly observer?: (record: NotifierCallRecord<D>) => void;
}

interface Entry<D> {
  readonly block: NotifierBlock<D>;
  readonly priority: number;
}

/**
 * A blocking notifier chain with the kernel's ordering: callbacks run by descending priority and,
 * at equal priority, in registration order; a return value with NOTIFY_STOP_MASK ends the call.
 * Unlike an event emitter, a callback that throws (a bug in simulated code) is logged and the chain
 * goes on; a KernelOops still unwinds, since the simulated kernel died.
 */
export class NotifierChain<D> {
  private entries: Entry<D>[] = [];
  observer: ((record: NotifierCallRecord<D>) => void) | undefined;
  private readonly log: KernelLog | undefined;

  constructor(
    readonly name: string,
    options: NotifierChainOptions<D> = {},
  ) {
    this.log = options.log;
    this.observer = options.observer;
  }

  get length(): number {
    return this.entries.length;
  }

  /** Callback names in call order. */
  get order(): string[] {
    return this.entries.map((e) => e.block.name);
  }

  /**
   * notifier_chain_register: inserts before the first entry of lower priority. Returns 0, -EEXIST
   * (with the kernel's WARN) for a block already registered, or -EBUSY when `uniquePriority` is set
   * and the priority is taken.
   */
  register(block: NotifierBlock<D>, uniquePriority = false): number {
    const priority = block.priority ?? 0;
    // walk to the insertion point exactly as the kernel does: a duplicate or a taken unique
    // priority is only noticed among the entries before it
    let at = 0;
    for (; at < this.entries.length; at++) {
      const e = this.entries[at]!;
      if (e.block === block) {
        this.log?.warn('kernel/notifier.c:28 notifier_chain_register', `notifier callback ${block.name} already registered`);
        return -EEXIST;
      }
      if (priority > e.priority) break;
      if (uniquePriority && e.priority === priority) return -EBUSY;
    }
    // copy-on-write: a callback may (un)register while the chain is being called
    const next = this.entries.slice();
    next.splice(at, 0, { block, priority });
    this.entries = next;
    return 0;
  }

  /** notifier_chain_unregister: 0, or -ENOENT when the block is not on the chain. */
  unregister(block: NotifierBlock<D>): number {
    const i = this.entries.findIndex((e) => e.block === block);
    if (i < 0) return -ENOENT;
    const next = this.entries.slice();
    next.splice(i, 1);
    this.entries = next;
    return 0;
  }

  /** notifier_call_chain: returns the last callback's value (NOTIFY_DONE when none ran). */
  call(action: number, data: D): number {
    let ret = NOTIFY_DONE;
    const list = this.entries;
    const observer = this.observer;
    for (let i = 0; i < list.length; i++) {
      const { block, priority } = list[i]!;
      let error: string | undefined;
      try {
        ret = block.call(action, data);
      } catch (e) {
        if (e instanceof KernelOops) throw e;
        error = e instanceof Error ? e.message : String(e);
        ret = NOTIFY_DONE;
        this.log?.warn('kernel/notifier.c:85 notifier_call_chain', `notifier callback ${block.name} on ${this.name} failed: ${error}`);
      }
      if (observer !== undefined) {
        observer(error === undefined
          ? { chain: this.name, callback: block.name, priority, action, data, result: ret }
          : { chain: this.name, callback: block.name, priority, action, data, result: ret, error });
      }
      if ((ret & NOTIFY_STOP_MASK) !== 0) break;
    }
    return ret;
  }
}
