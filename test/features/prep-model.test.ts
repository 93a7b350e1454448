/**
 * The prep step through the store: a categorical contact field and a property
 * that is often missing reach the model's input, the fitted prep is saved with
 * the model, and assignment later transforms customers identically.
 */
import { describe, it, expect } from 'vitest';
import { runSegmentation } from '../../src/segment/run.js';
import { assignCustomers } from '../../src/segment/assign-customers.js';
import { readSavedModel } from '../../src/segment/saved-model.js';
import { buildFeatures } from '../../src/features/build.js';
import { featuresSchema } from '../../src/config/schema.js';
import { applyToContact, privacyPolicy } from '../../src/privacy/policy.js';
import type { Contact } from '../../src/core/records.js';
import { jobContext, openTestStore, seedStore, tempDir, testConfig } from '../support/store-fixture.js';

const NOW = '2026-07-01T00:00:00.000Z';
const STAGES = ['lead', 'customer', 'evangelist'];

describe('prep through the segment step', () => {
  it('saves imputation, indicator, winsorizing and one-hot in the model and assigns with them', () => {
    const dir = tempDir();
    const store = openTestStore(dir);
    seedStore(store, { customers: 600, idle: 0 });
    // the same contacts again (newer), now with a lifecycle stage and a score missing for every 4th
    const contacts: Contact[] = Array.from({ length: 600 }, (_, i) => ({
      id: `files:c${String(i).padStart(6, '0')}`,
      connector: 'files',
      externalId: `c${String(i).padStart(6, '0')}`,
      email: `p${i}@example.com`,
      lifecycleStage: i % 10 === 9 ? 'partner' : (STAGES[i % 3] as string),
      createdAt: '2024-01-01T00:00:00.000Z',
      updatedAt: '2025-01-01T00:00:00.000Z',
      properties: (i % 4 === 0 ? {} : { score: i % 3 === 0 ? 90 + (i % 7) : 10 + (i % 5) }) as Record<string, number>,
    }));
    store.sync.commitPage({ runId: 0, connector: 'files', stream: 'contacts', contacts, rejected: [], checkpoint: { t: 2 }, now: NOW });
    const config = {
      ...testConfig(dir),
      features: featuresSchema.parse({
        preset: 'rfm', asOf: '2026-06-30', extra: [{ property: 'score' }], categorical: [{ property: 'lifecycle_stage', top: 3 }], scaling: 'robust',
      }),
    };
    const r = runSegmentation(jobContext(config, store), { runId: 1, algorithm: 'kmeans', k: 3 });
    const saved = readSavedModel(store.models.activeModel()!);
    expect(saved.prep.scaling).toBe('robust');
    const score = saved.prep.numeric.find((c) => c.column === 'score')!;
    expect(score.indicator).toBe(true); // 25% missing
    expect(saved.prep.numeric.find((c) => c.column === 'frequency')!.indicator).toBe(false);
    expect(saved.prep.numeric.every((c) => c.lo !== null && c.hi !== null)).toBe(true);
    // partner is the 4th most frequent value (60 of 600): it shares "other"
    expect(saved.prep.categorical).toEqual([{ property: 'lifecycle_stage', values: expect.arrayContaining(STAGES) as unknown, other: true }]);
    expect(saved.columns).toEqual([
      'recency_days', 'frequency', 'monetary', 'avg_order_value', 'tenure_days', 'score', 'score_missing',
      ...saved.prep.categorical[0]!.values.map((v) => `lifecycle_stage=${v}`), 'lifecycle_stage=other',
    ]);
    expect(saved.model.d).toBe(saved.columns.length);

    // the matrix the model sees carries the category and the missing flag
    const fm = buildFeatures(store.features, saved.spec, { customerIds: [] });
    expect(fm.categories[0]?.property).toBe('lifecycle_stage');

    // assignment reproduces the segment step's rows exactly
    const before = store.models.memberships(r.modelId);
    const a = assignCustomers(store, config, [...before.keys()], { now: () => new Date(NOW) });
    expect(a.assigned).toBe(600);
    expect(a.moved).toEqual([]);
    store.close();
  });
});

describe('categorical features and the privacy allowlist', () => {
  it('keeps by default exactly the contact fields and properties the categorical features read', () => {
    const config = testConfig(tempDir());
    const features = featuresSchema.parse({ extra: [{ property: 'visits' }], categorical: [{ property: 'lifecycle_stage' }, { property: 'source' }] });
    const p = privacyPolicy({ ...config, features });
    expect([...p.fields]).toEqual(['lifecycleStage']);
    expect([...p.properties].sort()).toEqual(['source', 'visits']);
    const c = applyToContact(
      { id: 'x:1', connector: 'x', externalId: '1', country: 'FR', lifecycleStage: 'lead', createdAt: '', updatedAt: '', properties: { source: 'ads', other: 1 } },
      p,
    );
    expect([c.lifecycleStage, c.country, c.properties]).toEqual(['lead', undefined, { source: 'ads' }]);
    // an explicit allowlist wins
    expect([...privacyPolicy({ ...config, features, privacy: { ...config.privacy, fields: [] } }).fields]).toEqual([]);
  });
});
