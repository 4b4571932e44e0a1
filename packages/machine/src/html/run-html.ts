import type { ChromeTrace, TraceEvent } from '../events/recorder';
import type { RunReport } from '../report/types';
import { esc, page } from './page';

const ROW = 22;
const LEFT = 120;
const WIDTH = 900;

/** Trace tracks by name, and the events on each. */
function tracks(trace: ChromeTrace): { names: Map<number, string>; events: readonly TraceEvent[] } {
  const names = new Map<number, string>();
  for (const e of trace.traceEvents) if (e.ph === 'M' && e.name === 'thread_name') names.set(e.tid, String((e.args as { name: string }).name));
  return { names, events: trace.traceEvents.filter((e) => e.ph !== 'M') };
}

/**
 * The simulated clock is bursty (a whole boot can happen at one instant), so the x axis is the
 * order of distinct timestamps, labelled with their time: every event stays visible.
 */
function ordinalAxis(events: readonly TraceEvent[]): { x: (ts: number) => number; ticks: string } {
  const times = [...new Set(events.map((e) => e.ts))].sort((a, b) => a - b);
  const index = new Map(times.map((t, i) => [t, i]));
  const step = times.length > 1 ? (WIDTH - LEFT - 60) / (times.length - 1) : 0;
  const x = (ts: number): number => LEFT + (index.get(ts) ?? 0) * step;
  const every = Math.max(1, Math.ceil(times.length / 8));
  const ticks = times
    .filter((_, i) => i % every === 0)
    .map((t) => `<text x="${x(t).toFixed(1)}" y="12" text-anchor="middle" fill="#666">${(t / 1e6).toFixed(6)}s</text>`)
    .join('');
  return { x, ticks };
}

const MARK: Record<string, { color: string; label: string }> = {
  'driver.add': { color: '#888', label: 'device_add' },
  'driver.probe': { color: '#5b8def', label: 'probe' },
  'driver.defer': { color: '#e69500', label: 'deferred' },
  'driver.bind': { color: '#1a7f37', label: 'bound' },
  'driver.fail': { color: '#c00', label: 'probe failed' },
  'iommu.attach': { color: '#8250df', label: 'IOMMU attach' },
};

function probeTimeline(r: RunReport, trace: ChromeTrace): string {
  const { names, events } = tracks(trace);
  const driverEvents = events.filter((e) => MARK[e.cat] !== undefined);
  const axis = ordinalAxis(driverEvents);
  const devices = r.devices.map((d) => d.name);
  const rowOf = new Map(devices.map((d, i) => [d, i]));
  const h = 20 + devices.length * ROW;
  const parts: string[] = [axis.ticks];
  devices.forEach((d, i) => {
    const y = 20 + i * ROW;
    parts.push(`<text x="4" y="${y + 14}">${esc(d)}</text><line x1="${LEFT}" x2="${WIDTH - 10}" y1="${y + 10}" y2="${y + 10}" stroke="#eee"/>`);
  });
  for (const e of driverEvents) {
    const row = rowOf.get(names.get(e.tid) ?? '');
    if (row === undefined) continue;
    const y = 20 + row * ROW + 10;
    const m = MARK[e.cat]!;
    const x = axis.x(e.ts);
    const tip = `<title>${esc(`${names.get(e.tid) ?? ''}: ${e.name} at ${(e.ts / 1e6).toFixed(6)}s ${JSON.stringify(e.args ?? {})}`)}</title>`;
    if (e.cat === 'driver.probe') parts.push(`<rect x="${(x - 12).toFixed(1)}" y="${y - 6}" width="10" height="12" fill="${m.color}" opacity="0.5">${tip}</rect>`);
    else if (e.cat === 'driver.defer') parts.push(`<path d="M${x.toFixed(1)} ${y - 6}l6 12h-12z" fill="${m.color}">${tip}</path>`);
    else if (e.cat === 'iommu.attach') parts.push(`<path d="M${x.toFixed(1)} ${y - 7}l6 7-6 7-6-7z" fill="${m.color}">${tip}</path>`);
    else parts.push(`<circle cx="${x.toFixed(1)}" cy="${y}" r="${e.cat === 'driver.add' ? 3 : 5}" fill="${m.color}">${tip}</circle>`);
  }
  const legend = Object.values(MARK)
    .map((m) => `<span><svg width="10" height="10"><rect width="10" height="10" fill="${m.color}"/></svg> ${m.label}</span>`)
    .join('');
  return `<section id="timeline"><h2>Probe timeline</h2><div class="legend">${legend}</div><svg width="${WIDTH}" height="${h}" role="img" aria-label="probe timeline">${parts.join('')}</svg></section>`;
}

/** A step chart of `value` over the events that change it. */
function stepChart(points: readonly { ts: number; value: number }[], max: number, color: string, marks: readonly number[], label: string): string {
  const H = 120;
  const all = [...points.map((p) => ({ ts: p.ts, cat: '' })), ...marks.map((ts) => ({ ts, cat: '' }))] as unknown as TraceEvent[];
  const axis = ordinalAxis(all);
  const y = (v: number): number => 20 + H - (max === 0 ? 0 : (v / max) * H);
  let d = `M${LEFT} ${y(0)}`;
  for (const p of points) d += `H${axis.x(p.ts).toFixed(1)}V${y(p.value).toFixed(1)}`;
  d += `H${WIDTH - 10}`;
  const markSvg = marks.map((ts) => `<line x1="${axis.x(ts).toFixed(1)}" x2="${axis.x(ts).toFixed(1)}" y1="20" y2="${20 + H}" stroke="#c00" stroke-width="2" opacity="0.6"><title>full error at ${(ts / 1e6).toFixed(6)}s</title></line>`).join('');
  return `<svg width="${WIDTH}" height="${H + 30}" role="img" aria-label="${esc(label)}">${axis.ticks}<text x="4" y="28">${esc(String(max))}</text><text x="4" y="${20 + H}">0</text><rect x="${LEFT}" y="20" width="${WIDTH - LEFT - 10}" height="${H}" fill="none" stroke="#ddd"/><path d="${d}" fill="none" stroke="${color}" stroke-width="2"/>${markSvg}</svg>`;
}

function iovaPanels(trace: ChromeTrace): string {
  const { names, events } = tracks(trace);
  const byDomain = new Map<string, { ts: number; value: number }[]>();
  const live = new Map<string, number>();
  for (const e of events) {
    if (e.cat !== 'iommu.map' && e.cat !== 'iommu.unmap') continue;
    const dom = names.get(e.tid) ?? '?';
    const a = e.args as { size: number; unmapped?: number };
    const now = (live.get(dom) ?? 0) + (e.cat === 'iommu.map' ? a.size : -(a.unmapped ?? 0));
    live.set(dom, now);
    const pts = byDomain.get(dom) ?? [];
    pts.push({ ts: e.ts, value: now });
    byDomain.set(dom, pts);
  }
  const body =
    byDomain.size === 0
      ? '<p>No IOVA mappings were made (no device DMA went through an IOMMU domain).</p>'
      : [...byDomain]
          .map(([dom, pts]) => {
            const peak = Math.max(...pts.map((p) => p.value));
            return `<h3>${esc(dom)}: ${pts.length} map/unmap calls, peak ${peak} bytes mapped</h3>${stepChart(pts, peak, '#8250df', [], `IOVA space of ${dom}`)}`;
          })
          .join('');
  return `<section id="iova"><h2>IOVA space per domain (bytes mapped over time)</h2>${body}</section>`;
}

function swiotlbPanel(r: RunReport, trace: ChromeTrace): string {
  if (r.swiotlb === null) return '<section id="swiotlb"><h2>swiotlb</h2><p>No swiotlb pool on this machine.</p></section>';
  const { events } = tracks(trace);
  const pts: { ts: number; value: number }[] = [];
  const full: number[] = [];
  for (const e of events) {
    if (e.cat === 'swiotlb.bounce' || e.cat === 'swiotlb.release') pts.push({ ts: e.ts, value: (e.args as { usedSlots: number }).usedSlots });
    if (e.cat === 'swiotlb.full') full.push(e.ts);
  }
  const s = r.swiotlb;
  const peak = Math.max(s.maxUsedSlots, ...pts.map((p) => p.value), 1);
  return `<section id="swiotlb"><h2>swiotlb occupancy</h2><p>${s.totalSlots} slots, at most ${s.maxUsedSlots} used, ${s.dynamicBuffers} dynamic buffers, <span class="full" id="swiotlb-full">${s.fullErrors} full error${s.fullErrors === 1 ? '' : 's'}</span> (red lines)</p>${stepChart(pts, peak, '#1f6feb', full, 'swiotlb used slots')}</section>`;
}

function topology(r: RunReport): string {
  const buses = [...new Set(r.devices.map((d) => d.bus))];
  const iommus = r.iommus.map((i) => i.name);
  const banks = [...new Set(r.devices.filter((d) => d.iommu?.contextBank != null).map((d) => `${d.iommu!.name} cb${d.iommu!.contextBank}`))];
  const cols = [buses, r.devices.map((d) => d.name), iommus, banks];
  const colX = [10, 230, 470, 700];
  const rows = Math.max(1, ...cols.map((c) => c.length));
  const pos = (col: number, i: number): { x: number; y: number } => ({ x: colX[col]!, y: 30 + i * 26 });
  const parts: string[] = [];
  ['buses', 'devices', 'IOMMUs', 'context banks'].forEach((t, c) => parts.push(`<text x="${colX[c]}" y="14" font-weight="bold">${t}</text>`));
  const edge = (a: { x: number; y: number }, b: { x: number; y: number }, color: string): void => {
    parts.push(`<line x1="${a.x + 150}" y1="${a.y}" x2="${b.x}" y2="${b.y}" stroke="${color}"/>`);
  };
  r.devices.forEach((d, i) => {
    edge(pos(0, buses.indexOf(d.bus)), pos(1, i), '#bbb');
    if (d.iommu !== null) {
      const color = d.iommu.route === 'translated' ? '#8250df' : d.iommu.route === 'bypass' ? '#c00' : '#e69500';
      edge(pos(1, i), pos(2, iommus.indexOf(d.iommu.name)), color);
      if (d.iommu.contextBank !== null) edge(pos(2, iommus.indexOf(d.iommu.name)), pos(3, banks.indexOf(`${d.iommu.name} cb${d.iommu.contextBank}`)), '#8250df');
    }
  });
  cols.forEach((c, ci) => c.forEach((name, i) => {
    const p = pos(ci, i);
    parts.push(`<rect x="${p.x}" y="${p.y - 10}" width="150" height="20" rx="4" fill="#fff" stroke="#888"/><text x="${p.x + 6}" y="${p.y + 4}">${esc(name)}</text>`);
  }));
  return `<section id="topology"><h2>Topology</h2><p class="legend"><span style="color:#8250df">translated</span><span style="color:#c00">bypass</span><span style="color:#e69500">blocked / unknown</span></p><svg width="${WIDTH}" height="${40 + rows * 26}" role="img" aria-label="topology">${parts.join('')}</svg></section>`;
}

export function problemsSection(problems: RunReport['problems']): string {
  if (problems.length === 0) return '<section id="problems"><h2>Problems</h2><p class="ok">None.</p></section>';
  const rows = problems.map((p) => `<tr><td class="kind">${esc(p.kind)}</td><td>${esc(p.device ?? '')}</td><td>${esc(p.detail)}</td></tr>`).join('');
  return `<section id="problems"><h2>Problems (${problems.length}, most severe first)</h2><table>${rows}</table></section>`;
}

/** The `run --html` page: outcome, problems, probe timeline, IOVA, swiotlb and topology. */
export function renderRunHtml(r: RunReport, trace: ChromeTrace): string {
  const head = `<h1>dmasim: ${esc(r.board)}</h1><p>seed ${r.seed}, profile ${esc(r.profile)}, arch ${esc(r.arch)}: outcome <b class="${r.outcome}">${r.outcome.toUpperCase()}</b></p>`;
  return page(`dmasim ${r.board}`, [head, problemsSection(r.problems), probeTimeline(r, trace), topology(r), swiotlbPanel(r, trace), iovaPanels(trace)].join('\n'));
}
