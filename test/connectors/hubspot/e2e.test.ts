/**
 * End to end against the fake HubSpot: sync (contacts and deals) -> segment ->
 * push, with a CSV source holding one of the same people; then a second run
 * with nothing changed in HubSpot writes nothing.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { syncConnector } from '../../../src/sync/engine.js';
import { noProgress } from '../../../src/core/progress.js';
import { advance, expectInSync, populateCustomers, push, registry, segmentNow, setup, storedContacts, teardown, type Env } from './helpers.js';

let env: Env | undefined;
afterEach(() => teardown(env));

describe('HubSpot end to end', () => {
  it('sync -> segment -> push, then a second run with no change sends zero write requests', async () => {
    env = setup({
      extraConnectors: '  - { name: files, type: csv, contacts: ./contacts.csv, transactions: ./transactions.csv }',
    });
    const ids = populateCustomers(env.fake, { customers: 90, idle: 10 });
    // the same person as HubSpot contact 1000 (same email), with purchases of their own in the CSV
    writeFileSync(join(env.dir, 'contacts.csv'), 'id,email,first_name\nx1,C1000@example.com,Cee\n');
    writeFileSync(join(env.dir, 'transactions.csv'), 'id,contact_id,amount,currency,occurred_at\nt1,x1,99.5,USD,2026-06-20\n');

    const counts = await env.sync({ full: true });
    expect(counts.map((c) => [c.stream, c.upserted, c.quarantined])).toEqual([
      ['contacts', 100, 0],
      ['transactions', env.fake.deals.size, 0],
    ]);
    const files = env.config.connectors.find((c) => c.name === 'files');
    const csv = await registry.load('csv');
    if (!files) throw new Error('csv connector missing');
    await syncConnector(
      { store: env.store, logger: env.ctx.logger, progress: noProgress, retry: env.ctx.retry, baseDir: env.dir, pageSize: 1000, now: () => new Date() },
      csv,
      files,
      { runId: 1, full: true, signal: env.ctx.signal },
    );
    // one customer, two CRM records
    const hs1000 = storedContacts(env.store).get('1000');
    expect(storedContacts(env.store, 'files').get('x1')?.customerId).toBe(hs1000?.customerId);

    segmentNow(env, 1);
    const r = await push(env);
    expect(r.targets).toHaveLength(1);
    expect(r.targets[0]).toMatchObject({ target: 'hs', adds: 100, written: 100, failed: 0 });
    expectInSync(env);
    // the shared customer is pushed to HubSpot under its HubSpot id, never the CSV one
    const members = [...env.fake.lists.values()].flatMap((l) => [...l.members]);
    expect(members).toContain('1000');
    expect(members).not.toContain('x1');
    expect(new Set(members).size).toBe(ids.length);

    // the next scheduled run: nothing changed in HubSpot
    advance(30 * 60_000);
    const writes = env.fake.writes().length;
    const again = await env.sync();
    expect(again.map((c) => c.read)).toEqual([0, 0]);
    segmentNow(env, 2);
    const r2 = await push(env, 2);
    expect(r2.targets[0]).toMatchObject({ adds: 0, removes: 0, written: 0 });
    expect(env.fake.writes()).toHaveLength(writes);
  });
});
