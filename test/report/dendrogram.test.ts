/** The dendrogram: layout of a merge tree, and the chart when the active model saved one. */
import { describe, it, expect } from 'vitest';
import { layoutDendrogram, readMergeTree } from '../../src/report/dendrogram.js';
import { renderReport } from '../../src/report/index.js';
import { runSegmentation } from '../../src/segment/run.js';
import { jobContext, openTestStore, seedStore, tempDir, testConfig } from '../support/store-fixture.js';
import { marks, parse } from './fixture.js';
import { createRng } from '../../src/ml/random.js';

/** Single linkage of m points on a line: merges adjacent clusters by increasing gap (a valid linkage matrix). */
function lineLinkage(xs: number[]): number[] {
  const m = xs.length;
  const order = xs.map((x, i) => ({ x, i })).sort((a, b) => a.x - b.x);
  const gaps = order.slice(1).map((p, j) => ({ gap: p.x - (order[j] as { x: number }).x, a: (order[j] as { i: number }).i, b: p.i })).sort((p, q) => p.gap - q.gap);
  const parent: number[] = Array.from({ length: 2 * m - 1 }, (_, i) => i);
  const size: number[] = Array.from({ length: 2 * m - 1 }, (_, i) => (i < m ? 1 : 0));
  const find = (x: number): number => (parent[x] === x ? x : (parent[x] = find(parent[x] as number)));
  const out: number[] = [];
  gaps.forEach((g, r) => {
    const ra = find(g.a);
    const rb = find(g.b);
    parent[ra] = m + r;
    parent[rb] = m + r;
    size[m + r] = (size[ra] as number) + (size[rb] as number);
    out.push(Math.min(ra, rb), Math.max(ra, rb), g.gap, size[m + r] as number);
  });
  return out;
}

describe('dendrogram layout', () => {
  it('lays out a small tree whole, with the cut between the merges that give k clusters', () => {
    // leaves 0,1 at 0 and 1; 2,3 at 10 and 12; 4 at 30
    const tree = readMergeTree({ merges: lineLinkage([0, 1, 10, 12, 30]) });
    expect(tree?.m).toBe(5);
    const lay = layoutDendrogram(tree!, 2);
    expect(lay.leaves).toHaveLength(5);
    expect(lay.links).toHaveLength(3 * 4);
    // gaps 1, 2, 9, 18: two clusters once the 18 merge is undone -> cut halfway between 9 and 18
    expect(lay.cut).toBe(13.5);
    // leaves 0..3 form cluster 0, leaf 4 cluster 1; the top merge (its bar and two verticals) is above the cut
    expect(lay.leaves.map((l) => l.cluster).sort()).toEqual([0, 0, 0, 0, 1]);
    expect(lay.links.filter((l) => l.cluster === -1)).toHaveLength(3);
  });

  it('truncates a big tree to its last merges, leaves carrying their sizes', () => {
    const xs = Array.from({ length: 500 }, (_, i) => (i % 5) * 100 + i * 0.01 + (i % 7) * 0.001);
    const tree = readMergeTree({ merges: lineLinkage(xs) })!;
    const lay = layoutDendrogram(tree, 5, 40);
    expect(lay.leaves).toHaveLength(40);
    expect(lay.links).toHaveLength(3 * 39);
    expect(lay.leaves.reduce((a, l) => a + l.size, 0)).toBe(500);
    expect(new Set(lay.leaves.map((l) => l.cluster)).size).toBe(5);
  });

  it('accepts rows of 4 and rejects a tree that merges clusters not yet made', () => {
    expect(readMergeTree({ mergeTree: [[0, 1, 1, 2], [2, 3, 2, 3]] })?.m).toBe(3);
    expect(readMergeTree({ centroids: [1, 2] }, null, 'x')).toBeNull();
    // as src/segment/run.ts saves it: the model's JSON under `model`, the segment ids beside it
    const nested = readMergeTree({ model: { kind: 'hierarchical', linkage: 'average', merges: [0, 1, 1, 2] }, segmentIds: ['seg_1'] });
    expect(nested).toMatchObject({ m: 2, linkage: 'average', segmentIds: ['seg_1'] });
    expect(() => layoutDendrogram(readMergeTree({ merges: [0, 5, 1, 2, 2, 3, 2, 3] })!, 2)).toThrow(/do not exist yet/);
  });
});

describe('dendrogram in the report', () => {
  it('is drawn when the active model saved a merge tree, cut at k, branches coloured by segment', async () => {
    const dir = tempDir();
    const store = openTestStore(dir);
    try {
      seedStore(store, { customers: 300 });
      const ctx = jobContext(testConfig(dir), store);
      runSegmentation(ctx, { runId: 1, k: 3 });
      const km = store.models.activeModel()!;
      const segs = store.models.segments();
      const members = store.models.memberships(km.id);
      // the same segments saved as a hierarchical model with a merge tree over 200 sampled customers
      const rng = createRng(5);
      const xs = Array.from({ length: 200 }, (_, i) => (i % 3) * 50 + rng.next() * 10);
      const ids = (km.centroids as { segmentIds: string[] }).segmentIds;
      store.models.saveModel(
        {
          runId: 2,
          createdAt: '2026-07-02T00:00:00.000Z',
          algorithm: 'hierarchical',
          params: { k: 3, linkage: 'ward', seed: 42 },
          featureSpec: km.featureSpec,
          scaler: km.scaler,
          centroids: { kind: 'hierarchical', version: 1, linkage: 'ward', k: 3, d: 5, centroids: [], merges: lineLinkage(xs), segmentIds: ids },
          metrics: km.metrics,
          candidates: km.candidates,
        },
        segs.map((s) => ({ id: s.id, name: s.name, description: s.description, profile: s.profile })),
        [...members].map(([customerId, segmentId]) => ({ customerId, segmentId, confidence: null, distance: null })),
      );
      const { html, data } = await renderReport(store, {});
      const doc = parse(html);
      expect(data.dendrogram?.treeLeaves).toBe(200);
      expect(marks(doc, 'dendrogram', 'links')).toHaveLength(3 * 39);
      expect(marks(doc, 'dendrogram', 'cut')).toHaveLength(1);
      expect(marks(doc, 'dendrogram', 'leaf_sizes')).toHaveLength(40);
      const names = new Set(data.dendrogram?.links.map((l) => l.segment).filter(Boolean));
      expect([...names].sort()).toEqual(segs.map((s) => s.name).sort());
      expect(doc.querySelector('#ss-model')?.textContent).toContain('ward linkage');
    } finally {
      store.close();
    }
  });

  it('comes from the tree a real hierarchical run saves, and every algorithm tried is on the model-selection chart', async () => {
    const dir = tempDir();
    const store = openTestStore(dir);
    try {
      seedStore(store, { customers: 300, idle: 10 });
      const ctx = jobContext(testConfig(dir), store);
      runSegmentation(ctx, { runId: 1, algorithm: 'auto' });
      const auto = await renderReport(store, {});
      const cands = store.models.activeModel()!.candidates as { algorithm: string; chosen: boolean }[];
      expect(new Set(cands.map((c) => c.algorithm)).size).toBeGreaterThan(1);
      const autoDoc = parse(auto.html);
      expect(marks(autoDoc, 'model-selection', 'points_silhouette')).toHaveLength(cands.length);
      expect(marks(autoDoc, 'model-selection', 'chosen_silhouette')).toHaveLength(1);

      runSegmentation(ctx, { runId: 2, algorithm: 'hierarchical', k: 3 });
      const { html, data } = await renderReport(store, {});
      const doc = parse(html);
      const t = data.dendrogram!;
      expect(t.k).toBe(3);
      expect(marks(doc, 'dendrogram', 'links')).toHaveLength(3 * (t.leaves.length - 1));
      expect(t.leaves.reduce((a, l) => a + l.size, 0)).toBe(t.treeLeaves);
      // the cut clusters map onto this model's three clustered segments
      const clustered = data.segments.filter((s) => !s.fixed).map((s) => s.label).sort();
      expect([...new Set(t.leaves.map((l) => l.segment))].sort()).toEqual(clustered);
    } finally {
      store.close();
    }
  });

  it('a broken merge tree is a note in the report, not a failure', async () => {
    const store = openTestStore(tempDir());
    try {
      store.models.saveModel(
        {
          runId: 1,
          createdAt: '2026-07-01T00:00:00.000Z',
          algorithm: 'hierarchical',
          params: { k: 2 },
          featureSpec: { preset: 'none', asOf: '2026-06-30', columns: ['visits'], transforms: ['none'], properties: ['visits'] },
          scaler: { transforms: ['none'], medians: [0], mean: [0], std: [1] },
          centroids: { model: { kind: 'hierarchical', merges: [0, 5, 1, 2, 2, 3, 2, 3] }, segmentIds: ['seg_1', 'seg_2'] },
          metrics: {},
          candidates: [],
        },
        [
          { id: 'seg_1', name: 'One', description: 'one', profile: { size: 1, share: 0.5, revenueShare: 0.5, means: { visits: 1 }, z: { visits: 1 } } },
          { id: 'seg_2', name: 'Two', description: 'two', profile: { size: 1, share: 0.5, revenueShare: 0.5, means: { visits: 0 }, z: { visits: -1 } } },
        ],
        [],
      );
      const { html, data } = await renderReport(store, {});
      expect(data.dendrogram).toBeNull();
      expect(data.notes.some((n) => /merge tree could not be drawn: .*do not exist yet/.test(n))).toBe(true);
      expect(parse(html).querySelector('#ss-model .ss-note')?.textContent).toMatch(/merge tree could not be drawn/);
    } finally {
      store.close();
    }
  });
});
