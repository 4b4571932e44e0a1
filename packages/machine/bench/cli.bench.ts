import type { BenchContext } from '@dmasim/bench-harness';
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { resolve } from 'node:path';

// The `dmasim` command as a user starts it: a whole process of the built bin, median of RUNS,
// related to `node -e 0` measured in the same run (a process that does nothing).
const BIN = resolve(import.meta.dirname, '../bin/dmasim.mjs');
const RUNS = 9;

function medianSeconds(args: readonly string[]): number {
  const times: number[] = [];
  for (let i = 0; i < RUNS; i++) {
    const t = process.hrtime.bigint();
    const r = spawnSync(process.execPath, args, { stdio: ['ignore', 'ignore', 'pipe'], encoding: 'utf8' });
    times.push(Number(process.hrtime.bigint() - t) / 1e9);
    if (r.status !== 0) throw new Error(`node ${args.join(' ')} exited ${r.status}: ${r.stderr}`);
  }
  times.sort((a, b) => a - b);
  return times[Math.floor(RUNS / 2)]!;
}

export default function cliBench(ctx: BenchContext): Promise<void> {
  if (!existsSync(resolve(import.meta.dirname, '../dist/cli/main.js'))) {
    process.stderr.write('cli bench: packages/machine/dist is not built (pnpm build); cli.* skipped\n');
    return Promise.resolve();
  }
  const node = medianSeconds(['-e', '0']);
  ctx.record({ id: 'cli.node-e-0', value: node, unit: 's', better: 'lower' });
  const cases: [string, string[], number][] = [
    ['cli.version', ['--version'], 0.25],
    ['cli.run.rpi4', ['run', 'rpi4', '--json'], 0.5],
  ];
  for (const [id, args, target] of cases) {
    const v = medianSeconds([BIN, ...args]);
    ctx.record({ id, value: v, unit: 's', better: 'lower', baseline: 'cli.node-e-0', ratio: v / node, target: `<= ${target}`, met: v <= target });
  }
  return Promise.resolve();
}
