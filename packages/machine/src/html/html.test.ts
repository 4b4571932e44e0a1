import 'reflect-metadata';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { buildProgram } from '../cli/program';

const SCENARIOS = resolve(import.meta.dirname, '../../../../examples/scenarios');

async function cli(...argv: string[]): Promise<{ code: number; out: string; err: string }> {
  let out = '';
  let err = '';
  const code = await buildProgram({ out: (s) => (out += s), err: (s) => (err += s) }).run(argv);
  return { code, out, err };
}

async function html(...argv: string[]): Promise<{ page: string; out: string }> {
  const file = join(mkdtempSync(join(tmpdir(), 'dmasim-html-')), 'report.html');
  const r = await cli(...argv, '--html', file);
  expect(r.err).toBe('');
  expect(r.code).toBe(0);
  return { page: readFileSync(file, 'utf8'), out: r.out };
}

/** The text of one section of the page. */
function section(page: string, id: string): string {
  const start = page.indexOf(`<section id="${id}"`);
  expect(start).toBeGreaterThanOrEqual(0);
  return page.slice(start, page.indexOf('</section>', start));
}

describe('--html reports', () => {
  it('run rpi4: one self-contained page whose timeline lists every device and whose swiotlb panel shows the full errors', async () => {
    const { page, out } = await html('run', 'rpi4', '--json');
    const report = JSON.parse(out) as { devices: { name: string }[]; swiotlb: { fullErrors: number } };
    // nothing fetched: no scripts, no external URLs
    expect(page).not.toMatch(/<script|<link|src=|https?:\/\//i);
    const timeline = section(page, 'timeline');
    for (const d of report.devices) expect(timeline).toContain(`>${d.name}</text>`);
    expect(report.swiotlb.fullErrors).toBeGreaterThan(0);
    const tlb = section(page, 'swiotlb');
    expect(tlb).toContain(`${report.swiotlb.fullErrors} full errors`);
    expect(tlb.match(/full error at/g)).toHaveLength(report.swiotlb.fullErrors);
    expect(section(page, 'problems')).toContain('workload-failed');
  });

  it('run juno-r1: the topology joins the masters to their IOMMUs and context banks, and the IOVA panel has the domain', async () => {
    const { page } = await html('run', 'juno-r1');
    const topo = section(page, 'topology');
    for (const n of ['soc', 'pcie0', 'ehci', 'ohci', 'smmu_usb', 'smmu_pcie', 'smmu_usb cb0']) expect(topo).toContain(`>${n}</text>`);
    expect(section(page, 'iova')).toMatch(/domain \d+: \d+ map\/unmap calls/);
  });

  it('explore arm64-2015-ordering: each outcome with its count, explanation and example order', async () => {
    const { page } = await html('explore', join(SCENARIOS, 'arm64-2015-ordering.yaml'), '--workers', '1', '--quiet', '--json');
    const outcomes = page.match(/<section class="outcome"/g) ?? [];
    expect(outcomes.length).toBeGreaterThan(1);
    expect(page.match(/<p class="explanation">happens exactly when: [^<]+<\/p>/g)).toHaveLength(outcomes.length);
    expect(page).toMatch(/#1 <span class="\w+">\w+<\/span>: \d+ of \d+ orders/);
    expect(page).toContain('device-add');
  });
});
