/**
 * Incremental syncs assign without retraining: the store marks the customers a
 * sync page touches (only while a model exists), the job places exactly those
 * with the active model and clears them, and `run` decides when to retrain.
 */
import { describe, it, expect } from 'vitest';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { assignTouched } from '../../src/jobs/assign-touched.js';
import { retrainDecision } from '../../src/jobs/retrain.js';
import { driftReasons, measureDrift } from '../../src/jobs/drift.js';
import { runSegmentation } from '../../src/segment/run.js';
import { syncAndAssign } from '../../src/schedule/jobs.js';
import { customerIdFor, identityKey } from '../../src/store/ids.js';
import { featuresSchema } from '../../src/config/schema.js';
import type { Store } from '../../src/store/index.js';
import type { Transaction } from '../../src/core/records.js';
import { jobContext, openTestStore, seedStore, tempDir, testConfig } from '../support/store-fixture.js';

const NOW = '2026-07-01T00:00:00.000Z';
const DAY = 86_400_000;
const ext = (i: number): string => `c${String(i).padStart(6, '0')}`;
const cust = (i: number, email = `p${i}@example.com`): string => customerIdFor(identityKey(`files:${ext(i)}`, email));

function orders(i: number, n: number, lastAgo: number, tag: string): Transaction[] {
  const asOf = Date.parse('2026-06-30T00:00:00Z');
  return Array.from({ length: n }, (_, j) => ({
    id: `files:${tag}${i}_${j}`, connector: 'files', externalId: `${tag}${i}_${j}`, contactId: `files:${ext(i)}`, amount: 50, currency: 'USD',
    occurredAt: new Date(asOf - (lastAgo + j * 20) * DAY).toISOString(), status: 'won', properties: {},
  }));
}

function page(store: Store, p: { transactions?: Transaction[]; deleted?: string[]; stream?: 'contacts' | 'transactions'; email?: [number, string] }): void {
  const [i, email] = p.email ?? [0, ''];
  store.sync.commitPage({
    runId: 0, connector: 'files', stream: p.stream ?? 'transactions', rejected: [], checkpoint: { t: 2 }, now: NOW,
    ...(p.transactions ? { transactions: p.transactions } : {}),
    ...(p.deleted ? { deleted: p.deleted } : {}),
    ...(p.email ? { contacts: [{ id: `files:${ext(i)}`, connector: 'files', externalId: ext(i), email, createdAt: NOW, updatedAt: '2026-07-01T00:00:01.000Z', properties: {} }] } : {}),
  });
}

function trained(): { store: Store; ctx: ReturnType<typeof jobContext>; modelId: number } {
  const dir = tempDir();
  const store = openTestStore(dir);
  seedStore(store, { customers: 600, idle: 30 });
  // seeding before the model marks nothing: the model places everyone
  expect(store.models.dirtyCustomers()).toEqual([]);
  const ctx = jobContext(testConfig(dir), store);
  const r = runSegmentation(ctx, { runId: 1, algorithm: 'kmeans', k: 3 });
  return { store, ctx, modelId: r.modelId };
}

describe('customers touched by a sync', () => {
  it('are marked per page: contacts, the customers of transactions, and of deleted records', () => {
    const { store } = trained();
    page(store, { transactions: orders(2, 3, 1, 'n') });
    expect(store.models.dirtyCustomers()).toEqual([cust(2)]);
    page(store, { stream: 'transactions', deleted: ['t5_0', 'no-such-id'] });
    page(store, { stream: 'contacts', deleted: [ext(7)] });
    expect(store.models.dirtyCustomers()).toEqual([cust(2), cust(5), cust(7)].sort());
    store.models.clearDirty([cust(5)]);
    expect(store.models.dirtyCustomers()).toEqual([cust(2), cust(7)].sort());
    // a new model places everyone: nothing left to assign
    runSegmentation(jobContext(testConfig(tempDir()), store), { runId: 2, algorithm: 'kmeans', k: 3 });
    expect(store.models.dirtyCustomers()).toEqual([]);
    store.close();
  });

  it('are placed with the active model, without a new model, and only once', () => {
    const { store, ctx, modelId } = trained();
    const before = store.models.memberships(modelId);
    // customer 2 (a one-off buyer) now buys often and recently, like customer 0's group
    page(store, { transactions: orders(2, 18, 3, 'n') });
    const a = assignTouched(ctx);
    expect(a).toEqual({ status: 'assigned', modelId, touched: 1, assigned: 1, moved: 1, removed: 0 });
    expect(store.models.activeModel()!.id).toBe(modelId);
    const after = store.models.memberships(modelId);
    expect(after.get(cust(2))).toBe(before.get(cust(0)));
    for (const [c, s] of before) if (c !== cust(2)) expect(after.get(c)).toBe(s);
    expect(store.models.dirtyCustomers()).toEqual([]);
    expect(assignTouched(ctx)).toMatchObject({ status: 'assigned', touched: 0 });
    store.close();
  });

  it('a contact that changes email leaves its old customer: that membership goes', () => {
    const { store, ctx, modelId } = trained();
    page(store, { stream: 'contacts', email: [4, 'new4@example.com'] });
    const a = assignTouched(ctx);
    expect(a).toMatchObject({ status: 'assigned', touched: 2, removed: 1 });
    const m = store.models.memberships(modelId);
    expect(m.has(cust(4))).toBe(false);
    expect(m.has(cust(4, 'new4@example.com'))).toBe(true);
    store.close();
  });

  it('the sync job places the customers its pages touched, and an unchanged second sync places none', async () => {
    const dir = tempDir();
    const store = openTestStore(dir);
    seedStore(store, { customers: 600, idle: 30 });
    const ctx = jobContext(testConfig(dir), store);
    const { modelId } = runSegmentation(ctx, { runId: 1, algorithm: 'kmeans', k: 3 });
    const before = store.models.memberships(modelId);
    writeFileSync(join(dir, 'contacts.csv'), `id,email,created_at,updated_at\n${ext(2)},p2@example.com,2024-01-01,2026-07-01\n`);
    const txs = orders(2, 18, 3, 'n').map((t) => `${t.externalId},${ext(2)},${t.amount},USD,${t.occurredAt},won`);
    writeFileSync(join(dir, 'transactions.csv'), `id,contact_id,amount,currency,occurred_at,status\n${txs.join('\n')}\n`);
    const first = await syncAndAssign(ctx, 2, {});
    expect(first.counts).toMatchObject({ read: 19, assign: { status: 'assigned', modelId, touched: 1, moved: 1 } });
    expect(store.models.memberships(modelId).get(cust(2))).toBe(before.get(cust(0)));
    const second = await syncAndAssign(ctx, 3, {});
    expect(second.counts).toMatchObject({ read: 0, assign: { touched: 0 } });
    expect(store.models.activeModel()!.id).toBe(modelId);
    store.close();
  });
});

describe('retrainDecision', () => {
  it('retrains without a model, on a full sync, after retrainAfterDays, and when the feature settings change', () => {
    const { store, ctx } = trained();
    const model = store.models.activeModel()!;
    expect(retrainDecision(ctx, undefined, { full: false })).toEqual({ retrain: true, reasons: ['no model yet'] });
    expect(retrainDecision(ctx, model, { full: false })).toEqual({ retrain: false, reasons: [] });
    expect(retrainDecision(ctx, model, { full: true }).reasons).toEqual(['full sync']);

    const later = { ...ctx, now: () => new Date(Date.parse(model.createdAt) + 30 * DAY) };
    expect(retrainDecision(later, model, { full: false }).reasons).toEqual([`model #${model.id} is 30 days old (segmentation.retrainAfterDays: 30)`]);
    const never = { ...later, config: { ...ctx.config, segmentation: { ...ctx.config.segmentation, retrainAfterDays: 0 } } };
    expect(retrainDecision(never, model, { full: false }).retrain).toBe(false);

    const robust = { ...ctx, config: { ...ctx.config, features: featuresSchema.parse({ preset: 'rfm', asOf: '2026-06-30', scaling: 'robust' }) } };
    expect(retrainDecision(robust, model, { full: false }).reasons).toEqual([`feature settings changed since model #${model.id}`]);
    expect(retrainDecision(ctx, model, { full: false, driftReasons: ['drift'] })).toEqual({ retrain: true, reasons: ['drift'] });
    store.close();
  });

  it('a model saved before the prep step is retrained once (its settings predate it)', () => {
    const { store, ctx } = trained();
    const model = store.models.activeModel()!;
    const { prep: _prep, categorical: _cat, ...old } = model.featureSpec as Record<string, unknown>;
    expect(retrainDecision(ctx, { ...model, featureSpec: old }, { full: false }).reasons).toEqual([`feature settings changed since model #${model.id}`]);
    store.close();
  });
});

describe('drift of the population against the training customers', () => {
  it('is near 0 on unchanged data, passes maxPsi when customers change, and then run retrains', () => {
    const { store, ctx } = trained();
    const model = store.models.activeModel()!;
    const still = measureDrift(ctx, model)!;
    expect(still.modelId).toBe(model.id);
    expect(still.customers).toBe(600);
    expect(still.features.map((f) => f.feature).sort()).toEqual(['avg_order_value', 'frequency', 'monetary', 'recency_days', 'tenure_days']);
    // all customers against the 80% the model was trained on: the same population
    expect(still.max).toBeLessThan(0.05);
    expect(driftReasons(still)).toEqual([]);

    // the one-off buyers (a third) all come back with ten recent orders
    for (let i = 2; i < 600; i += 3) page(store, { transactions: orders(i, 10, 1, 'back') });
    const moved = measureDrift(ctx, model)!;
    expect(moved.features[0]!.feature).toBe('frequency');
    expect(moved.max).toBeGreaterThan(0.2);
    const reasons = driftReasons(moved);
    expect(reasons[0]).toMatch(/^drift: PSI of frequency is \d+\.\d{3}, above segmentation\.drift\.maxPsi \(0\.2\)$/);
    expect(retrainDecision(ctx, model, { full: false, driftReasons: reasons })).toEqual({ retrain: true, reasons });
    store.close();
  });

  it('is not measured for a model saved without a reference', () => {
    const { store, ctx } = trained();
    const model = store.models.activeModel()!;
    const { drift: _drift, ...prep } = model.scaler as Record<string, unknown>;
    expect(measureDrift(ctx, { ...model, scaler: prep })).toBeUndefined();
    store.close();
  });
});
