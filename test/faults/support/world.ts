/**
 * One fault-suite world: a fake HubSpot and a fake Salesforce org on loopback
 * servers (with fault switches), seeded with the same customers every time, a
 * project directory with a segsync.yaml naming both as sources and push
 * targets, and ways to run the pipeline in this process (with a faked clock)
 * or through the built CLI. `endState` reads everything a scenario compares.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { vi } from 'vitest';
import { fakeHubspot, FAKE_TOKEN, type FakeHubspot } from '../../connectors/hubspot/fake-hubspot.js';
import { populateCustomers } from '../../connectors/hubspot/helpers.js';
import { FakeOrg } from '../../connectors/salesforce/fake-org.js';
import { seedCustomers } from '../../connectors/salesforce/helpers.js';
import { tempDir } from '../../support/store-fixture.js';
import { loadConfig } from '../../../src/config/load.js';
import { defaultRegistry } from '../../../src/connector/registry.js';
import { createRetryPolicy, type RetryPolicy } from '../../../src/connector/retry.js';
import { silentLogger } from '../../../src/core/logger.js';
import { noProgress } from '../../../src/core/progress.js';
import { isUserError } from '../../../src/core/errors.js';
import type { JobContext } from '../../../src/jobs/context.js';
import { withRun } from '../../../src/jobs/with-run.js';
import { syncJob } from '../../../src/jobs/sync.js';
import { runSegmentation } from '../../../src/segment/run.js';
import { runPush } from '../../../src/push/engine.js';
import { pushCounts, pushStatus, syncCounts } from '../../../src/schedule/jobs.js';
import { openStore, type Store } from '../../../src/store/index.js';
import { FaultSwitches, seeded } from './switches.js';

export const HS_CUSTOMERS = 90;
export const HS_IDLE = 6;
/** HubSpot contact ids start here; Salesforce contacts have emails c0..c<n>@example.com, so ids 100..119 are one person in both */
export const HS_FIRST_ID = 100;
export const SF_CUSTOMERS = 60;
export const SF_IDLE = 4;

export interface World {
  dir: string;
  configFile: string;
  hs: FakeHubspot;
  sf: FakeOrg;
  hsFaults: FaultSwitches;
  sfFaults: FaultSwitches;
  stop(): Promise<void>;
}

export interface WorldOptions {
  seed?: number;
  /** extra lines for the HubSpot connector entry (indented by the caller's 4 spaces) */
  hubspot?: string[];
  salesforce?: string[];
  /** top-level YAML appended to the config */
  extra?: string;
  /** the segmentation entry (flow YAML) */
  segmentation?: string;
}

/** Starts both fakes, seeds them, and writes the project's config. */
export async function startWorld(o: WorldOptions = {}): Promise<World> {
  const hs = fakeHubspot({ transport: 'loopback' });
  await hs.listen();
  const sf = await new FakeOrg().start();
  // small query pages: more requests, so a 10% fault rate has something to hit
  sf.maxQueryPage = 25;
  // the same stamps in every world, whenever it starts
  sf.clock = Date.parse('2026-06-20T00:00:00.000Z');
  populateCustomers(hs, { customers: HS_CUSTOMERS, idle: HS_IDLE, firstId: HS_FIRST_ID });
  seedCustomers(sf, SF_CUSTOMERS, SF_IDLE);
  const seed = o.seed ?? 1;
  const hsFaults = new FaultSwitches('hubspot', seed);
  const sfFaults = new FaultSwitches('salesforce', seed + 1);
  hs.interceptors.push(hsFaults.interceptor);
  sf.interceptors.push(sfFaults.interceptor);
  const dir = tempDir();
  const configFile = join(dir, 'segsync.yaml');
  const lines = (xs: string[] | undefined): string => (xs ?? []).map((l) => `    ${l}\n`).join('');
  writeFileSync(
    configFile,
    `store: ./store.db
log: { level: warn, file: ./segsync.log }
connectors:
  - name: hs
    type: hubspot
    accessToken: ${FAKE_TOKEN}
    baseUrl: ${hs.base}
${lines(o.hubspot)}  - name: sf
    type: salesforce
    instanceUrl: ${sf.url}
    accessToken: tok-0
${lines(o.salesforce)}features: { preset: rfm, asOf: 2026-06-30 }
segmentation: ${o.segmentation ?? '{ k: 3, nInit: 1, silhouetteSample: 1000, stabilityRounds: 1 }'}
push:
  maxChurn: 1
  targets:
    - connector: hs
    - connector: sf
${o.extra ?? ''}`,
  );
  return {
    dir,
    configFile,
    hs,
    sf,
    hsFaults,
    sfFaults,
    async stop() {
      await hs.close();
      await sf.stop();
    },
  };
}

/**
 * Fakes Date only (sockets and real timers keep working) and gives a retry
 * policy whose waits move that clock instead of sleeping: rate-limit windows
 * and backoffs pass at once, in this process and in the fakes alike.
 */
export function fakeClock(seed: number, start = '2026-07-01T12:00:00.000Z'): { retry: RetryPolicy; slept: number[] } {
  vi.useFakeTimers({ toFake: ['Date'] });
  vi.setSystemTime(new Date(start));
  const slept: number[] = [];
  const retry = createRetryPolicy({
    random: seeded(seed),
    sleep: async (ms) => {
      slept.push(ms);
      vi.setSystemTime(new Date(Date.now() + ms));
    },
  });
  return { retry, slept };
}

export interface Session {
  store: Store;
  ctx: JobContext;
  close(): void;
}

/** What a CLI invocation builds, in this process, with the given retry policy. */
export function openSession(w: World, retry: RetryPolicy, signal: AbortSignal = new AbortController().signal): Session {
  const config = loadConfig(w.configFile, { registry: defaultRegistry, env: {} });
  const store = openStore(config.store);
  const ctx: JobContext = {
    config,
    store,
    logger: silentLogger(),
    progress: noProgress,
    registry: defaultRegistry,
    retry,
    now: () => new Date(),
    signal,
    trigger: 'manual',
  };
  return { store, ctx, close: () => store.close() };
}

export interface RunEnd {
  runId: number;
  status: string;
  counts: Record<string, unknown>;
  /** the one-line error a CLI user would see */
  error?: string;
  code?: string;
}

/** `segsync run` in this process: sync, segment, push in one run record. */
export async function runPipeline(s: Session, full = false): Promise<RunEnd> {
  try {
    const out = await withRun(s.ctx, 'run', async (runId) => {
      const sync = await syncJob(s.ctx, runId, { full });
      const seg = runSegmentation(s.ctx, { runId });
      const push = await runPush(s.ctx, { runId, dryRun: false, approve: false, signal: s.ctx.signal });
      return { result: null, counts: { sync: syncCounts(sync), segment: { ...seg }, push: pushCounts(push) }, status: pushStatus(push) };
    });
    return { runId: out.runId, status: out.status, counts: out.counts };
  } catch (e) {
    if (!isUserError(e)) throw e;
    const last = lastRun(s.store.file);
    return { runId: last.id, status: last.status, counts: last.counts, error: e.oneLine(), code: e.code };
  }
}

export interface RunRow {
  id: number;
  kind: string;
  status: string;
  counts: Record<string, unknown>;
  error: string | null;
}

function readDb<T>(file: string, fn: (db: Database.Database) => T): T {
  const db = new Database(file, { readonly: true, fileMustExist: true });
  try {
    return fn(db);
  } finally {
    db.close();
  }
}

export function runs(file: string): RunRow[] {
  return readDb(file, (db) =>
    (db.prepare('SELECT id, kind, status, counts, error FROM runs ORDER BY id').all() as { id: number; kind: string; status: string; counts: string; error: string | null }[]).map(
      (r) => ({ ...r, counts: JSON.parse(r.counts) as Record<string, unknown> }),
    ),
  );
}

export function lastRun(file: string): RunRow {
  const r = runs(file).at(-1);
  if (!r) throw new Error('no run recorded');
  return r;
}

export interface EndState {
  store: {
    contacts: unknown[];
    transactions: unknown[];
    customers: number;
    quarantine: unknown[];
    /** customer -> segment name, in the active model */
    memberships: Record<string, string>;
    /** target:externalId -> segment name, as acknowledged */
    pushed: Record<string, string>;
    /** outbox ops not done (pending or failed), per target */
    unfinished: Record<string, number>;
  };
  hubspot: {
    /** list name -> members */
    lists: Record<string, string[]>;
    /** contact -> segment name (the option label of its property value) */
    property: Record<string, string>;
    options: { label: string; hidden: boolean }[];
    contacts: number;
  };
  salesforce: {
    /** active campaign name -> members */
    campaigns: Record<string, string[]>;
    inactive: string[];
    /** contact or lead -> Segment__c */
    field: Record<string, string>;
  };
}

/**
 * Everything a scenario compares, with segment ids replaced by segment names:
 * a crash between reserving segment ids and saving the model skips numbers
 * (by design, src/segment/run.ts), so ids may differ between two correct runs
 * while every name, member and list is the same.
 */
/**
 * `contactStamps: false` leaves contacts' updated_at out: a push that writes the
 * Salesforce field moves the contact's SystemModstamp, so a run that re-reads it
 * after a crash stores the later stamp (the CRM did change).
 */
export function endState(w: World, o: { contactStamps?: boolean; live?: boolean } = {}): EndState {
  const file = join(w.dir, 'store.db');
  const updated = o.contactStamps === false ? 'NULL' : 'updated_at';
  // live: what the store holds of records that exist (a deleted contact stays as a marked row, with its transactions)
  const liveContacts = o.live ? 'WHERE deleted_at IS NULL' : '';
  const liveTx = o.live ? 'WHERE deleted_at IS NULL AND contact_id IN (SELECT id FROM contacts WHERE deleted_at IS NULL)' : '';
  const liveCustomers = o.live ? 'WHERE id IN (SELECT customer_id FROM contacts WHERE deleted_at IS NULL)' : '';
  const store = readDb(file, (db) => {
    const all = (sql: string): unknown[] => db.prepare(sql).raw().all();
    const active = db.prepare("SELECT id FROM models WHERE status = 'active'").pluck().get() as number | undefined;
    const names = new Map((db.prepare('SELECT id, name FROM segments').raw().all() as [string, string][]).map(([id, n]) => [id, n]));
    const name = (id: string): string => names.get(id) ?? `?${id}`;
    const memberships: Record<string, string> = {};
    for (const [c, s] of db.prepare('SELECT customer_id, segment_id FROM memberships WHERE model_id = ? ORDER BY customer_id').raw().all(active ?? -1) as [string, string][]) {
      memberships[c] = name(s);
    }
    const pushed: Record<string, string> = {};
    for (const [t, e, s] of db.prepare('SELECT target, external_id, segment_id FROM pushed ORDER BY target, external_id').raw().all() as [string, string, string][]) {
      pushed[`${t}:${e}`] = name(s);
    }
    const unfinished: Record<string, number> = {};
    for (const [t, n] of db.prepare("SELECT target, COUNT(*) FROM outbox WHERE state IN ('pending', 'failed') GROUP BY target").raw().all() as [string, number][]) unfinished[t] = n;
    return {
      contacts: all(
        `SELECT connector, external_id, customer_id, email, first_name, last_name, company, country, lifecycle_stage, created_at, ${updated}, deleted_at IS NOT NULL, properties FROM contacts ${liveContacts} ORDER BY id`,
      ),
      transactions: all(`SELECT connector, external_id, contact_id, amount, currency, occurred_at, status, deleted_at IS NOT NULL, properties FROM transactions ${liveTx} ORDER BY id`),
      customers: db.prepare(`SELECT COUNT(*) FROM customers ${liveCustomers}`).pluck().get() as number,
      quarantine: all('SELECT connector, stream, external_id, reason FROM quarantine ORDER BY connector, stream, external_id, reason'),
      memberships,
      pushed,
      unfinished,
    };
  });

  const prop = w.hs.properties.get('segsync_segment');
  const label = new Map((prop?.options ?? []).map((o) => [o.value, o.label]));
  const lists: Record<string, string[]> = {};
  for (const l of w.hs.lists.values()) lists[l.name] = [...l.members].sort();
  const property: Record<string, string> = {};
  for (const c of w.hs.contacts.values()) {
    const v = c.properties.segsync_segment;
    if (v) property[c.id] = label.get(v) ?? `?${v}`;
  }

  const campaigns: Record<string, string[]> = {};
  const inactive: string[] = [];
  const campaignName = new Map<string, string>();
  for (const c of w.sf.live('Campaign')) {
    campaignName.set(c.Id as string, c.Name as string);
    if (c.IsActive) campaigns[c.Name as string] = [];
    else inactive.push(c.Name as string);
  }
  for (const m of w.sf.live('CampaignMember')) {
    const list = campaigns[campaignName.get(m.CampaignId as string) ?? ''];
    if (list) list.push((m.ContactId ?? m.LeadId) as string);
  }
  for (const k of Object.keys(campaigns)) campaigns[k]?.sort();
  const field: Record<string, string> = {};
  for (const r of [...w.sf.live('Contact'), ...w.sf.live('Lead')]) if (r.Segment__c) field[r.Id as string] = r.Segment__c as string;

  return {
    store,
    hubspot: { lists, property, options: (prop?.options ?? []).map((o) => ({ label: o.label, hidden: o.hidden })).sort((a, b) => a.label.localeCompare(b.label)), contacts: w.hs.contacts.size },
    salesforce: { campaigns, inactive: inactive.sort(), field },
  };
}

/**
 * Effective membership changes per (list, person) at both fakes: with no
 * retrain in between, every desired membership is added exactly once and
 * nothing is removed, however often a batch was sent again.
 */
export function membershipChanges(w: World): { hubspot: Map<string, { adds: number; removes: number }>; salesforce: Map<string, { adds: number; removes: number }> } {
  const count = (log: { list: string; person: string; op: 'add' | 'remove' }[]): Map<string, { adds: number; removes: number }> => {
    const m = new Map<string, { adds: number; removes: number }>();
    for (const e of log) {
      const k = `${e.list}|${e.person}`;
      const c = m.get(k) ?? { adds: 0, removes: 0 };
      if (e.op === 'add') c.adds++;
      else c.removes++;
      m.set(k, c);
    }
    return m;
  };
  return {
    hubspot: count(w.hs.membershipLog.map((e) => ({ list: e.list, person: e.contact, op: e.op }))),
    salesforce: count(w.sf.membershipLog.map((e) => ({ list: e.campaign, person: e.person, op: e.op }))),
  };
}

/** The counts of a run record that must not depend on faults (pages and requests may). */
export function stableCounts(c: Record<string, unknown>): unknown {
  return JSON.parse(JSON.stringify(c), (k, v: unknown) => (k === 'modelId' || k === 'pages' ? undefined : v));
}
