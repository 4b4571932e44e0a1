import 'reflect-metadata';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { buildProgram } from '../cli/program';
import { parseCategoryFilter } from './filter';
import type { ChromeTrace } from './recorder';

async function cli(...argv: string[]): Promise<{ code: number; out: string; err: string }> {
  let out = '';
  let err = '';
  const code = await buildProgram({ out: (s) => (out += s), err: (s) => (err += s) }).run(argv);
  return { code, out, err };
}

async function traceOf(board: string, ...extra: string[]): Promise<{ trace: ChromeTrace; report: { swiotlb: { fullErrors: number } | null; devices: { name: string }[] } }> {
  const file = join(mkdtempSync(join(tmpdir(), 'dmasim-events-')), 'events.json');
  const r = await cli('run', board, '--json', '--events', file, ...extra);
  expect(r.err).toBe('');
  expect(r.code).toBe(0);
  return { trace: JSON.parse(readFileSync(file, 'utf8')) as ChromeTrace, report: JSON.parse(r.out) as never };
}

const body = (t: ChromeTrace): ChromeTrace['traceEvents'] => t.traceEvents.filter((e) => e.ph !== 'M');

describe('dmasim run --events', () => {
  it('writes Chrome trace-event JSON: named tracks, instants and probe spans on the simulated clock', async () => {
    const { trace, report } = await traceOf('juno-r1');
    expect(trace.displayTimeUnit).toBe('ns');
    const tracks = new Map(trace.traceEvents.filter((e) => e.name === 'thread_name').map((e) => [e.tid, (e.args as { name: string }).name]));
    const events = body(trace);
    for (const e of events) {
      expect(['i', 'X']).toContain(e.ph);
      expect(Number.isFinite(e.ts) && e.ts >= 0).toBe(true);
      expect(tracks.has(e.tid)).toBe(true);
      if (e.ph === 'X') expect(e.dur).toBeGreaterThanOrEqual(0);
      else expect(e.s).toBe('t');
    }
    // each device of the report that the kernel probed has its own track with a probe span
    const probed = new Set(events.filter((e) => e.cat === 'driver.probe').map((e) => tracks.get(e.tid)));
    for (const d of ['ehci', 'ohci', 'sata', 'lan']) expect(probed.has(d)).toBe(true);
    const cats = new Set(events.map((e) => e.cat));
    for (const c of ['driver.add', 'driver.bind', 'iommu.attach', 'iommu.map', 'iommu.fault']) expect(cats.has(c)).toBe(true);
    const attach = events.find((e) => e.cat === 'iommu.attach')!;
    expect(tracks.get(attach.tid)).toBe('ohci');
    expect(attach.args).toMatchObject({ type: 'DMA' });
    expect(report.devices.length).toBeGreaterThan(0);
  });

  it("--events-filter 'swiotlb.*' keeps only swiotlb events: one full event per full error on rpi4", async () => {
    const { trace, report } = await traceOf('rpi4', '--events-filter', 'swiotlb.*');
    const events = body(trace);
    expect(new Set(events.map((e) => e.cat))).toEqual(new Set(['swiotlb.full']));
    expect(events).toHaveLength(report.swiotlb!.fullErrors);
    expect(events[0]!.args).toMatchObject({ totalSlots: 32768 });
  });

  it('a leading - removes categories, and the report is the same with or without --events', async () => {
    const { trace } = await traceOf('juno-r1', '--events-filter', 'driver.*,-driver.add');
    const cats = new Set(body(trace).map((e) => e.cat));
    expect(cats.has('driver.add')).toBe(false);
    expect(cats.has('driver.bind')).toBe(true);
    expect([...cats].every((c) => c.startsWith('driver.'))).toBe(true);
    const plain = await cli('run', 'juno-r1', '--json');
    const traced = await traceOf('juno-r1');
    expect(JSON.parse(plain.out)).toEqual(traced.report);
  });

  it('refuses an empty pattern and a filter without --events', async () => {
    expect(parseCategoryFilter('iommu.*,,swiotlb.*')).toEqual({ error: expect.stringMatching(/empty pattern/) as unknown });
    const r = await cli('run', 'rpi4', '--events-filter', 'iommu.*');
    expect(r.code).toBe(1);
    expect(r.err).toMatch(/--events-filter needs --events FILE/);
  });

  it('globs match QEMU -trace style: * and ? only, dots literal', () => {
    const f = parseCategoryFilter('iommu.?ap,swiotlb.*') as (c: string) => boolean;
    expect(f('iommu.map')).toBe(true);
    expect(f('iommu.unmap')).toBe(false);
    expect(f('iommuxmap')).toBe(false);
    expect(f('swiotlb.full')).toBe(true);
  });
});
