/** Configs, contexts, stores and seed data for the Salesforce connector tests. */
import { join } from 'node:path';
import Database from 'better-sqlite3';
import csv from '../../../connectors/csv/index.js';
import salesforce from '../../../connectors/salesforce/index.js';
import type { SalesforceConfig, SalesforceTarget } from '../../../connectors/salesforce/config.js';
import { createRegistry } from '../../../src/connector/registry.js';
import { createRetryPolicy } from '../../../src/connector/retry.js';
import type { ConnectorContext, WriterContext } from '../../../src/connector/contract.js';
import { parseConfig } from '../../../src/config/load.js';
import type { Config, ConnectorConfig } from '../../../src/config/schema.js';
import { silentLogger } from '../../../src/core/logger.js';
import { noProgress } from '../../../src/core/progress.js';
import { syncConnector, type StreamCounts } from '../../../src/sync/engine.js';
import type { Store } from '../../../src/store/index.js';
import type { JobContext } from '../../../src/jobs/context.js';
import { openTestStore, tempDir } from '../../support/store-fixture.js';
import type { FakeOrg } from './fake-org.js';
import type { Row } from './soql-eval.js';

export const registry = createRegistry([csv, salesforce]);

/** A retry policy that never really waits. */
export const fastRetry = () => createRetryPolicy({ sleep: async () => {} });

const indent = (s: string, n: number): string =>
  s
    .split('\n')
    .filter((l) => l.trim() !== '')
    .map((l) => `${' '.repeat(n)}${l}`)
    .join('\n');

/** Auth lines for the fake: a fixed token by default. */
export function authYaml(org: FakeOrg, kind: 'token' | 'oauth' = 'token'): string {
  return kind === 'token'
    ? `instanceUrl: ${org.url}\naccessToken: tok-0`
    : `oauth:\n  loginUrl: ${org.url}\n  clientId: ${org.oauth.clientId}\n  clientSecret: ${org.oauth.clientSecret}\n  refreshToken: ${org.oauth.refreshToken}`;
}

/** A whole segsync config with one Salesforce connector named "sf" and a push target for it. */
export function sfConfig(dir: string, org: FakeOrg, o: { connector?: string; target?: string; auth?: string; extra?: string } = {}): Config {
  const text = `store: ./store.db
log: { level: silent, file: ./log.jsonl }
connectors:
  - name: sf
    type: salesforce
${indent(o.auth ?? authYaml(org), 4)}
${indent(o.connector ?? '', 4)}
features: { preset: rfm, asOf: 2026-06-30 }
segmentation: { k: 3, nInit: 1, silhouetteSample: 1000 }
push:
  maxChurn: 1
  targets:
    - connector: sf
${indent(o.target ?? '', 6)}
${o.extra ?? ''}`;
  return parseConfig(text, join(dir, 'segsync.yaml'), { registry, env: {} });
}

export function sfEntry(config: Config): ConnectorConfig {
  const c = config.connectors.find((x) => x.name === 'sf');
  if (!c) throw new Error('no sf connector');
  return c;
}

export function connectorCtx(config: Config, signal: AbortSignal = new AbortController().signal): ConnectorContext<SalesforceConfig> {
  return { name: 'sf', config: sfEntry(config).settings as SalesforceConfig, logger: silentLogger(), signal, retry: fastRetry(), baseDir: config.baseDir };
}

export function writerCtx(config: Config, signal: AbortSignal = new AbortController().signal): WriterContext<SalesforceConfig, SalesforceTarget> {
  const target = salesforce.targetSchema?.parse(config.push.targets[0]) as SalesforceTarget;
  return { ...connectorCtx(config, signal), target };
}

export interface Harness {
  dir: string;
  config: Config;
  store: Store;
  /** sync the sf connector (incremental unless full), with a fresh job signal unless given */
  sync(o?: { full?: boolean; signal?: AbortSignal; pageSize?: number }): Promise<StreamCounts[]>;
  job(signal?: AbortSignal): JobContext;
}

export function harness(org: FakeOrg, o: Parameters<typeof sfConfig>[2] = {}): Harness {
  const dir = tempDir();
  const config = sfConfig(dir, org, o);
  const store = openTestStore(dir);
  const job = (signal: AbortSignal = new AbortController().signal): JobContext => ({
    config,
    store,
    logger: silentLogger(),
    progress: noProgress,
    registry,
    retry: fastRetry(),
    now: () => new Date('2026-07-01T00:00:00Z'),
    signal,
    trigger: 'manual',
  });
  return {
    dir,
    config,
    store,
    job,
    sync: (s = {}) =>
      syncConnector(
        { store, logger: silentLogger(), progress: noProgress, retry: fastRetry(), baseDir: dir, pageSize: s.pageSize ?? 5000, now: () => new Date('2026-07-01T00:00:00Z') },
        salesforce,
        sfEntry(config),
        { runId: 1, full: s.full ?? false, signal: s.signal ?? new AbortController().signal },
      ),
  };
}

/** `n` contacts with emails c<i>@example.com; a fixed stamp makes them all tie. */
export function seedContacts(org: FakeOrg, n: number, o: { stamp?: string; from?: number; account?: string } = {}): Row[] {
  const out: Row[] = [];
  for (let i = o.from ?? 0; i < (o.from ?? 0) + n; i++) {
    out.push(
      org.insert('Contact', {
        Email: `c${i}@example.com`,
        FirstName: `First${i}`,
        LastName: `Last${i}`,
        MailingCountry: i % 2 ? 'Germany' : 'US',
        LeadSource: i % 3 ? 'Web' : 'Partner',
        ...(o.account ? { AccountId: o.account } : {}),
        ...(o.stamp ? { SystemModstamp: o.stamp } : {}),
      }),
    );
  }
  return out;
}

/** A won opportunity with one primary contact role. */
export function seedWon(org: FakeOrg, contactId: string, amount: number, closeDate: string, o: { currency?: string; stage?: string } = {}): Row {
  const opp = org.insert('Opportunity', { Amount: amount, CloseDate: closeDate, StageName: o.stage ?? 'Closed Won', IsWon: true, CurrencyIsoCode: o.currency ?? 'USD' });
  org.insert('OpportunityContactRole', { OpportunityId: opp.Id, ContactId: contactId, IsPrimary: true });
  return opp;
}

function query<T>(store: Store, sql: string): T[] {
  const db = new Database(store.file, { readonly: true });
  try {
    return db.prepare(sql).all() as T[];
  } finally {
    db.close();
  }
}

export function contactsIn(store: Store): { externalId: string; email: string | null; deleted: boolean; country: string | null; company: string | null; properties: Record<string, unknown> }[] {
  return query<{ external_id: string; email: string | null; deleted_at: string | null; country: string | null; company: string | null; properties: string }>(
    store,
    "SELECT external_id, email, deleted_at, country, company, properties FROM contacts WHERE connector = 'sf' ORDER BY external_id",
  ).map((r) => ({ externalId: r.external_id, email: r.email, deleted: r.deleted_at !== null, country: r.country, company: r.company, properties: JSON.parse(r.properties) as Record<string, unknown> }));
}

export function transactionsIn(store: Store): { externalId: string; contactId: string; amount: number; currency: string; deleted: boolean }[] {
  return query<{ external_id: string; contact_id: string; amount: number; currency: string; deleted_at: string | null }>(
    store,
    "SELECT external_id, contact_id, amount, currency, deleted_at FROM transactions WHERE connector = 'sf' ORDER BY external_id",
  ).map((r) => ({ externalId: r.external_id, contactId: r.contact_id, amount: r.amount, currency: r.currency, deleted: r.deleted_at !== null }));
}

export function quarantineIn(store: Store): { stream: string; externalId: string | null; reason: string }[] {
  return query<{ stream: string; external_id: string | null; reason: string }>(store, "SELECT stream, external_id, reason FROM quarantine WHERE connector = 'sf' ORDER BY id").map((r) => ({
    stream: r.stream,
    externalId: r.external_id,
    reason: r.reason,
  }));
}

const AS_OF = Date.parse('2026-06-30T00:00:00Z');
const DAY = 86_400_000;

/**
 * `customers` contacts in three behaviour groups (recent and frequent, lapsed,
 * big one-off buyers) with won opportunities, plus `idle` contacts who never
 * bought; deterministic.
 */
export function seedCustomers(org: FakeOrg, customers: number, idle = 0): Row[] {
  const contacts = seedContacts(org, customers + idle);
  let x = 7;
  const rnd = (): number => {
    x = (x * 1103515245 + 12345) % 2147483648;
    return x / 2147483648;
  };
  contacts.slice(0, customers).forEach((c, i) => {
    const group = i % 3;
    const orders = group === 0 ? 12 + Math.floor(rnd() * 4) : group === 1 ? 4 + Math.floor(rnd() * 2) : 1;
    const lastAgo = group === 0 ? 5 + rnd() * 20 : group === 1 ? 300 + rnd() * 60 : 100 + rnd() * 40;
    for (let j = 0; j < orders; j++) {
      const day = new Date(AS_OF - (lastAgo + j * 20) * DAY).toISOString().slice(0, 10);
      seedWon(org, c.Id as string, Math.round((group === 2 ? 400 : 50) * (0.8 + rnd() * 0.4) * 100) / 100, day);
    }
  });
  return contacts;
}
