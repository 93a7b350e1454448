/**
 * The contacts and transactions streams.
 *
 * Every object is read incrementally on SystemModstamp with
 * `ORDER BY SystemModstamp, Id` and the tie-safe cursor (stamp, id): the next
 * read asks for rows after (stamp, id), so rows sharing one stamp are neither
 * skipped nor read twice. REST pages (queryMore, up to 2,000 rows) each commit
 * with the cursor of their last row. A read of more than `bulkThreshold` rows
 * runs as a Bulk API 2.0 query job instead: its rows come unordered, so while
 * the job is read the checkpoint holds the job and the locator of the next
 * page (a resume continues the job), and the cursor moves to the latest row
 * seen once the last page is in.
 *
 * Deletions: with `deletions: queryAll` the reads include deleted rows
 * (IsDeleted, merged contacts with MasterRecordId) and those go to
 * Page.deleted; with `getDeleted`, the getDeleted endpoint lists them after
 * each read. Converted leads, opportunities that are not (or no longer) won
 * and orders that are not activated also go to Page.deleted, so the store
 * keeps exactly the won transactions.
 */
import { z } from 'zod';
import type { Checkpoint, ConnectorContext, Page, Stream } from '../../src/connector/contract.js';
import { RemoteError } from '../../src/core/errors.js';
import type { Contact, Transaction } from '../../src/core/records.js';
import type { SalesforceConfig } from './config.js';
import { clientFor, type SalesforceClient } from './client.js';
import { createQueryJob, jobGone, resultPage, waitForJob } from './bulk.js';
import { parseContact, parseTransaction } from './map.js';
import { SalesforceDeleted, expectShape, type PageObject, type SalesforcePageRecord } from './shapes.js';
import { afterCursor, and, dateTimeLiteral, isoStamp, laterCursor, select, valueAt, type Cursor } from './soql.js';

const cpValue = z.union([z.string(), z.number(), z.boolean(), z.null()]);
export const salesforceCheckpointSchema: z.ZodType<Checkpoint> = z.record(z.string(), cpValue);

/** Where one object's read stands. */
export interface ObjectState {
  cursor?: Cursor;
  /** A Bulk API 2.0 job being read, the next page's locator, the latest row seen so far. */
  bulkJob?: string;
  bulkLocator?: string;
  bulkMax?: Cursor;
}

const str = (v: unknown): string | undefined => (typeof v === 'string' && v !== '' ? v : undefined);

export function stateOf(cp: Checkpoint, p: string): ObjectState {
  const s: ObjectState = {};
  const stamp = str(cp[`${p}Stamp`]);
  const id = str(cp[`${p}Id`]);
  if (stamp && id) s.cursor = { stamp, id };
  const job = str(cp[`${p}BulkJob`]);
  if (job) {
    s.bulkJob = job;
    const loc = str(cp[`${p}BulkLocator`]);
    if (loc) s.bulkLocator = loc;
    const ms = str(cp[`${p}BulkMaxStamp`]);
    const mi = str(cp[`${p}BulkMaxId`]);
    if (ms && mi) s.bulkMax = { stamp: ms, id: mi };
  }
  return s;
}

export function flatState(p: string, s: ObjectState): Checkpoint {
  return {
    [`${p}Stamp`]: s.cursor?.stamp ?? null,
    [`${p}Id`]: s.cursor?.id ?? null,
    [`${p}BulkJob`]: s.bulkJob ?? null,
    [`${p}BulkLocator`]: s.bulkLocator ?? null,
    [`${p}BulkMaxStamp`]: s.bulkMax?.stamp ?? null,
    [`${p}BulkMaxId`]: s.bulkMax?.id ?? null,
  };
}

export interface ObjectSpec {
  /** for messages: "contacts", "opportunity contact roles"... */
  label: string;
  from: string;
  fields: string[];
  /** cursor fields (paths) */
  stamp: string;
  id: string;
  /** ORDER BY after stamp and id */
  thenBy?: string[];
  where?: string;
  scanAll: boolean;
  /** rows are independent of their order, so a Bulk API 2.0 job may read them */
  bulk: boolean;
}

export interface Batch {
  rows: Record<string, unknown>[];
  state: ObjectState;
  /** rows the read will return in all, when known */
  total?: number;
}

function cursorOf(spec: ObjectSpec, row: Record<string, unknown>): Cursor {
  const stamp = valueAt(row, spec.stamp);
  const id = valueAt(row, spec.id);
  if (typeof stamp !== 'string' || typeof id !== 'string') {
    throw new RemoteError('client', `Salesforce ${spec.label}: a row has no ${typeof id !== 'string' ? spec.id : spec.stamp}`);
  }
  let iso: string;
  try {
    iso = isoStamp(stamp);
  } catch {
    throw new RemoteError('client', `Salesforce ${spec.label}: row ${id} has an unreadable ${spec.stamp} ${JSON.stringify(stamp)}`);
  }
  return { stamp: iso, id };
}

const restBatch = (pageSize: number): number => Math.min(2000, Math.max(200, pageSize));

async function* readBulk(client: SalesforceClient, spec: ObjectSpec, start: ObjectState, pageSize: number, signal: AbortSignal): AsyncGenerator<Batch> {
  const job = start.bulkJob as string;
  let max = start.bulkMax;
  let locator = start.bulkLocator;
  if (locator === undefined) await waitForJob(client, job);
  for (;;) {
    const p = await resultPage(client, job, locator, Math.max(pageSize, 100));
    for (const r of p.rows) max = laterCursor(max, cursorOf(spec, r));
    if (p.next) {
      locator = p.next;
      yield { rows: p.rows, state: { ...(start.cursor ? { cursor: start.cursor } : {}), bulkJob: job, bulkLocator: locator, ...(max ? { bulkMax: max } : {}) } };
      // cancelled: the checkpoint holds the job and the next locator
      if (signal.aborted) return;
    } else {
      const cursor = laterCursor(start.cursor, max);
      yield { rows: p.rows, state: cursor ? { cursor } : {} };
      return;
    }
  }
}

/** Reads one object from its state to the end, as batches of rows with the state after each. */
export async function* readObject(
  client: SalesforceClient,
  ctx: ConnectorContext<SalesforceConfig>,
  spec: ObjectSpec,
  state: ObjectState,
  pageSize: number,
): AsyncGenerator<Batch> {
  if (state.bulkJob) {
    let resumed = false;
    try {
      for await (const b of readBulk(client, spec, state, pageSize, ctx.signal)) {
        resumed = true;
        yield b;
      }
      return;
    } catch (e) {
      if (resumed || !jobGone(e)) throw e;
      ctx.logger.warn({ job: state.bulkJob }, `salesforce ${spec.label}: the bulk job's results are gone; reading again from the saved cursor`);
      state = state.cursor ? { cursor: state.cursor } : {};
    }
  }
  const where = and(spec.where, afterCursor(spec.stamp, spec.id, state.cursor));
  const soql = select(spec.fields, spec.from, where, [spec.stamp, spec.id, ...(spec.thenBy ?? [])]);
  let page = await client.query(`${spec.label} query`, soql, { scanAll: spec.scanAll, batchSize: restBatch(pageSize) });
  const threshold = ctx.config.bulkThreshold;
  if (spec.bulk && !page.done && page.totalSize > threshold) {
    ctx.logger.info({ rows: page.totalSize, bulkThreshold: threshold }, `salesforce ${spec.label}: ${page.totalSize} rows, reading them with a Bulk API 2.0 query job`);
    const job = await createQueryJob(client, select(spec.fields, spec.from, where), spec.scanAll);
    const st: ObjectState = { ...(state.cursor ? { cursor: state.cursor } : {}), bulkJob: job };
    // commit the job id first: a resume reads this job instead of starting another
    yield { rows: [], state: st, total: page.totalSize };
    for await (const b of readBulk(client, spec, st, pageSize, ctx.signal)) yield { ...b, total: page.totalSize };
    return;
  }
  let cursor = state.cursor;
  for (;;) {
    const last = page.records[page.records.length - 1];
    if (last) cursor = cursorOf(spec, last);
    yield { rows: page.records, state: cursor ? { cursor } : {}, total: page.totalSize };
    // stop between pages when the run is cancelled: everything yielded is committed
    if (page.done || !page.nextRecordsUrl || ctx.signal.aborted) return;
    page = await client.queryMore(`${spec.label} query`, page.nextRecordsUrl, restBatch(pageSize));
  }
}

const flag = (v: unknown): boolean => v === true || v === 'true';

const DAY = 86_400_000;

/** The wall clock of getDeleted windows (replaceable in tests, whose org lives on its own clock). */
export const clock = { now: (): number => Date.now() };

/**
 * Deleted ids of one object through the getDeleted endpoint, from `since` (or
 * as far back as it goes: 15 days) to now. The endpoint ignores seconds, and
 * the next window starts at its latestDateCovered, so nothing falls between.
 */
async function getDeleted(
  client: SalesforceClient,
  ctx: ConnectorContext<SalesforceConfig>,
  object: string,
  since: string | undefined,
): Promise<{ ids: string[]; until: string } | undefined> {
  const now = clock.now();
  const floor = now - 14 * DAY;
  let start = since ? Date.parse(since) : floor;
  if (start < floor) {
    ctx.logger.warn({ object, since }, `salesforce: deletions of ${object} before ${new Date(floor).toISOString()} can no longer be listed; records deleted then may remain in the store`);
    start = floor;
  }
  // the endpoint works in whole minutes: nothing to ask within the same minute
  if (Math.floor(now / 60_000) <= Math.floor(start / 60_000)) return undefined;
  const fmt = (t: number): string => `${new Date(t).toISOString().slice(0, 19)}+00:00`;
  const r = await client.get(`deleted ${object}`, `/sobjects/${object}/deleted/?start=${encodeURIComponent(fmt(start))}&end=${encodeURIComponent(fmt(now))}`);
  const d = expectShape(SalesforceDeleted, r.body, `deleted ${object} list`);
  return { ids: d.deletedRecords.map((x) => x.id), until: isoStamp(d.latestDateCovered) };
}

/**
 * A contact created after the contacts stream read (say, between the two streams of a
 * run) is not in the store yet: a transaction of it read in the same run would be
 * quarantined for an unknown contact while the cursor moved past it, and never be read
 * again. So the transactions stream of a run reads only what changed up to a settle
 * margin before its contacts stream started (allowing for clock skew with Salesforce);
 * anything newer waits for the next sync, after its contact. Keyed by the run's client.
 */
export const CONTACTS_SETTLE_MS = 5 * 60_000;
const contactsReadFrom = new WeakMap<SalesforceClient, number>();

function startCheckpoint(from: Checkpoint | undefined, full: boolean, keep: (cp: Checkpoint) => boolean): Checkpoint {
  if (full || !from) return { v: 1 };
  const p = salesforceCheckpointSchema.safeParse(from);
  return p.success && p.data.v === 1 && keep(p.data) ? { ...p.data } : { v: 1 };
}

// ---------------------------------------------------------------- contacts

const PERSON_BASE = ['Id', 'SystemModstamp', 'CreatedDate', 'IsDeleted', 'MasterRecordId'];

export function personSpec(object: 'Contact' | 'Lead', cfg: SalesforceConfig): ObjectSpec {
  const p = object === 'Lead' ? cfg.leads : cfg.contacts;
  const mapped = Object.values(p.fields).filter((f): f is string => f !== null);
  return {
    label: object === 'Lead' ? 'leads' : 'contacts',
    from: object,
    fields: [...PERSON_BASE, ...(object === 'Lead' ? ['IsConverted'] : []), ...mapped, ...p.properties],
    stamp: 'SystemModstamp',
    id: 'Id',
    scanAll: cfg.deletions === 'queryAll',
    bulk: true,
  };
}

export const contactsStream: Stream<SalesforceConfig, Contact> = {
  checkpointSchema: salesforceCheckpointSchema,
  async *read(ctx, from, opts): AsyncGenerator<Page> {
    const cfg = ctx.config;
    const client = clientFor(ctx);
    let cp = startCheckpoint(from, opts.full, () => true);
    // never synced (no checkpoint, not --full): the store holds nothing to delete yet
    const firstRead = from === undefined && !opts.full;
    const readStart = new Date(clock.now()).toISOString();
    contactsReadFrom.set(client, Date.parse(readStart));
    const objects: ('Contact' | 'Lead')[] = cfg.includeLeads ? ['Contact', 'Lead'] : ['Contact'];
    let done = 0;
    for (const object of objects) {
      const prefix = object === 'Lead' ? 'lead' : 'contact';
      const spec = personSpec(object, cfg);
      const state = stateOf(cp, prefix);
      let merged = 0;
      for await (const b of readObject(client, ctx, spec, state, opts.pageSize)) {
        const records: SalesforcePageRecord[] = [];
        const deleted: string[] = [];
        for (const row of b.rows) {
          const id = valueAt(row, 'Id') as string;
          if (valueAt(row, 'MasterRecordId')) merged++;
          if (flag(row.IsDeleted) || valueAt(row, 'MasterRecordId') || (object === 'Lead' && flag(row.IsConverted))) deleted.push(id);
          else records.push({ object, record: row });
        }
        cp = { ...cp, ...flatState(prefix, b.state) };
        done += b.rows.length;
        ctx.progress?.(done, b.total);
        yield { records, ...(deleted.length ? { deleted } : {}), checkpoint: cp };
      }
      if (merged) ctx.logger.info({ merged }, `salesforce ${spec.label}: ${merged} merged away, removed`);
      if (ctx.signal.aborted) return;
      if (cfg.deletions === 'getDeleted') {
        if (firstRead) {
          cp = { ...cp, [`${prefix}DeletedUntil`]: readStart };
          yield { records: [], checkpoint: cp };
          continue;
        }
        const d = await getDeleted(client, ctx, object, str(cp[`${prefix}DeletedUntil`]) ?? state.cursor?.stamp);
        if (d) {
          cp = { ...cp, [`${prefix}DeletedUntil`]: d.until };
          yield { records: [], deleted: d.ids, checkpoint: cp };
        }
      }
    }
  },
  parse: (raw, { connector, config }) => parseContact(raw, connector, config),
};

// ---------------------------------------------------------------- transactions

function opportunitySpec(multiCurrency: boolean): ObjectSpec {
  return {
    label: 'opportunity contact roles',
    from: 'OpportunityContactRole',
    fields: [
      'Id', 'OpportunityId', 'ContactId', 'IsPrimary', 'CreatedDate',
      'Opportunity.Amount', 'Opportunity.CloseDate', 'Opportunity.StageName', 'Opportunity.IsWon', 'Opportunity.SystemModstamp',
      ...(multiCurrency ? ['Opportunity.CurrencyIsoCode'] : []),
    ],
    stamp: 'Opportunity.SystemModstamp',
    id: 'OpportunityId',
    // the primary role first, then the earliest
    thenBy: ['IsPrimary DESC', 'CreatedDate', 'Id'],
    scanAll: false,
    // one opportunity's roles must arrive together, in order
    bulk: false,
  };
}

function deletedOpportunitiesSpec(): ObjectSpec {
  return { label: 'deleted opportunities', from: 'Opportunity', fields: ['Id', 'SystemModstamp'], stamp: 'SystemModstamp', id: 'Id', where: 'IsDeleted = true', scanAll: true, bulk: false };
}

function orderSpec(cfg: SalesforceConfig, multiCurrency: boolean): ObjectSpec {
  return {
    label: 'orders',
    from: 'Order',
    fields: ['Id', 'SystemModstamp', 'IsDeleted', 'TotalAmount', 'EffectiveDate', 'Status', 'StatusCode', cfg.transactions.orderContactField, ...(multiCurrency ? ['CurrencyIsoCode'] : [])],
    stamp: 'SystemModstamp',
    id: 'Id',
    scanAll: cfg.deletions === 'queryAll',
    bulk: true,
  };
}

const isMissingCurrencyField = (e: unknown): boolean =>
  e instanceof RemoteError && e.kind === 'client' && /INVALID_FIELD/.test(e.message) && /CurrencyIsoCode/.test(e.message);

/** The org's currency (single-currency orgs have no CurrencyIsoCode fields). */
async function orgCurrency(client: SalesforceClient, cfg: SalesforceConfig): Promise<string> {
  if (cfg.transactions.currency) return cfg.transactions.currency;
  const rows = await client.queryRows('org currency', 'SELECT DefaultCurrencyIsoCode FROM Organization', z.looseObject({ DefaultCurrencyIsoCode: z.string() }));
  const c = rows[0]?.DefaultCurrencyIsoCode;
  if (!c) throw new RemoteError('client', 'Salesforce: the organization has no DefaultCurrencyIsoCode', { hint: 'set transactions.currency in the connector config' });
  return c;
}

export const transactionsStream: Stream<SalesforceConfig, Transaction> = {
  checkpointSchema: salesforceCheckpointSchema,
  async *read(ctx, from, opts): AsyncGenerator<Page> {
    const cfg = ctx.config;
    const client = clientFor(ctx);
    const source = cfg.transactions.source;
    // a checkpoint of the other source means nothing here
    let cp = startCheckpoint(from, opts.full, (c) => c.source === source);
    cp.source = source;
    // never synced (no checkpoint, not --full): the store holds nothing to delete yet
    const firstRead = from === undefined && !opts.full;
    const readStart = new Date(clock.now()).toISOString();
    const pageObject: PageObject = source === 'orders' ? 'Order' : 'OpportunityContactRole';
    const from_ = contactsReadFrom.get(client);
    const upTo = from_ === undefined ? undefined : `${source === 'orders' ? 'SystemModstamp' : 'Opportunity.SystemModstamp'} <= ${dateTimeLiteral(new Date(from_ - CONTACTS_SETTLE_MS).toISOString())}`;
    const spec = (multi: boolean): ObjectSpec => {
      const o = source === 'orders' ? orderSpec(cfg, multi) : opportunitySpec(multi);
      return { ...o, where: and(o.where, upTo) };
    };
    let currency = str(cp.currency);
    const startCursor = stateOf(cp, 'main').cursor;
    let done = 0;

    const main = async function* (this: void): AsyncGenerator<Page> {
      let lastOpportunity: string | undefined;
      for await (const b of readObject(client, ctx, spec(currency === 'multi'), stateOf(cp, 'main'), opts.pageSize)) {
        const records: SalesforcePageRecord[] = [];
        const deleted: string[] = [];
        for (const row of b.rows) {
          if (source === 'orders') {
            const id = valueAt(row, 'Id') as string;
            if (flag(row.IsDeleted) || valueAt(row, 'StatusCode') !== 'Activated') deleted.push(id);
            else records.push({ object: pageObject, record: row, ...(currency !== 'multi' && currency ? { orgCurrency: currency } : {}) });
            continue;
          }
          // rows come by opportunity, its primary role first: keep the first, skip the rest
          const opp = valueAt(row, 'OpportunityId') as string;
          if (opp === lastOpportunity) continue;
          lastOpportunity = opp;
          if (!flag(valueAt(row, 'Opportunity.IsWon'))) deleted.push(opp);
          else records.push({ object: pageObject, record: row, ...(currency !== 'multi' && currency ? { orgCurrency: currency } : {}) });
        }
        cp = { ...cp, ...flatState('main', b.state), currency: currency ?? null };
        done += b.rows.length;
        ctx.progress?.(done, b.total);
        yield { records, ...(deleted.length ? { deleted } : {}), checkpoint: cp };
      }
    };

    if (currency === undefined) {
      // multi-currency orgs have CurrencyIsoCode; try it first, it costs nothing there
      currency = 'multi';
      let yielded = false;
      try {
        for await (const p of main()) {
          yielded = true;
          yield p;
        }
      } catch (e) {
        if (yielded || !isMissingCurrencyField(e)) throw e;
        currency = await orgCurrency(client, cfg);
        ctx.logger.info({ currency }, 'salesforce: single-currency org');
        yield* main();
      }
    } else {
      yield* main();
    }

    if (ctx.signal.aborted) return;
    // deleted opportunities (orders read with queryAll carry their own IsDeleted)
    if (firstRead) {
      // later runs list deletions from here on
      if (cfg.deletions === 'getDeleted') yield { records: [], checkpoint: (cp = { ...cp, deletedUntil: readStart }) };
    } else if (cfg.deletions === 'getDeleted') {
      const d = await getDeleted(client, ctx, source === 'orders' ? 'Order' : 'Opportunity', str(cp.deletedUntil) ?? startCursor?.stamp);
      if (d) {
        cp = { ...cp, deletedUntil: d.until };
        yield { records: [], deleted: d.ids, checkpoint: cp };
      }
    } else if (source === 'opportunities') {
      for await (const b of readObject(client, ctx, deletedOpportunitiesSpec(), stateOf(cp, 'deleted'), opts.pageSize)) {
        cp = { ...cp, ...flatState('deleted', b.state) };
        const ids = b.rows.map((r) => valueAt(r, 'Id') as string);
        yield { records: [], ...(ids.length ? { deleted: ids } : {}), checkpoint: cp };
      }
    }
  },
  parse: (raw, { connector, config }) => parseTransaction(raw, connector, config),
};
