// The fuzz watchdog: a case that never returns (a hang) blocks the fuzz loop's thread, which then
// cannot print or stop itself. This worker watches the case counter the loop bumps (cell 0, the
// target's index in cell 1); when one case runs too long it writes, straight to stderr, how to
// replay it (`pnpm fuzz <target> --seed S --case I`) and kills the process.
import { writeSync } from 'node:fs';
import process from 'node:process';
import { workerData } from 'node:worker_threads';

const { shared, hangMs, ids, seed } = workerData;
const cell = new Int32Array(shared);
let lastSeen = -1;
let lastTarget = -1;
for (;;) {
  const now = Atomics.load(cell, 0);
  const target = Atomics.load(cell, 1);
  if (now === -2) break;
  if (now !== lastSeen || target !== lastTarget) {
    lastSeen = now;
    lastTarget = target;
    Atomics.wait(cell, 0, now, hangMs);
    continue;
  }
  const id = ids[target] ?? '?';
  writeSync(2, `\nHANG ${id}: case ${now} has run over ${hangMs / 1000} s; replay it with: pnpm fuzz ${id} --seed ${seed} --case ${now}\n`);
  process.kill(process.pid, 'SIGKILL');
}
