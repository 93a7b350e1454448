/** The report on an in-process store: every chart present with the right number of marks, nothing external, text escaped. */
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { existsSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { gatherReportData, mapSnapshot, MAP_SNAPSHOT_KEY, renderReport, renderReportSections, writeReport, REPORT_CSS } from '../../src/report/index.js';
import { buildFeatures, RFM_COLUMNS } from '../../src/features/build.js';
import { applyPrep } from '../../src/features/prep.js';
import { readSavedModel } from '../../src/segment/saved-model.js';
import { buildReportStore, marks, NOW, parse, type El, type ReportFixture } from './fixture.js';
import { writeRunReport } from '../../src/cli/commands/report.js';
import { sampleAggregates } from '../../src/report/scan.js';
import { ROOT } from '../e2e/helpers.js';
import { jobContext } from '../support/store-fixture.js';

let fx: ReportFixture;
let doc: El;
let html: string;
const SAMPLE = 500;

beforeAll(async () => {
  fx = await buildReportStore();
  const r = await renderReport(fx.store, { sampleSize: SAMPLE, seed: 7, now: () => new Date(NOW), connectorTypes: { files: 'csv' } });
  html = r.html;
  doc = parse(html);
});
afterAll(() => fx.store.close());

const segments = (): El[] => [...doc.querySelectorAll('article.ss-card')];

describe('segsync report: charts', () => {
  it('draws one point per sampled customer on the segment map, and density contours', () => {
    expect(marks(doc, 'segment-map', 'points')).toHaveLength(SAMPLE);
    // one line per contour: at least a 50% and a 90% line per clustered segment
    const lines = doc.querySelectorAll('svg[data-chart="segment-map"] g.contours_marks > path');
    expect(lines.length).toBeGreaterThanOrEqual(2 * (segments().length - 1));
    // a label per clustered segment
    const clustered = segments().length - 1; // minus "No purchases yet"
    expect(marks(doc, 'segment-map', 'labels')).toHaveLength(clustered);
  });

  it('draws all clustered customers when there are fewer than the sample size', async () => {
    const { html: all } = await renderReport(fx.store, { now: () => new Date(NOW) });
    expect(marks(parse(all), 'segment-map', 'points')).toHaveLength(fx.clustered);
  });

  it('has one heat-map cell per segment and feature, each with its values in an SVG <title>', () => {
    const cells = marks(doc, 'heatmap', 'cells');
    const clustered = segments().length - 1;
    expect(cells).toHaveLength(clustered * RFM_COLUMNS.length);
    for (const c of cells) expect(c.querySelector('title')?.textContent).toMatch(/on average vs .* for all customers \([+−-]?\d/);
  });

  it('has one bar per segment for sizes and for revenue share', () => {
    const n = segments().length;
    expect(n).toBeGreaterThanOrEqual(4);
    expect(marks(doc, 'sizes', 'bars')).toHaveLength(n);
    expect(marks(doc, 'revenue', 'bars')).toHaveLength(n);
    const titles = marks(doc, 'sizes', 'bars').map((b) => b.querySelector('title')?.textContent ?? '');
    expect(titles.some((t) => /No purchases yet: 60 customers/.test(t))).toBe(true);
  });

  it('plots every candidate for each index and rings the chosen one', async () => {
    const model = fx.store.models.activeModel();
    const cands = (model?.candidates ?? []) as { k: number; chosen: boolean }[];
    expect(cands.length).toBe(3); // k 3..5
    for (const m of ['silhouette', 'daviesBouldin', 'calinskiHarabasz']) {
      expect(marks(doc, 'model-selection', `points_${m}`)).toHaveLength(cands.length);
      expect(marks(doc, 'model-selection', `chosen_${m}`)).toHaveLength(1);
    }
    const chosenRow = doc.querySelector('table.ss-candidates tr.ss-chosen');
    expect(chosenRow?.textContent).toContain(String(cands.find((c) => c.chosen)?.k));
  });

  it('counts quarantined records by reason and connector, ids folded into one reason', () => {
    const bars = marks(doc, 'quality', 'bars');
    expect(bars).toHaveLength(3); // bad amount, contact … not found (transactions), bad email (contacts)
    const tips = bars.map((b) => b.querySelector('title')?.textContent ?? '');
    expect(tips).toContain('files · transactions · bad amount: 7 records');
    expect(tips).toContain("files · transactions · contact … not found in this connector's contacts: 3 records");
    expect(doc.querySelector('table.ss-streams')?.textContent).toContain('8,100');
  });

  it('shows the moves since the previous model with the churn', () => {
    const table = doc.querySelector('table.ss-moves');
    expect(table).not.toBeNull();
    const cellsSum = [...(table?.querySelectorAll('tbody td.num') ?? [])]
      .filter((td) => td.nextElementSibling !== null)
      .reduce((a, td) => a + (Number((td.textContent ?? '').replace(/[^\d]/g, '')) || 0), 0);
    expect(cellsSum).toBe(fx.clustered + fx.idle);
    const churn = fx.store.models.activeModel()?.metrics.churn as number;
    expect(doc.querySelector('#ss-moves .ss-intro')?.textContent).toContain(`${(churn * 100).toFixed(1)}%`);
  });

  it('has a card per segment with size, distinguishing features and the push target with its last push time', () => {
    const live = fx.store.models.segments();
    expect(segments()).toHaveLength(live.length);
    for (const card of segments()) {
      const text = card.textContent ?? '';
      expect(text).toMatch(/customers · [\d.]+% of all/);
      expect(text).toMatch(/memberships file “.+” on files: last push 2026-07-01 00:00 UTC: [\d,]+ added, 0 removed/);
    }
    const champion = segments().find((c) => !/No purchases yet/.test(c.textContent ?? ''));
    expect(champion?.querySelectorAll('li .ss-up, li .ss-down').length).toBeGreaterThan(0);
  });

  it('draws no dendrogram for k-means', () => {
    expect(fx.store.models.activeModel()?.algorithm).toBe('kmeans');
    expect(doc.querySelector('svg[data-chart="dendrogram"]') === null).toBe(true);
  });
});

describe('segsync report: one self-contained file', () => {
  it('loads nothing from anywhere: no script, no link, no http(s) URL in any attribute, a CSP that forbids fetching', () => {
    expect(doc.querySelectorAll('script, link, iframe, object, embed, img, use[href^="http"]').length).toBe(0);
    const offenders: string[] = [];
    for (const el of doc.querySelectorAll('*')) {
      for (const a of Array.from(el.attributes)) {
        if (/^(src|href|xlink:href|action|formaction|data|poster|srcset)$/i.test(a.name) && !a.value.startsWith('#')) offenders.push(`${el.tagName} ${a.name}=${a.value}`);
        if (/(https?:)?\/\//i.test(a.value) && a.name !== 'content') offenders.push(`${el.tagName} ${a.name}=${a.value}`);
      }
    }
    expect(offenders).toEqual([]);
    for (const style of doc.querySelectorAll('style')) expect(style.textContent ?? '').not.toMatch(/url\(|@import/);
    expect(doc.querySelector('meta[http-equiv="Content-Security-Policy"]')?.getAttribute('content')).toMatch(/default-src 'none'/);
    // ids are unique across the inlined charts (a gradient of one chart must not paint another)
    const ids = [...doc.querySelectorAll('[id]')].map((e) => e.id);
    expect(new Set(ids).size).toBe(ids.length);
  });

  it('escapes every name and description from the store', async () => {
    const { fixture } = await import('./xss-fixture.js');
    const store = await fixture('<img src=x onerror=alert(1)>');
    try {
      const { html: evil } = await renderReport(store, { now: () => new Date(NOW) });
      const d = parse(evil);
      expect(d.querySelectorAll('img, script').length).toBe(0);
      expect(evil).toContain('&lt;img src=x onerror=alert(1)&gt;');
    } finally {
      store.close();
    }
  });

  it('samples the map deterministically for a seed, differently for another', async () => {
    const a = (await gatherReportData(fx.store, { sampleSize: SAMPLE, seed: 7 })).map?.points;
    const b = (await gatherReportData(fx.store, { sampleSize: SAMPLE, seed: 8 })).map?.points;
    expect(a).toHaveLength(SAMPLE);
    expect((await gatherReportData(fx.store, { sampleSize: SAMPLE, seed: 7 })).map?.points).toEqual(a);
    expect(b).not.toEqual(a);
  });

  it('writes the file atomically and says where; sections are reusable by the dashboard', async () => {
    const file = join(fx.dir, 'out', 'report.html');
    const w = await writeReport(fx.store, file, { now: () => new Date(NOW) });
    expect(w.file).toBe(file);
    expect(existsSync(file)).toBe(true);
    expect(statSync(file).size).toBe(w.bytes);
    expect(readFileSync(file, 'utf8')).toMatch(/^<!doctype html>/);
    const sections = await renderReportSections(fx.store, { now: () => new Date(NOW) });
    expect(sections.map((s) => s.id)).toEqual(['overview', 'segments', 'map', 'profiles', 'moves', 'model', 'quality']);
    for (const s of sections) expect(s.html).not.toMatch(/<script|<html|<style/);
    expect(REPORT_CSS).toContain('.segsync-report');
  });

  it('writeRunReport (for segsync run / npm start) writes report.html next to the store and returns its path', async () => {
    const ctx = jobContext(fx.config, fx.store);
    const printed = await writeRunReport(ctx);
    expect(printed).toBe(join(fx.dir, 'report.html'));
    expect(readFileSync(printed, 'utf8')).toContain('svg data-chart="segment-map"');
  });

  it('splits the transactions scan between worker threads with the same result as one thread', async () => {
    const script = join(ROOT, 'dist/src/report/scan-worker.js');
    expect(existsSync(script), `${script} is missing: run npm run build`).toBe(true);
    const model = fx.store.models.activeModel()!;
    const ids = [...fx.store.models.memberships(model.id).keys()].filter((_, i) => i % 3 === 0);
    const one = await sampleAggregates(fx.store, ids, { threads: 1 });
    const three = await sampleAggregates(fx.store, ids, { threads: 3, minRowsPerThread: 1, workerScript: script });
    expect(one.threads).toBe(1);
    expect(three.threads).toBe(3);
    // a customer's transactions may fall in two threads' slots: merge as buildFeatures does, then compare
    const merged = (rows: typeof one.rows): Map<string, string> => {
      const m = new Map<string, { count: number; sum: number; first: string; last: string }>();
      for (const r of rows) {
        const k = `${r.customerId}|${r.currency}`;
        const a = m.get(k);
        m.set(k, a ? { count: a.count + r.count, sum: a.sum + r.sum, first: a.first < r.first ? a.first : r.first, last: a.last > r.last ? a.last : r.last } : { ...r });
      }
      return new Map([...m].map(([k, v]) => [k, `${v.count}|${v.sum.toFixed(6)}|${v.first}|${v.last}`]));
    };
    expect(one.rows.length).toBeGreaterThan(100);
    expect(merged(three.rows)).toEqual(merged(one.rows));
  });

  it('uses the map snapshot the segment step saved for the model instead of reading the store again', async () => {
    const model = fx.store.models.activeModel()!;
    const saved = readSavedModel(model);
    const fm = buildFeatures(fx.store.features, saved.spec);
    const X = applyPrep(saved.prep, fm);
    const members = fx.store.models.memberships(model.id);
    const snap = mapSnapshot(X, fm.n, saved.columns.length, (i) => members.get(fm.customerIds[i] as string) ?? null, saved.columns, { modelId: model.id, seed: 3, sampleSize: 400 });
    try {
      fx.store.models.setMeta(MAP_SNAPSHOT_KEY, JSON.stringify(snap));
      const data = await gatherReportData(fx.store, {});
      expect(data.timings.mapSaved).toBe(1);
      expect(data.timings.mapFeatures).toBeUndefined();
      expect(data.map?.points).toHaveLength(400);
      expect(data.map?.population).toBe(fx.clustered);
      expect(data.map?.points.map((p) => p.x)).toEqual(snap.x);
      // a snapshot of another model is ignored
      fx.store.models.setMeta(MAP_SNAPSHOT_KEY, JSON.stringify({ ...snap, modelId: model.id - 1 }));
      const other = await gatherReportData(fx.store, { sampleSize: SAMPLE });
      expect(other.timings.mapSaved).toBe(0);
      expect(other.map?.points).toHaveLength(SAMPLE);
    } finally {
      fx.store.models.setMeta(MAP_SNAPSHOT_KEY, '');
    }
  });
});
