/**
 * The full transaction aggregate (pre-aggregated per contact, then joined) and
 * the per-customer one (joined first) must agree: customers with contacts in
 * two connectors, two currencies, lost and deleted transactions.
 */
import { describe, it, expect } from 'vitest';
import { openTestStore, seedStore, tempDir } from '../support/store-fixture.js';
import { join } from 'node:path';
import { createFeaturesRepo, type TxAggregate } from '../../src/store/features-repo.js';
import { openDb } from '../../src/store/open.js';
import type { Transaction } from '../../src/core/records.js';

const NOW = '2026-07-01T00:00:00.000Z';

describe('wonAggregates', () => {
  // The spill itself shows only in memory use (the 1M-customer segment bench); the
  // connection cannot be asked while the read is under way.
  it('puts the in-memory temp store back after a full read sorted on disk', () => {
    const dir = tempDir();
    const store = openTestStore(dir);
    seedStore(store, { customers: 10 });
    store.close();
    const db = openDb(join(dir, 'store.db'));
    const repo = createFeaturesRepo(db);
    const tempStore = (): unknown => db.pragma('temp_store', { simple: true });
    expect(tempStore()).toBe(2);
    expect([...repo.wonAggregates()].length).toBeGreaterThan(0);
    expect(tempStore()).toBe(2);
    // a reader that stops early puts it back too; a read for named customers never changes it
    for (const _ of repo.wonAggregates()) break;
    expect(tempStore()).toBe(2);
    const ids = repo.activeCustomerIds();
    expect([...repo.wonAggregates(ids)].length).toBeGreaterThan(0);
    expect(tempStore()).toBe(2);
    db.close();
  });

  it('gives the same per-customer, per-currency aggregates read in full or for named customers', () => {
    const store = openTestStore(tempDir());
    // same emails in both connectors: one customer, two contacts
    seedStore(store, { customers: 40, idle: 5, connector: 'files' });
    seedStore(store, { customers: 25, seed: 2, connector: 'crm' });
    const tx = (id: string, contact: string, amount: number, currency: string, status: Transaction['status']): Transaction => ({
      id: `crm:${id}`, connector: 'crm', externalId: id, contactId: contact, amount, currency, occurredAt: '2026-01-02T00:00:00.000Z', status, properties: {},
    });
    store.sync.commitPage({
      runId: 0, connector: 'crm', stream: 'transactions', rejected: [], checkpoint: { t: 2 }, now: NOW,
      transactions: [tx('e1', 'crm:c000001', 70, 'EUR', 'won'), tx('e2', 'crm:c000001', 30, 'EUR', 'won'), tx('l1', 'crm:c000002', 999, 'USD', 'lost')],
    });
    store.sync.commitPage({ runId: 0, connector: 'crm', stream: 'transactions', rejected: [], checkpoint: { t: 3 }, now: NOW, deleted: ['t3_0'] });
    store.sync.commitPage({ runId: 0, connector: 'files', stream: 'contacts', rejected: [], checkpoint: { t: 3 }, now: NOW, deleted: ['c000004'] });

    const key = (a: TxAggregate): string => `${a.customerId}|${a.currency}`;
    const full = [...store.features.wonAggregates()].sort((a, b) => key(a).localeCompare(key(b)));
    const ids = store.features.activeCustomerIds();
    const named = [...store.features.wonAggregates(ids)].sort((a, b) => key(a).localeCompare(key(b)));
    expect(full.map(key)).toEqual(named.map(key));
    expect(full.some((a) => a.currency === 'EUR' && a.count === 2 && a.sum === 100)).toBe(true);
    expect(full.some((a) => a.count > 20)).toBe(true); // two contacts' orders under one customer
    full.forEach((a, i) => {
      const b = named[i]!;
      expect([a.count, a.first, a.last]).toEqual([b.count, b.first, b.last]);
      expect(Math.abs(a.sum - b.sum)).toBeLessThanOrEqual(1e-9 * Math.abs(b.sum));
    });
    store.close();
  });

  it('lists live customers sorted and distinct, read in full or for named customers', () => {
    const store = openTestStore(tempDir());
    seedStore(store, { customers: 30, idle: 4, connector: 'files' });
    seedStore(store, { customers: 10, seed: 3, connector: 'crm' });
    store.sync.commitPage({ runId: 0, connector: 'files', stream: 'contacts', rejected: [], checkpoint: { t: 3 }, now: NOW, deleted: ['c000020', 'c000003'] });
    const all = store.features.activeCustomerIds();
    // c000003 lives on through its crm contact; c000020 had only the files one
    expect(all.length).toBe(33);
    expect(all).toEqual([...new Set(all)].sort());
    expect(store.features.activeCustomerIds(all.slice(5, 9))).toEqual(all.slice(5, 9));
    store.close();
  });
});
