import type { Scheduler } from '@dmasim/core';

/** Simulated time a driver gives a command before declaring a timeout (the block layer's is 30 s; ours is short). */
export const DEFAULT_TIMEOUT_NS = 5_000_000;

/**
 * Runs the machine's scheduler until `done()` holds or `timeoutNs` of simulated time passed: how a
 * driver waits for its completion interrupt. Returns whether `done()` held.
 */
export function waitFor(sched: Scheduler, done: () => boolean, timeoutNs = DEFAULT_TIMEOUT_NS, stepNs = 1000): boolean {
  const deadline = sched.now + timeoutNs;
  while (!done()) {
    if (sched.now >= deadline) return false;
    // nothing queued: nothing can change until the deadline
    if (sched.pending === 0) {
      sched.runUntil(deadline);
      return done();
    }
    sched.runUntil(Math.min(deadline, sched.now + stepNs));
  }
  return true;
}
