/**
 * End to end in Debian's Chromium (playwright-core, no browser download): the
 * report renders, is not blank, and no request leaves the page. Skipped only
 * when /usr/bin/chromium is absent (`apt-get install -y chromium`).
 */
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { chromium, type Browser } from 'playwright-core';
import { writeReport } from '../../src/report/index.js';
import { buildReportStore, type ReportFixture } from './fixture.js';

const CHROMIUM = '/usr/bin/chromium';
const HAVE = existsSync(CHROMIUM);
const SKIP = `SKIPPED: ${CHROMIUM} is absent — install Debian's chromium (apt-get install -y chromium) to run this test`;

let fx: ReportFixture | undefined;
let browser: Browser | undefined;

beforeAll(async () => {
  if (!HAVE) {
    process.stderr.write(`\n${SKIP}\n`);
    return;
  }
  fx = await buildReportStore();
  browser = await chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run'],
  });
}, 60_000);

afterAll(async () => {
  await browser?.close();
  fx?.store.close();
});

describe('the report in Chromium', () => {
  it.skipIf(!HAVE)(HAVE ? 'renders offline: only the file itself is requested, the page is not blank' : SKIP, async () => {
    const file = join(fx!.dir, 'report.html');
    await writeReport(fx!.store, file, {});
    const url = pathToFileURL(file).href;
    const page = await browser!.newPage({ viewport: { width: 1280, height: 900 } });
    const requests: string[] = [];
    const problems: string[] = [];
    page.on('request', (r) => requests.push(r.url()));
    page.on('console', (m) => {
      if (m.type() === 'error' || m.type() === 'warning') problems.push(m.text());
    });
    page.on('pageerror', (e) => problems.push(e.message));
    await page.goto(url, { waitUntil: 'load' });
    expect(await page.locator('svg[data-chart]').count()).toBe(6); // sizes, revenue, map, heat map, model selection, quality
    expect(await page.locator('svg[data-chart="segment-map"] g.points_marks > path').count()).toBe(fx!.clustered);
    const shot = await page.screenshot({ fullPage: true });
    await page.close();
    expect(requests).toEqual([url]);
    expect(problems).toEqual([]);

    // not blank: decode the PNG in a blank page and count the pixels that are not background
    const probe = await browser!.newPage();
    // (a string, evaluated in the page: this project compiles without the DOM types)
    const stats = (await probe.evaluate(`(async () => {
      const img = new Image();
      img.src = 'data:image/png;base64,${shot.toString('base64')}';
      await img.decode();
      const canvas = document.createElement('canvas');
      canvas.width = img.width;
      canvas.height = img.height;
      const g = canvas.getContext('2d');
      g.drawImage(img, 0, 0);
      const px = g.getImageData(0, 0, img.width, img.height).data;
      let ink = 0, seen = 0;
      const colours = new Set();
      for (let i = 0; i < px.length; i += 4 * 7) {
        const r = px[i], gg = px[i + 1], b = px[i + 2];
        seen++;
        if (r < 235 || gg < 235 || b < 235) ink++;
        colours.add((r >> 4) * 256 + (gg >> 4) * 16 + (b >> 4));
      }
      return { width: img.width, height: img.height, inkShare: ink / seen, colours: colours.size };
    })()`)) as { width: number; height: number; inkShare: number; colours: number };
    await probe.close();
    expect(stats.width).toBe(1280);
    expect(stats.height).toBeGreaterThan(2500);
    expect(stats.inkShare).toBeGreaterThan(0.05);
    expect(stats.colours).toBeGreaterThan(50);
  }, 60_000);
});
