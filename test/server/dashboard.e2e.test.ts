/**
 * The dashboard for real: `segsync serve` on a demo store, Debian's Chromium
 * driven by playwright-core. Enter the token, click "Resync now", wait for the
 * new run to show as succeeded, and check the screenshot is not blank.
 *
 * Needs /usr/bin/chromium (`apt-get install -y chromium`); skipped, saying so, without it.
 */
import { describe, it, expect } from 'vitest';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { chromium, type Browser } from 'playwright-core';
import { CLI, demoProject, startServe, TOKEN } from './fixture.js';
import { pngStats } from './png.js';

const CHROMIUM = '/usr/bin/chromium';

/** Runs in the page (no DOM types here): a run of `kind` newer than `after` shows as succeeded. */
type Rows = { querySelectorAll(sel: string): ArrayLike<{ getAttribute(name: string): string | null }> };
function newRunSucceeded(a: { kind: string; after: number }): boolean {
  const doc = (globalThis as unknown as { document: Rows }).document;
  return Array.from(doc.querySelectorAll(`tr[data-kind="${a.kind}"]`)).some((r) => Number(r.getAttribute('data-run-id')) > a.after && r.getAttribute('data-status') === 'succeeded');
}
const hasChromium = existsSync(CHROMIUM);
if (!hasChromium) {
  process.stderr.write(`dashboard end-to-end test SKIPPED: ${CHROMIUM} is absent (install it with: apt-get update && apt-get install -y chromium)\n`);
}

describe.skipIf(!hasChromium)(`dashboard in Chromium (${CHROMIUM})`, () => {
  it('sign in with the token, "Resync now", the new run shows as succeeded, the page renders', async () => {
    const project = await demoProject(1000, { maxChurn: 0, extra: 'server: { token: "${SEGSYNC_ADMIN_TOKEN}" }\n' });
    const prep = spawnSync(process.execPath, [CLI, 'run'], { cwd: project.dir, env: { ...process.env, CI: '1', SEGSYNC_ADMIN_TOKEN: TOKEN }, encoding: 'utf8', timeout: 60_000 });
    expect(prep.status, prep.stderr).toBe(0);
    const serve = await startServe(project.dir);
    let browser: Browser | undefined;
    try {
      browser = await chromium.launch({
        executablePath: CHROMIUM,
        headless: true,
        args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run'],
      });
      const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
      const problems: string[] = [];
      page.on('pageerror', (e) => problems.push(`page error: ${e.message}`));
      page.on('console', (m) => {
        if (m.type() === 'error') problems.push(`console: ${m.text()}`);
      });

      await page.goto(`${serve.url}/`);
      await page.locator('#token').fill(TOKEN);
      await page.getByRole('button', { name: 'Sign in' }).click();
      const row = page.locator('tr[data-connector-row="files"]');
      await row.waitFor({ timeout: 10_000 }).catch(async (e: unknown) => {
        throw new Error(`${String(e)}\nproblems: ${problems.join('; ')}\npage: ${(await page.content()).replace(/<script>[\s\S]*?<\/script>|<style>[\s\S]*?<\/style>/g, '').slice(0, 3000)}`);
      });
      await page.locator('#segments-body tr[data-segment-id]').first().waitFor();
      // the report's charts, under the dashboard's CSP (a blocked style or script would be a console error)
      await page.locator('#report svg[data-chart="profiles"], #report svg[data-chart="heatmap"]').first().waitFor({ timeout: 20_000 }).catch(async (e: unknown) => {
        throw new Error(`${String(e)}\nproblems: ${problems.join('; ')}\ncharts: ${await page.locator('#report-box').innerText()}`);
      });
      const segCount = await page.locator('#segments-body tr[data-segment-id]').count();
      expect(await page.locator('#report svg[data-chart="sizes"] g.bars_marks > path').count()).toBe(segCount);
      expect(await page.locator('#report article.ss-card').count()).toBe(segCount);
      const before = await page.$$eval('tr[data-run-id]', (rows) => Math.max(0, ...rows.map((r) => Number(r.getAttribute('data-run-id')))));
      expect(before).toBeGreaterThan(0);

      // the token is asked once: a reload keeps the session
      await page.reload();
      await row.waitFor({ timeout: 10_000 });
      expect(await page.locator('#login').isHidden()).toBe(true);

      await row.getByRole('button', { name: 'Resync now' }).click();
      await page.waitForFunction(newRunSucceeded, { kind: 'sync', after: before }, { timeout: 30_000 });
      expect(await page.locator('#notice').textContent()).toMatch(/Resync of files started: run #\d+/);
      const runs = (await serve.api('/api/runs?kind=sync&limit=1')).body.items as { id: number; trigger: string; status: string; counts: { read: number } }[];
      expect(runs[0]).toMatchObject({ trigger: 'manual', status: 'succeeded' });
      expect(runs[0]?.id).toBeGreaterThan(before);
      expect(await page.locator('#plan').textContent()).toMatch(/Nothing to push/);

      // a retrain that moves customers (push.maxChurn is 0 here): the plan is held until approved
      const k = ((await serve.api('/api/status')).body.model as { k: number }).k;
      const seg = await serve.api('/api/segment', { method: 'POST', body: { k: k === 3 ? 4 : 3 } });
      expect(seg.status).toBe(202);
      await page.reload();
      const approve = page.getByRole('button', { name: 'Approve' });
      await approve.waitFor({ timeout: 30_000 });
      expect(await page.locator('#plan').textContent()).toMatch(/Push held: .* above push\.maxChurn \(0\.0%\)/);
      expect(await page.locator('#plan tbody tr').count()).toBeGreaterThan(0);

      await page.locator('#report svg[data-chart="segment-map"]').waitFor({ timeout: 20_000 });
      const shot = await page.screenshot({ fullPage: true });
      const dir = join(project.dir, 'out');
      mkdirSync(dir, { recursive: true });
      writeFileSync(join(dir, 'dashboard.png'), shot);
      const stats = pngStats(shot);
      expect(stats.width).toBe(1280);
      expect(shot.length).toBeGreaterThan(30_000);
      expect(stats.colours).toBeGreaterThan(200);
      expect(stats.dominantShare).toBeLessThan(0.9);
      expect(problems).toEqual([]);

      const lastRun = await page.$$eval('tr[data-run-id]', (rows) => Math.max(0, ...rows.map((r) => Number(r.getAttribute('data-run-id')))));
      page.once('dialog', (d) => void d.accept());
      await approve.click();
      await page.waitForFunction(newRunSucceeded, { kind: 'push', after: lastRun }, { timeout: 30_000 });
      await page.getByText('Nothing to push').waitFor({ timeout: 10_000 });
      expect(problems).toEqual([]);

      // signing out forgets the token
      await page.getByRole('button', { name: 'Sign out' }).click();
      expect(await page.locator('#login').isVisible()).toBe(true);
      expect(await page.evaluate(() => (globalThis as unknown as { sessionStorage: { length: number } }).sessionStorage.length)).toBe(0);
    } finally {
      await browser?.close();
      serve.child.kill('SIGTERM');
      await serve.exited;
    }
  }, 60_000);
});
