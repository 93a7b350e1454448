/** The segment step end to end in-process: selection, stable ids, fixed segment, preset none. */
import { describe, it, expect } from 'vitest';
import { runSegmentation, NO_PURCHASE_SEGMENT } from '../../src/segment/run.js';
import { jobContext, openTestStore, seedStore, tempDir, testConfig } from '../support/store-fixture.js';
import { featuresSchema } from '../../src/config/schema.js';

describe('runSegmentation', () => {
  it('clusters buyers, puts customers without purchases in the fixed segment, and keeps ids stable on retrain', () => {
    const dir = tempDir();
    const store = openTestStore(dir);
    seedStore(store, { customers: 900, idle: 60 });
    const ctx = jobContext(testConfig(dir), store);
    const first = runSegmentation(ctx, { runId: 1 });
    expect(first.customers).toBe(960);
    expect(first.clustered).toBe(900);
    expect(first.churn).toBeNull();
    const m1 = store.models.memberships(first.modelId);
    expect(m1.size).toBe(960);
    const fixed = [...m1.values()].filter((s) => s === NO_PURCHASE_SEGMENT.id).length;
    expect(fixed).toBe(60);
    // the three behaviour groups are clearly separated: k-means must find them
    expect(first.k).toBeGreaterThanOrEqual(3);
    expect(first.silhouette).toBeGreaterThan(0.5);

    const second = runSegmentation(ctx, { runId: 2 });
    expect(second.churn).toBe(0);
    const m2 = store.models.memberships(second.modelId);
    for (const [c, s] of m1) expect(m2.get(c)).toBe(s);
    const names = store.models.segments().map((s) => s.name);
    expect(new Set(names).size).toBe(names.length);
    store.close();
  });

  it('a retrain with a different k keeps the ids of the segments that persist and retires the rest', () => {
    const dir = tempDir();
    const store = openTestStore(dir);
    seedStore(store, { customers: 900 });
    const ctx = jobContext(testConfig(dir), store);
    const a = runSegmentation(ctx, { runId: 1, k: 4 });
    const idsA = new Set(store.models.segments().map((s) => s.id));
    const b = runSegmentation(ctx, { runId: 2, k: 3 });
    const live = store.models.segments();
    expect(live).toHaveLength(3);
    for (const s of live) expect(idsA.has(s.id)).toBe(true);
    const retired = store.models.segments({ includeRetired: true }).filter((s) => s.retiredAt !== null);
    expect(retired).toHaveLength(1);
    expect(b.modelId).toBeGreaterThan(a.modelId);
    store.close();
  });

  it('with preset none every contact is clustered on its properties', () => {
    const dir = tempDir();
    const store = openTestStore(dir);
    seedStore(store, { customers: 300, idle: 300 });
    const cfg = testConfig(dir);
    const ctx = jobContext({ ...cfg, features: featuresSchema.parse({ preset: 'none', extra: [{ property: 'visits' }, { property: 'age' }] }) }, store);
    const r = runSegmentation(ctx, { runId: 1, k: 3 });
    expect(r.clustered).toBe(600);
    const m = store.models.memberships(r.modelId);
    expect([...m.values()].includes(NO_PURCHASE_SEGMENT.id)).toBe(false);
    const names = store.models.segments().map((s) => s.name);
    expect(names.some((n) => /visits|age/.test(n))).toBe(true);
    store.close();
  });

  it('refuses an empty store with a clear error', () => {
    const dir = tempDir();
    const store = openTestStore(dir);
    const ctx = jobContext(testConfig(dir), store);
    expect(() => runSegmentation(ctx, { runId: 1 })).toThrow(/no customers to segment/);
    store.close();
  });
});
