/** Shared setup for the HubSpot connector tests: a fake HubSpot, a temp store, a config, a clock. */
import { join } from 'node:path';
import Database from 'better-sqlite3';
import nock from 'nock';
import { expect, vi } from 'vitest';
import csv from '../../../connectors/csv/index.js';
import hubspot from '../../../connectors/hubspot/index.js';
import type { HubspotConfig } from '../../../connectors/hubspot/config.js';
import { parseConfig } from '../../../src/config/load.js';
import type { Config } from '../../../src/config/schema.js';
import type { ConnectorContext } from '../../../src/connector/contract.js';
import { createRegistry } from '../../../src/connector/registry.js';
import { createRetryPolicy, type RetryPolicy } from '../../../src/connector/retry.js';
import { silentLogger } from '../../../src/core/logger.js';
import { noProgress } from '../../../src/core/progress.js';
import type { JobContext } from '../../../src/jobs/context.js';
import type { Store } from '../../../src/store/index.js';
import { syncConnector, type StreamCounts } from '../../../src/sync/engine.js';
import { runPush, type PushResult } from '../../../src/push/engine.js';
import { runSegmentation } from '../../../src/segment/run.js';
import { openTestStore, tempDir } from '../../support/store-fixture.js';
import { FAKE_BASE, FAKE_TOKEN, fakeHubspot, type FakeHubspot } from './fake-hubspot.js';

export const registry = createRegistry([csv, hubspot]);

export interface Clock {
  /** every wait the retry policy asked for, in order */
  slept: number[];
  retry: RetryPolicy;
}

/**
 * Date is faked (only Date: nock and fetch keep their real timers), and the
 * retry policy's sleep moves it forward instead of waiting, so rate windows
 * and backoffs elapse at once.
 */
export function fakeClock(start = '2026-07-01T12:00:00.000Z'): Clock {
  vi.useFakeTimers({ toFake: ['Date'] });
  vi.setSystemTime(new Date(start));
  const slept: number[] = [];
  const retry = createRetryPolicy({
    random: () => 0.5,
    sleep: async (ms) => {
      slept.push(ms);
      vi.setSystemTime(new Date(Date.now() + ms));
    },
  });
  return { slept, retry };
}

export function advance(ms: number): void {
  vi.setSystemTime(new Date(Date.now() + ms));
}

export interface Env {
  fake: FakeHubspot;
  clock: Clock;
  dir: string;
  config: Config;
  store: Store;
  ctx: JobContext;
  settings: HubspotConfig;
  /** a connector context, as the engines build them */
  connCtx(): ConnectorContext<HubspotConfig>;
  sync(o?: { full?: boolean; runId?: number }): Promise<StreamCounts[]>;
}

export function setup(o: { connector?: string; push?: string; extraConnectors?: string; features?: string; scopes?: string[] } = {}): Env {
  nock.disableNetConnect();
  nock.enableNetConnect('127.0.0.1');
  const fake = fakeHubspot(o.scopes ? { scopes: o.scopes } : {});
  const clock = fakeClock();
  const dir = tempDir();
  const text = `store: ./store.db
log: { level: silent, file: ./log.jsonl }
connectors:
  - name: hs
    type: hubspot
    accessToken: \${HUBSPOT_ACCESS_TOKEN}
    baseUrl: ${FAKE_BASE}
${(o.connector ?? '').replace(/^/gm, '    ')}
${o.extraConnectors ?? ''}
features: ${o.features ?? '{ preset: rfm, asOf: 2026-06-30 }'}
segmentation: { k: 3, nInit: 1, silhouetteSample: 1000 }
push:
  maxChurn: 1
  targets:
    - connector: hs
${(o.push ?? '').replace(/^/gm, '      ')}
`;
  const config = parseConfig(text, join(dir, 'segsync.yaml'), { registry, env: { HUBSPOT_ACCESS_TOKEN: FAKE_TOKEN } });
  const store = openTestStore(dir);
  const ctx: JobContext = {
    config,
    store,
    logger: silentLogger(),
    progress: noProgress,
    registry,
    retry: clock.retry,
    now: () => new Date(),
    signal: new AbortController().signal,
    trigger: 'manual',
  };
  const conn = config.connectors.find((c) => c.name === 'hs');
  if (!conn) throw new Error('no hs connector');
  const settings = conn.settings as HubspotConfig;
  return {
    fake,
    clock,
    dir,
    config,
    store,
    ctx,
    settings,
    connCtx: () => ({ name: 'hs', config: settings, logger: silentLogger(), signal: ctx.signal, retry: ctx.retry, baseDir: dir }),
    sync: (so = {}) =>
      syncConnector(
        { store, logger: ctx.logger, progress: noProgress, retry: ctx.retry, baseDir: dir, pageSize: 5_000, now: () => new Date() },
        hubspot,
        conn,
        { runId: so.runId ?? 1, full: so.full ?? false, signal: ctx.signal },
      ),
  };
}

export function teardown(env: Env | undefined): void {
  env?.store.close();
  nock.cleanAll();
  nock.enableNetConnect();
  vi.useRealTimers();
}

function rows<T>(store: Store, sql: string, ...args: unknown[]): T[] {
  // a second, read-only connection: the store's interface has no raw SQL (WAL lets both read)
  const db = new Database(store.file, { readonly: true, fileMustExist: true });
  try {
    return db.prepare(sql).all(...args) as T[];
  } finally {
    db.close();
  }
}

/** Contacts in the store: external id -> row. */
export function storedContacts(store: Store, connector = 'hs'): Map<string, { email: string | null; deleted: boolean; country: string | null; customerId: string }> {
  const r = rows<{ external_id: string; email: string | null; deleted_at: string | null; country: string | null; customer_id: string }>(
    store,
    'SELECT external_id, email, deleted_at, country, customer_id FROM contacts WHERE connector = ?',
    connector,
  );
  return new Map(r.map((x) => [x.external_id, { email: x.email, deleted: x.deleted_at !== null, country: x.country, customerId: x.customer_id }]));
}

export function storedTransactions(
  store: Store,
  connector = 'hs',
): Map<string, { contactId: string; amount: number; currency: string; status: string; occurredAt: string; deleted: boolean }> {
  const r = rows<{ external_id: string; contact_id: string; amount: number; currency: string; status: string; occurred_at: string; deleted_at: string | null }>(
    store,
    'SELECT external_id, contact_id, amount, currency, status, occurred_at, deleted_at FROM transactions WHERE connector = ?',
    connector,
  );
  return new Map(
    r.map((x) => [x.external_id, { contactId: x.contact_id, amount: x.amount, currency: x.currency, status: x.status, occurredAt: x.occurred_at, deleted: x.deleted_at !== null }]),
  );
}

export function quarantined(store: Store): { stream: string; external_id: string | null; reason: string }[] {
  return rows(store, 'SELECT stream, external_id, reason FROM quarantine ORDER BY id');
}

/** Runs one write statement on the store file (to simulate what a retrain does, e.g. rename a segment). */
export function sqlWrite(store: Store, sql: string, ...args: unknown[]): void {
  const db = new Database(store.file, { fileMustExist: true });
  try {
    db.prepare(sql).run(...args);
  } finally {
    db.close();
  }
}

const DAY = 86_400_000;
const AS_OF = Date.parse('2026-06-30T00:00:00Z');

/**
 * `customers` contacts (ids from `firstId`) in three behaviour groups — recent
 * frequent buyers, lapsed ones, one-off big spenders — with their deals, plus
 * `idle` contacts without any deal. Deterministic.
 */
export function populateCustomers(fake: FakeHubspot, o: { customers: number; idle?: number; firstId?: number; firstDealId?: number }): number[] {
  let seed = 12345;
  const rnd = (): number => {
    seed = (seed * 1103515245 + 12345) % 2147483648;
    return seed / 2147483648;
  };
  const ids: number[] = [];
  let dealId = o.firstDealId ?? 500_000;
  const first = o.firstId ?? 1_000;
  for (let i = 0; i < o.customers + (o.idle ?? 0); i++) {
    const id = first + i;
    ids.push(id);
    fake.addContact(id, { email: `c${id}@example.com`, country: 'DE', firstname: `C${id}` }, '2026-06-01T00:00:00.000Z');
    if (i >= o.customers) continue;
    const group = i % 3;
    const orders = group === 0 ? 8 + Math.floor(rnd() * 3) : group === 1 ? 3 + Math.floor(rnd() * 2) : 1;
    const lastAgo = group === 0 ? 5 + rnd() * 20 : group === 1 ? 300 + rnd() * 100 : 100 + rnd() * 50;
    for (let j = 0; j < orders; j++) {
      const at = new Date(AS_OF - (lastAgo + j * 20) * DAY).toISOString();
      const amount = ((group === 2 ? 400 : 50) * (0.8 + rnd() * 0.4)).toFixed(2);
      fake.addDeal(dealId++, { amount, closedate: at, dealstage: 'closedwon', pipeline: 'default', deal_currency_code: 'USD' }, [id], '2026-06-01T00:00:00.000Z');
    }
  }
  return ids;
}

export function segmentNow(env: Env, runId: number, k?: number): void {
  runSegmentation(env.ctx, { runId, ...(k !== undefined ? { k } : {}) });
}

export function push(env: Env, runId = 1): Promise<PushResult> {
  return runPush(env.ctx, { runId, dryRun: false, approve: true, signal: env.ctx.signal });
}

/** Every desired membership is in HubSpot: the contact is in its segment's list only, and its property holds the segment id. */
export function expectInSync(env: Env, property = 'segsync_segment'): void {
  const model = env.store.models.activeModel();
  if (!model) throw new Error('no model');
  const desired = [...env.store.push.desired('hs', model.id)];
  const lists = env.store.push.lists('hs');
  const memberOf = new Map<string, string[]>();
  for (const l of env.fake.lists.values()) for (const m of l.members) memberOf.set(m, [...(memberOf.get(m) ?? []), l.listId]);
  expect(desired.length).toBeGreaterThan(0);
  for (const d of desired) {
    expect(memberOf.get(d.externalId), `lists of contact ${d.externalId}`).toEqual([lists[d.segmentId]]);
    expect(env.fake.contacts.get(d.externalId)?.properties[property], `property of contact ${d.externalId}`).toBe(d.segmentId);
  }
  const desiredIds = new Set(desired.map((d) => d.externalId));
  for (const id of memberOf.keys()) expect(desiredIds.has(id), `contact ${id} is in a list but not in a segment`).toBe(true);
}
