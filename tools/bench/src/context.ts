import { Bench } from 'tinybench';

export interface BenchResult {
  /** Stable dotted lower-case id, e.g. `iova.fast-pair`. */
  id: string;
  value: number;
  unit: string;
  better: 'higher' | 'lower';
  /** Id of the baseline this figure is related to, when any. */
  baseline?: string;
  /**
   * Higher-is-better figures: value / baseline value. Lower-is-better times: the operation's cost in
   * baseline operations (seconds per operation × baseline operations per second).
   */
  ratio?: number;
  /** The target, as text, e.g. `>= 5e6`. */
  target?: string;
  /** Whether the target is met, when a target is given. */
  met?: boolean;
}

export interface RateOptions {
  /** Unit to print, e.g. `pairs/s`; default `ops/s`. */
  unit?: string;
  /** Calls of fn per timed sample: use for sub-microsecond operations so timer cost vanishes. */
  batch?: number;
  /** Operations done by one call of fn (e.g. 64 for a 64-entry list); default 1. */
  opsPerCall?: number;
  /** Relate the figure to this baseline id. */
  baseline?: string;
  /** Minimum acceptable value (higher is better). */
  min?: number;
  /** Milliseconds to sample for; default 300. */
  timeMs?: number;
}

export interface TimeOptions {
  /** Unit to print: `ns`, `µs` or `ms`. */
  unit: 'ns' | 'µs' | 'ms';
  batch?: number;
  baseline?: string;
  /** Maximum acceptable value (lower is better). */
  max?: number;
  timeMs?: number;
}

export interface BenchContext {
  /** Measures fn as operations per second and records it. */
  rate(id: string, fn: () => void, opts?: RateOptions): Promise<BenchResult>;
  /** Measures the time of one call of fn and records it. */
  time(id: string, fn: () => void, opts: TimeOptions): Promise<BenchResult>;
  /** Records a figure measured by other means (e.g. a ratio computed by the bench itself). */
  record(result: BenchResult): BenchResult;
  /** Value of a baseline measured in this process (GB/s for `raw.copy.*`, ops/s for `raw.loop`). */
  baseline(id: string): number;
  readonly results: BenchResult[];
}

const UNIT_SCALE = { ns: 1e6, 'µs': 1e3, ms: 1 } as const;

async function measureOpsPerSecond(fn: () => void, batch: number, timeMs: number): Promise<number> {
  const bench = new Bench({ time: timeMs, warmupTime: Math.min(100, timeMs / 3), throws: true });
  bench.add('x', () => {
    for (let i = 0; i < batch; i++) fn();
  });
  await bench.run();
  const task = bench.tasks[0];
  const result = task?.result as { latency?: { mean?: number } } | undefined;
  const meanMs = result?.latency?.mean;
  if (meanMs === undefined || !(meanMs > 0)) throw new Error('benchmark produced no samples');
  return (batch * 1000) / meanMs;
}

export function createBenchContext(): BenchContext {
  const results: BenchResult[] = [];
  const baselines = new Map<string, number>();

  const ctx: BenchContext = {
    results,
    baseline(id) {
      const v = baselines.get(id);
      if (v === undefined) throw new Error(`unknown baseline ${id}`);
      return v;
    },
    record(result) {
      results.push(result);
      if (result.id.startsWith('raw.')) baselines.set(result.id, result.value);
      return result;
    },
    async rate(id, fn, opts = {}) {
      const opsPerSec = (await measureOpsPerSecond(fn, opts.batch ?? 1, opts.timeMs ?? 300)) * (opts.opsPerCall ?? 1);
      const r: BenchResult = { id, value: opsPerSec, unit: opts.unit ?? 'ops/s', better: 'higher' };
      if (opts.baseline) {
        r.baseline = opts.baseline;
        r.ratio = opsPerSec / ctx.baseline(opts.baseline);
      }
      if (opts.min !== undefined) {
        r.target = `>= ${opts.min}`;
        r.met = opsPerSec >= opts.min;
      }
      return ctx.record(r);
    },
    async time(id, fn, opts) {
      const opsPerSec = await measureOpsPerSecond(fn, opts.batch ?? 1, opts.timeMs ?? 300);
      const value = (1000 / opsPerSec) * UNIT_SCALE[opts.unit];
      const r: BenchResult = { id, value, unit: opts.unit, better: 'lower' };
      if (opts.baseline) {
        // the operation's cost in baseline operations (e.g. bare loop iterations): seconds × ops/s
        r.baseline = opts.baseline;
        r.ratio = (value / UNIT_SCALE[opts.unit] / 1000) * ctx.baseline(opts.baseline);
      }
      if (opts.max !== undefined) {
        r.target = `<= ${opts.max}`;
        r.met = value <= opts.max;
      }
      return ctx.record(r);
    },
  };
  return ctx;
}

/** Measures the raw baselines every package's figures may be related to. */
export async function measureBaselines(ctx: BenchContext): Promise<void> {
  for (const [id, size] of [['raw.copy.4k', 4096], ['raw.copy.64k', 65536], ['raw.copy.1m', 1 << 20]] as const) {
    const src = new Uint8Array(size).fill(0x5a);
    const dst = new Uint8Array(size);
    const opsPerSec = await measureOpsPerSecond(() => dst.set(src), size >= 65536 ? 4 : 64, 300);
    ctx.record({ id, value: (opsPerSec * size) / 1e9, unit: 'GB/s', better: 'higher' });
  }
  let sink = 0;
  const loopOps = await measureOpsPerSecond(() => {
    sink = (sink + 1) % 1000003;
  }, 1000, 200);
  ctx.record({ id: 'raw.loop', value: loopOps, unit: 'ops/s', better: 'higher' });
  if (sink < 0) console.log(sink);
}
