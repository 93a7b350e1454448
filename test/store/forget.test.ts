/** Erasure: no byte of the person may stay in the store files (main file and WAL). */
import { describe, it, expect } from 'vitest';
import { readFileSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import { openTestStore, seedStore, tempDir } from '../support/store-fixture.js';

function storeBytes(dir: string): Buffer {
  const parts = ['store.db', 'store.db-wal'].map((f) => join(dir, f)).filter(existsSync).map((f) => readFileSync(f));
  return Buffer.concat(parts);
}

describe('forget', () => {
  it('erases the contact, its transactions, customer, memberships, pushed state and quarantine payloads', () => {
    const dir = tempDir();
    const store = openTestStore(dir);
    seedStore(store, { customers: 50 });
    const email = 'p7@example.com';
    store.sync.commitPage({
      runId: 1,
      connector: 'files',
      stream: 'transactions',
      rejected: [{ externalId: 'tx-bad', reason: 'bad amount: x', location: 'f.csv:9', payload: { note: `refund for ${email}` } }],
      checkpoint: { x: 1 },
      now: '2026-07-01T00:00:00.000Z',
    });
    expect(storeBytes(dir).includes(email)).toBe(true);
    const before = store.status.counts();
    const c = store.forget.erase(email, ['files']);
    expect(c.contacts).toBe(1);
    expect(c.transactions).toBeGreaterThan(0);
    expect(c.customers).toBe(1);
    expect(c.quarantine).toBe(1);
    expect(store.status.counts().contacts).toBe(before.contacts - 1);
    expect(store.forget.contactsByEmail(email)).toEqual([]);
    // other people are untouched
    expect(store.forget.contactsByEmail('p8@example.com')).toHaveLength(1);
    expect(storeBytes(dir).includes(email)).toBe(false);
    expect(storeBytes(dir).includes('p8@example.com')).toBe(true);
    store.close();
    expect(storeBytes(dir).includes(email)).toBe(false);
  });

  it('an unknown address erases nothing', () => {
    const dir = tempDir();
    const store = openTestStore(dir);
    seedStore(store, { customers: 10 });
    const c = store.forget.erase('nobody@example.com', ['files']);
    expect(Object.values(c).every((v) => v === 0)).toBe(true);
    expect(store.status.counts().contacts).toBe(10);
    store.close();
  });
});
