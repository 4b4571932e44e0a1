import type { BenchContext } from '@dmasim/bench-harness';
import { join, resolve } from 'node:path';
import { exampleBoards, parseBoard } from '../src/board/load';
import { PluginRegistry } from '../src/machine/plugins';
import { explore, inlineRunner } from '../src/explore/explore';
import { Machine } from '../src/machine/machine';
import { loadBoardWithPlugins, runLoaded } from '../src/machine/run';
import { TraceRecorder } from '../src/events/recorder';
import { renderRunHtml } from '../src/html/run-html';

const SCENARIOS = resolve(import.meta.dirname, '../../../examples/scenarios');
/** Seconds one probe order of Debian's arm64 6.1 kernel takes under QEMU TCG (measured for issue 13). */
const QEMU_BOOT_S = 4.3;

export default async function machineBench(ctx: BenchContext): Promise<void> {
  for (const name of exampleBoards()) {
    const { loaded, registry } = await loadBoardWithPlugins(name);
    await ctx.time(`machine.boot.${name}`, () => new Machine(loaded, { registry }).boot(), { unit: 'ms', max: 20, timeMs: 500 });
  }
  // a board with 1,000 masters on one platform bus
  const big = parseBoard({
    name: 'thousand',
    kernel: { arch: 'generic', profile: 'linux-6.x' },
    memory: [{ base: 0x80000000, size: '4GiB' }],
    buses: [{ name: 'soc', type: 'platform' }],
    devices: Array.from({ length: 1000 }, (_, i) => ({ name: `d${i}`, compatible: 'generic-ehci', bus: 'soc', base: 0x1000_0000 + i * 0x10000 })),
  }, 'thousand.json');
  const registry = new PluginRegistry();
  await ctx.time('machine.boot.1000-devices', () => new Machine(big, { registry }).boot(), { unit: 'ms', max: 1000, timeMs: 1000 });

  const rpi4 = await loadBoardWithPlugins('rpi4');
  const boots = await ctx.rate('explore.boots', () => new Machine(rpi4.loaded, { registry: rpi4.registry }).boot(), { unit: 'boots/s', min: 2000, timeMs: 500 });
  // the real anchor: one probe order of Debian's arm64 6.1 kernel under QEMU TCG costs about 4.3 s
  ctx.record({ id: 'explore.boots.vs-qemu', value: boots.value * QEMU_BOOT_S, unit: 'x', better: 'higher' });

  // exhaustive exploration with exact explanations, one worker (inline), as `dmasim explore --workers 1`
  for (const [id, ref, maxS] of [
    ['explore.arm64-2015-ordering', join(SCENARIOS, 'arm64-2015-ordering.yaml'), 1],
    ['explore.juno-r1', 'juno-r1', 5],
    ['explore.context-banks-per-group', join(SCENARIOS, 'context-banks-per-group.yaml'), undefined],
  ] as const) {
    const b = await loadBoardWithPlugins(ref);
    const t = performance.now();
    const r = await explore(b.loaded, inlineRunner(b.loaded, b.registry), { orders: 'all' });
    const s = (performance.now() - t) / 1000;
    ctx.record({ id, value: s, unit: 's', better: 'lower', ...(maxS !== undefined ? { target: `<= ${maxS}`, met: s <= maxS && r.outcomes.every((o) => o.explanation.exact) } : {}) });
    ctx.record({ id: `${id}.runs`, value: r.runs, unit: 'runs', better: 'lower' });
    ctx.record({ id: `${id}.orders`, value: r.orders, unit: 'orders', better: 'higher' });
    // every order explored in that time, against one QEMU boot per order
    ctx.record({ id: `${id}.vs-qemu`, value: (r.orders * QEMU_BOOT_S) / s, unit: 'x', better: 'higher' });
  }

  const eight = await loadBoardWithPlugins(join(SCENARIOS, 'eight-masters.yaml'));
  let last = { runs: 0, pruned: 0, orders: 0 };
  const t0 = performance.now();
  last = await explore(eight.loaded, inlineRunner(eight.loaded, eight.registry), { orders: 'all' });
  const seconds = (performance.now() - t0) / 1000;
  ctx.record({ id: 'explore.8-masters', value: seconds, unit: 's', better: 'lower', target: '<= 10', met: seconds <= 10 });
  ctx.record({ id: 'explore.8-masters.runs', value: last.runs, unit: 'runs', better: 'lower' });
  ctx.record({ id: 'explore.8-masters.pruned', value: last.pruned, unit: 'runs', better: 'higher' });
  ctx.record({ id: 'explore.8-masters.orders', value: last.orders, unit: 'orders', better: 'higher' });

  // `run --html`: the events recorded during the run and the page rendered from them, against the run itself
  const juno = await loadBoardWithPlugins('juno-r1');
  const plain = await ctx.time('report.html.juno-r1.run', () => runLoaded(juno.loaded, juno.registry), { unit: 'ms', timeMs: 500 });
  const withHtml = await ctx.time(
    'report.html.juno-r1.run-with-html',
    () => {
      let rec: TraceRecorder | null = null;
      const { report } = runLoaded(juno.loaded, juno.registry, {}, (m) => (rec = new TraceRecorder(m, () => true)));
      renderRunHtml(report, (rec as unknown as TraceRecorder).trace());
    },
    { unit: 'ms', timeMs: 500 },
  );
  const ratio = (withHtml.value - plain.value) / plain.value;
  ctx.record({ id: 'report.html.juno-r1', value: ratio, unit: 'x', better: 'lower', target: '<= 2', met: ratio <= 2 });
}
