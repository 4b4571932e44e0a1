import 'reflect-metadata';
import { existsSync, mkdirSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { BrowserContext, Page } from 'playwright-core';
import { buildProgram } from '../cli/program';

/** Debian's chromium (CI installs it; a browser is never downloaded). */
const CHROMIUM = '/usr/bin/chromium';
const REPO = resolve(import.meta.dirname, '../../../..');
const SCENARIOS = join(REPO, 'examples/scenarios');
/** Screenshots are kept here as test artefacts. */
const ARTIFACTS = process.env.DMASIM_ARTIFACTS ?? join(REPO, 'artifacts/html-reports');

async function cli(...argv: string[]): Promise<{ code: number; out: string }> {
  let out = '';
  const code = await buildProgram({ out: (s) => (out += s), err: () => undefined }).run(argv);
  return { code, out };
}

const hasChromium = existsSync(CHROMIUM);
if (!hasChromium) console.warn(`html browser tests skipped: ${CHROMIUM} is absent (apt-get install -y chromium)`);

describe.skipIf(!hasChromium)(`HTML reports in Debian chromium (${CHROMIUM})`, () => {
  let context: BrowserContext;
  const dir = mkdtempSync(join(tmpdir(), 'dmasim-browser-'));

  beforeAll(async () => {
    const { chromium } = await import('playwright-core');
    context = await chromium.launchPersistentContext(mkdtempSync(join(tmpdir(), 'dmasim-chromium-profile-')), {
      executablePath: CHROMIUM,
      headless: true,
      args: ['--headless', '--no-sandbox', '--disable-gpu', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
    });
    mkdirSync(ARTIFACTS, { recursive: true });
  }, 60_000);
  afterAll(async () => {
    await context?.close();
  });

  /** Opens a report, failing on any console error or page error, and saves its screenshot. */
  async function open(file: string, shot: string): Promise<{ page: Page; errors: string[] }> {
    const page = await context.newPage();
    const errors: string[] = [];
    page.on('console', (m) => {
      if (m.type() === 'error') errors.push(m.text());
    });
    page.on('pageerror', (e) => errors.push(e.message));
    await page.goto(pathToFileURL(file).href);
    await page.screenshot({ path: join(ARTIFACTS, shot), fullPage: true });
    return { page, errors };
  }

  it('rpi4: the timeline shows every device and the swiotlb panel the full errors', async () => {
    const file = join(dir, 'rpi4.html');
    const r = await cli('run', 'rpi4', '--json', '--html', file);
    expect(r.code).toBe(0);
    const report = JSON.parse(r.out) as { devices: { name: string }[]; swiotlb: { fullErrors: number } };
    const { page, errors } = await open(file, 'rpi4.png');
    const rows = await page.locator('#timeline svg text').allTextContents();
    for (const d of report.devices) expect(rows).toContain(d.name);
    expect(await page.locator('#swiotlb-full').textContent()).toBe(`${report.swiotlb.fullErrors} full errors`);
    expect(await page.locator('#swiotlb line').count()).toBe(report.swiotlb.fullErrors);
    expect(await page.locator('#swiotlb svg').isVisible()).toBe(true);
    expect(errors).toEqual([]);
    await page.close();
  }, 60_000);

  it('arm64-2015-ordering: run and explore reports; every outcome lists its explanation', async () => {
    const board = join(SCENARIOS, 'arm64-2015-ordering.yaml');
    const runFile = join(dir, 'arm64-2015-ordering.run.html');
    expect((await cli('run', board, '--html', runFile)).code).toBe(0);
    const run = await open(runFile, 'arm64-2015-ordering.run.png');
    const rows = await run.page.locator('#timeline svg text').allTextContents();
    for (const d of ['ohci', 'ehci']) expect(rows).toContain(d);
    expect(run.errors).toEqual([]);
    await run.page.close();

    const exploreFile = join(dir, 'arm64-2015-ordering.explore.html');
    const r = await cli('explore', board, '--workers', '1', '--quiet', '--json', '--html', exploreFile);
    expect(r.code).toBe(0);
    const summary = JSON.parse(r.out) as { outcomes: { count: number; explanation: { text: string } }[] };
    const { page, errors } = await open(exploreFile, 'arm64-2015-ordering.explore.png');
    expect(await page.locator('.explanation').allTextContents()).toEqual(summary.outcomes.map((o) => o.explanation.text));
    const heads = await page.locator('section.outcome > h2').allTextContents();
    summary.outcomes.forEach((o, i) => expect(heads[i]).toContain(`${o.count} of`));
    expect(errors).toEqual([]);
    await page.close();
  }, 120_000);
});
