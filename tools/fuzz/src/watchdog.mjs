// The fuzz watchdog: a case that never returns (a hang) cannot be interrupted from its own thread,
// so this worker watches the case counter the fuzz loop bumps and, when one case runs too long,
// names it (target, seed, case index: `pnpm fuzz <target> --seed S --case I` replays it) and exits.
import { parentPort, workerData } from 'node:worker_threads';

const { shared, hangMs } = workerData;
const cell = new Int32Array(shared);
let lastSeen = -1;
for (;;) {
  const now = Atomics.load(cell, 0);
  if (now === -2) break;
  if (now !== lastSeen) {
    lastSeen = now;
    Atomics.wait(cell, 0, now, hangMs);
    continue;
  }
  parentPort.postMessage({ hungCase: now });
  break;
}
