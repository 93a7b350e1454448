/**
 * Assignment without retraining: touched customers are placed by the saved
 * model exactly as the segment step would, memberships change for them only,
 * and the push engine then sends only what moved.
 */
import { describe, it, expect } from 'vitest';
import { assignCustomers } from '../../src/segment/assign-customers.js';
import { NO_PURCHASE_SEGMENT, runSegmentation } from '../../src/segment/run.js';
import { runPush } from '../../src/push/engine.js';
import { customerIdFor, identityKey } from '../../src/store/ids.js';
import type { Transaction } from '../../src/core/records.js';
import type { Store } from '../../src/store/index.js';
import { featuresSchema, type Config } from '../../src/config/schema.js';
import { jobContext, openTestStore, seedStore, tempDir, testConfig } from '../support/store-fixture.js';

const NOW = '2026-07-01T00:00:00.000Z';
const DAY = 86_400_000;
const cust = (i: number): string => customerIdFor(identityKey(`files:c${String(i).padStart(6, '0')}`, `p${i}@example.com`));

function addContact(store: Store, i: number): void {
  const ext = `c${String(i).padStart(6, '0')}`;
  store.sync.commitPage({
    runId: 0, connector: 'files', stream: 'contacts', rejected: [], checkpoint: { t: 1 }, now: NOW,
    contacts: [{ id: `files:${ext}`, connector: 'files', externalId: ext, email: `p${i}@example.com`, createdAt: NOW, updatedAt: NOW, properties: { visits: 1, age: 30 } }],
  });
}

/** `orders` won orders of `amount`, the last `lastAgo` days before 2026-06-30, one every 20 days. */
function addOrders(store: Store, i: number, orders: number, lastAgo: number, amount: number, tag = 'x'): void {
  const ext = `c${String(i).padStart(6, '0')}`;
  const asOf = Date.parse('2026-06-30T00:00:00Z');
  const transactions: Transaction[] = Array.from({ length: orders }, (_, j) => ({
    id: `files:${tag}${i}_${j}`, connector: 'files', externalId: `${tag}${i}_${j}`, contactId: `files:${ext}`, amount, currency: 'USD',
    occurredAt: new Date(asOf - (lastAgo + j * 20) * DAY).toISOString(), status: 'won', properties: {},
  }));
  store.sync.commitPage({ runId: 0, connector: 'files', stream: 'transactions', transactions, rejected: [], checkpoint: { t: 1 }, now: NOW });
}

/** The segment most customers of seed group g (i % 3 === g) are in. */
function groupSegment(m: Map<string, string>, g: number, n: number): string {
  const votes = new Map<string, number>();
  for (let i = g; i < n; i += 3) {
    const s = m.get(cust(i));
    if (s) votes.set(s, (votes.get(s) ?? 0) + 1);
  }
  return [...votes].sort((a, b) => b[1] - a[1])[0]![0];
}

function trained(opts: { customers?: number; idle?: number; yaml?: string } = {}): { store: Store; config: Config; modelId: number; dir: string } {
  const dir = tempDir();
  const store = openTestStore(dir);
  seedStore(store, { customers: opts.customers ?? 600, idle: opts.idle ?? 30 });
  const config = testConfig(dir, opts.yaml);
  const r = runSegmentation(jobContext(config, store), { runId: 1, algorithm: 'kmeans', k: 3 });
  return { store, config, modelId: r.modelId, dir };
}

const now = (): Date => new Date(NOW);

describe('assignCustomers', () => {
  it('moves a customer whose purchases changed to the segment the model predicts and leaves everyone else alone', () => {
    const { store, config, modelId } = trained();
    const before = store.models.memberships(modelId);
    const frequent = groupSegment(before, 0, 600);
    const oneOff = groupSegment(before, 2, 600);
    expect(frequent).not.toBe(oneOff);
    expect(before.get(cust(2))).toBe(oneOff);

    // customer 2 (a one-off buyer) starts buying often and recently, like group 0
    addOrders(store, 2, 18, 3, 50);
    const r = assignCustomers(store, config, [cust(2), cust(5)], { now });
    expect(r.moved).toEqual([{ customerId: cust(2), from: oneOff, to: frequent }]);
    expect(r.assigned).toBe(2);
    expect(r.skipped).toEqual([]);

    const after = store.models.memberships(modelId);
    expect(after.get(cust(2))).toBe(frequent);
    for (const [c, s] of before) if (c !== cust(2)) expect(after.get(c)).toBe(s);
    store.close();
  });

  it('gives a new customer a membership (the no-purchase one without orders) and takes it from a deleted one', () => {
    const { store, config, modelId } = trained({ idle: 0 });
    expect(store.models.segments().some((s) => s.id === NO_PURCHASE_SEGMENT.id)).toBe(false);
    const before = store.models.memberships(modelId);
    const lapsed = groupSegment(before, 1, 600);

    addContact(store, 1000);
    addOrders(store, 1000, 6, 350, 50); // like group 1
    addContact(store, 1001); // no purchase yet
    store.sync.commitPage({ runId: 0, connector: 'files', stream: 'contacts', deleted: ['c000004'], rejected: [], checkpoint: { t: 2 }, now: NOW });

    const r = assignCustomers(store, config, [cust(1000), cust(1001), cust(4), 'cus_never_seen'], { now });
    expect(r.assigned).toBe(2);
    expect(r.moved).toEqual(
      [
        { customerId: cust(1000), from: null, to: lapsed },
        { customerId: cust(1001), from: null, to: NO_PURCHASE_SEGMENT.id },
      ].sort((a, b) => (a.customerId < b.customerId ? -1 : 1)),
    );
    expect(r.removed).toEqual([cust(4)]);
    expect(r.skipped.map((s) => s.customerId).sort()).toEqual([cust(4), 'cus_never_seen'].sort());

    const after = store.models.memberships(modelId);
    expect(after.get(cust(1000))).toBe(lapsed);
    expect(after.get(cust(1001))).toBe(NO_PURCHASE_SEGMENT.id);
    expect(after.has(cust(4))).toBe(false);
    expect(after.size).toBe(before.size + 1);
    // the fixed segment the model had no member of now exists, so the push can carry it
    expect(store.models.segments().some((s) => s.id === NO_PURCHASE_SEGMENT.id)).toBe(true);
    store.close();
  });

  it('same input, same result: a second assignment changes nothing, and a second store gets identical rows', () => {
    const a = trained();
    const b = trained();
    for (const t of [a, b]) addOrders(t.store, 2, 18, 3, 50);
    const ids = [cust(2), cust(3), cust(7)];
    const ra = assignCustomers(a.store, a.config, ids, { now });
    const rb = assignCustomers(b.store, b.config, ids, { now });
    expect(rb).toEqual(ra);
    const again = assignCustomers(a.store, a.config, ids, { now });
    expect(again.moved).toEqual([]);
    expect(again.assigned).toBe(3);
    const ma = a.store.models.memberships(a.modelId);
    const mb = b.store.models.memberships(b.modelId);
    expect([...mb]).toEqual([...ma]);
    a.store.close();
    b.store.close();
  });

  it('uses the model assignment day for recency unless features.asOf is fixed', () => {
    const dir = tempDir();
    const store = openTestStore(dir);
    seedStore(store, { customers: 600, idle: 0 });
    const config = testConfig(dir);
    const cfg: Config = { ...config, features: featuresSchema.parse({ preset: 'rfm' }) };
    const r = runSegmentation(jobContext(cfg, store), { runId: 1, algorithm: 'kmeans', k: 3 });
    const m = store.models.memberships(r.modelId);
    const frequent = groupSegment(m, 0, 600);
    const lapsed = groupSegment(m, 1, 600);
    // a year later, a customer of the recent, frequent group has not bought since: it has lapsed
    const later = assignCustomers(store, cfg, [cust(0)], { now: () => new Date('2027-06-01T00:00:00Z') });
    expect(m.get(cust(0))).toBe(frequent);
    expect(later.moved).toEqual([{ customerId: cust(0), from: frequent, to: lapsed }]);
    store.close();
  });

  it('on unchanged data reproduces the segment step rows exactly: segment, confidence and distance', () => {
    const { store, config, modelId } = trained();
    const ids = [...store.models.memberships(modelId).keys()];
    const before = store.models.membershipsOf(modelId, ids);
    const r = assignCustomers(store, config, ids, { now });
    expect(r.moved).toEqual([]);
    expect(r.assigned).toBe(630);
    const after = store.models.membershipsOf(modelId, ids);
    for (const [c, m] of before) {
      const x = after.get(c)!;
      expect(x.segmentId).toBe(m.segmentId);
      expect(x.confidence).toBeCloseTo(m.confidence!, 12);
      if (m.distance === null) expect(x.distance).toBeNull();
      else expect(x.distance).toBeCloseTo(m.distance, 12);
    }
    store.close();
  });

  it('refuses to run without a model, and names a damaged one', () => {
    const dir = tempDir();
    const store = openTestStore(dir);
    seedStore(store, { customers: 30 });
    const config = testConfig(dir);
    expect(() => assignCustomers(store, config, [cust(1)])).toThrow(/no segmentation model/);
    const id = store.models.saveModel(
      {
        runId: 1, createdAt: NOW, algorithm: 'kmeans', params: {}, metrics: {}, candidates: [],
        featureSpec: { preset: 'rfm', asOf: '2026-06-30', columns: ['a'], transforms: ['none'], properties: [] },
        scaler: { medians: [0] },
        centroids: { model: { kind: 'kmeans', version: 1, k: 1, d: 1, centroids: [0] }, segmentIds: ['seg_1'] },
      },
      [],
      [],
    );
    expect(() => assignCustomers(store, config, [cust(1)])).toThrow(`model #${id}: its saved transform is not readable`);
    expect(() => assignCustomers(store, config, [cust(1)])).toThrow(expect.objectContaining({ code: 'MODEL_INVALID' }));
    store.close();
  });

  it('feeds the push engine: only the moved contact is pushed', async () => {
    const { store, config, modelId } = trained();
    const ctx = jobContext(config, store);
    const first = await runPush(ctx, { runId: 2, dryRun: false, approve: false, signal: new AbortController().signal });
    expect(first.targets[0]!.adds).toBe(630);
    addOrders(store, 2, 18, 3, 50);
    assignCustomers(store, config, [cust(2), cust(3)], { now });
    const second = await runPush(ctx, { runId: 3, dryRun: false, approve: false, signal: new AbortController().signal });
    expect(second.modelId).toBe(modelId);
    expect(second.held).toBe(false);
    expect(second.targets[0]!.adds).toBe(1);
    expect(second.targets[0]!.removes).toBe(1);
    store.close();
  });
});
