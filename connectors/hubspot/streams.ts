/**
 * The contacts and transactions (deals) streams.
 *
 * One state machine per object type, saved as the checkpoint with every page:
 *
 *   full         list every record, 100 per page (first sync and --full)
 *   archived     list archived records (archived=true): their ids are deleted;
 *                after every full listing and, on incremental syncs, once per
 *                `archivedCheckInterval`
 *   incremental  search records modified in [lo, until): lo is the previous
 *                pass's end minus a settle margin (the search index lags a few
 *                seconds), until is "now" when the pass starts
 *   idle         done; the next run starts an incremental pass from `since`
 *
 * The incremental search pages by keyset, not by offset: sorted by
 * hs_object_id and filtered on hs_object_id > the last id seen, every query
 * starts at offset 0. So the search API's 10,000-result cap never applies, any
 * number of records sharing one timestamp is read in full, and a record that
 * changes while we read cannot shift the others out of view (offset paging
 * skips records then). Each query moves the id strictly forward, so a pass
 * always ends. Records changed during a pass are newer than `until` and are
 * read by the next pass.
 *
 * A contact (or deal) whose hs_merged_object_ids names other ids absorbed
 * them: those ids go out as deleted with the page.
 *
 * Deals come in pages of up to 1,000 (one v4 associations call each), and the
 * deals cursor never passes the point the contacts stream of the same run has
 * read up to, so a deal is not read before its contact.
 */
import { z } from 'zod';
import type { Client } from '@hubspot/api-client';
import type { Checkpoint, ConnectorContext, Page, ReadOptions, Stream } from '../../src/connector/contract.js';
import { RemoteError } from '../../src/core/errors.js';
import type { Contact, Transaction } from '../../src/core/records.js';
import { durationMs, type HubspotConfig } from './config.js';
import { hubspotApi, type HubspotApi } from './client.js';
import { DEAL_PROPERTIES, contactProperties, mapContact, mapDeal, mergedAwayIds } from './map.js';
import {
  HubspotAssociationsPage,
  HubspotListPage,
  HubspotPipelines,
  HubspotRecordHeader,
  HubspotSearchPage,
  type HubspotDealRecord,
  type HubspotStageMeta,
} from './shapes.js';

/** Records per list page (the API's maximum). */
export const LIST_PAGE = 100;
/** Records per search page (the API's maximum). */
export const SEARCH_PAGE = 200;
/** Ids per associations batch read (the API's maximum). */
export const ASSOCIATIONS_BATCH = 1_000;
/** An incremental pass starts this long before the previous one ended: the search index lags behind writes. */
export const SETTLE_MS = 5 * 60_000;

export const hubspotCheckpointSchema = z.object({
  v: z.literal(1),
  phase: z.enum(['full', 'archived', 'incremental', 'idle']),
  /** paging cursor of the current listing (full or archived) */
  after: z.string().nullable(),
  /** incremental window [lo, until) in epoch ms */
  lo: z.number().nullable(),
  until: z.number().nullable(),
  /** keyset: the last hs_object_id read in the current incremental pass */
  lastId: z.string().nullable(),
  /** where the next incremental pass starts (before the settle margin) */
  since: z.number().nullable(),
  /** when the current listing started */
  startedAt: z.number().nullable(),
  /** when the last complete archived listing started */
  archivedAt: z.number().nullable(),
});
export type HubspotCheckpoint = z.infer<typeof hubspotCheckpointSchema>;

const EMPTY: Omit<HubspotCheckpoint, 'phase'> = { v: 1, after: null, lo: null, until: null, lastId: null, since: null, startedAt: null, archivedAt: null };

interface ObjectSpec {
  objectType: 'contacts' | 'deals';
  /** the "last modified" property the search filters on */
  modified: string;
  scope: string;
  properties(cfg: HubspotConfig): string[];
  list(sdk: Client, after: string | undefined, properties: string[], archived: boolean): Promise<unknown>;
  search(sdk: Client, req: SearchRequest): Promise<unknown>;
}

interface SearchRequest {
  filterGroups: { filters: { propertyName: string; operator: 'GTE' | 'LT' | 'GT'; value: string }[] }[];
  /** HubSpot's documented sort shape; the SDK's model types `sorts` as string[]. */
  sorts: { propertyName: string; direction: 'ASCENDING' | 'DESCENDING' }[];
  properties: string[];
  limit: number;
  after?: string;
}

const CONTACTS: ObjectSpec = {
  objectType: 'contacts',
  modified: 'lastmodifieddate',
  scope: 'crm.objects.contacts.read',
  properties: contactProperties,
  list: (sdk, after, props, archived) => sdk.crm.contacts.basicApi.getPage(LIST_PAGE, after, props, undefined, undefined, archived),
  search: (sdk, req) => sdk.crm.contacts.searchApi.doSearch(req as unknown as Parameters<Client['crm']['contacts']['searchApi']['doSearch']>[0]),
};

const DEALS: ObjectSpec = {
  objectType: 'deals',
  modified: 'hs_lastmodifieddate',
  scope: 'crm.objects.deals.read',
  properties: () => [...DEAL_PROPERTIES],
  list: (sdk, after, props, archived) => sdk.crm.deals.basicApi.getPage(LIST_PAGE, after, props, undefined, undefined, archived),
  search: (sdk, req) => sdk.crm.deals.searchApi.doSearch(req as unknown as Parameters<Client['crm']['deals']['searchApi']['doSearch']>[0]),
};

/** Validates an API page; a page we cannot read stops the sync with what HubSpot sent. */
export function parsePage<S extends z.ZodType>(schema: S, page: unknown, label: string): z.output<S> {
  const r = schema.safeParse(page);
  if (r.success) return r.data;
  const detail = r.error.issues
    .slice(0, 3)
    .map((i) => `${i.path.map(String).join('.') || '(page)'}: ${i.message}`)
    .join('; ');
  throw new RemoteError('client', `${label}: HubSpot sent a page this connector does not understand (${detail})`, {
    hint: 'check baseUrl (a proxy may be answering), and report this with the log if it persists',
  });
}

function idGreater(a: string, b: string): boolean {
  return BigInt(a) > BigInt(b);
}

/** A record as HubSpot sent it, with its id and properties when those are readable. */
interface RawRecord {
  raw: unknown;
  header: HubspotRecordHeader | undefined;
}

interface RawPage {
  records: RawRecord[];
  deleted: string[];
  checkpoint: HubspotCheckpoint;
}

/** Each record of a page with its header; an unreadable one is kept for parse() to quarantine. */
function withHeaders(results: readonly unknown[]): RawRecord[] {
  return results.map((raw) => {
    const h = HubspotRecordHeader.safeParse(raw);
    return { raw, header: h.success ? h.data : undefined };
  });
}

const mergedAway = (records: readonly RawRecord[]): string[] => records.flatMap((r) => (r.header ? mergedAwayIds(r.header.id, r.header.properties) : []));

/**
 * Where a read starts: a fresh full listing, an incremental pass after an idle
 * checkpoint, or the saved phase. `cap` bounds the pass's end (see contactsCovered).
 */
export function startingPoint(from: HubspotCheckpoint | undefined, full: boolean, now: number, cap?: number): HubspotCheckpoint {
  if (!from || full) return { ...EMPTY, phase: 'full', startedAt: now };
  if (from.phase !== 'idle') return from;
  const since = from.since ?? 0;
  return { ...EMPTY, phase: 'incremental', lo: Math.max(0, since - SETTLE_MS), until: Math.min(now, cap ?? now), since, archivedAt: from.archivedAt };
}

/**
 * Per run and connector: up to when the contacts stream has read every change
 * (its next pass starts there). The deals stream, which runs after it, never
 * moves its own cursor past that point: a deal created with a brand-new contact
 * between the two streams is then read on the next sync, after its contact,
 * instead of being quarantined for an unknown contact and never read again.
 */
const contactsCovered = new WeakMap<object, Map<string, number>>();

function coveredMap(ctx: ConnectorContext<HubspotConfig>): Map<string, number> {
  let m = contactsCovered.get(ctx.retry);
  if (!m) {
    m = new Map();
    contactsCovered.set(ctx.retry, m);
  }
  return m;
}

function archivedDue(cfg: HubspotConfig, archivedAt: number | null, now: number): boolean {
  const every = durationMs(cfg.archivedCheckInterval);
  return every !== null && (archivedAt === null || now - archivedAt >= every);
}

/** Raw pages of one object type, each with the checkpoint that follows it. */
async function* objectPages(
  ctx: ConnectorContext<HubspotConfig>,
  api: HubspotApi,
  spec: ObjectSpec,
  from: HubspotCheckpoint | undefined,
  full: boolean,
  bounds: { cap?: () => number | undefined; covered?: (since: number) => void } = {},
): AsyncGenerator<RawPage> {
  let cp = startingPoint(from, full, Date.now(), bounds.cap?.());
  const props = spec.properties(ctx.config);
  let done = 0;
  let total: number | undefined;
  while (cp.phase !== 'idle') {
    if (ctx.signal.aborted) return;
    if (cp.phase === 'full' || cp.phase === 'archived') {
      const archived = cp.phase === 'archived';
      const label = `list ${archived ? 'archived ' : ''}${spec.objectType}`;
      const after = cp.after ?? undefined;
      const page = parsePage(
        HubspotListPage,
        await api.call(label, (sdk) => spec.list(sdk, after, archived ? ['hs_object_id'] : props, archived), { scope: spec.scope }),
        label,
      );
      const next = page.paging?.next?.after;
      let nextCp: HubspotCheckpoint;
      if (next !== undefined && next !== cp.after && page.results.length > 0) nextCp = { ...cp, after: next };
      else if (!archived) {
        const cap = bounds.cap?.();
        const since = cp.startedAt === null || cap === undefined ? cp.startedAt : Math.min(cp.startedAt, cap);
        nextCp = { ...cp, phase: 'archived', after: null, since, startedAt: Date.now() };
      }
      else nextCp = { ...cp, phase: 'idle', after: null, archivedAt: cp.startedAt, startedAt: null };
      done += page.results.length;
      ctx.progress?.(done);
      const records = withHeaders(page.results);
      yield archived
        ? { records: [], deleted: records.flatMap((r) => (r.header ? [r.header.id] : [])), checkpoint: nextCp }
        : { records, deleted: mergedAway(records), checkpoint: nextCp };
      if (nextCp.phase !== 'full' && nextCp.since !== null) bounds.covered?.(nextCp.since);
      cp = nextCp;
      continue;
    }
    // incremental: keyset search over [lo, until)
    const label = `search ${spec.objectType}`;
    const filters: SearchRequest['filterGroups'][number]['filters'] = [
      { propertyName: spec.modified, operator: 'GTE', value: String(cp.lo ?? 0) },
      { propertyName: spec.modified, operator: 'LT', value: String(cp.until ?? Date.now()) },
    ];
    if (cp.lastId !== null) filters.push({ propertyName: 'hs_object_id', operator: 'GT', value: cp.lastId });
    const req: SearchRequest = {
      filterGroups: [{ filters }],
      sorts: [{ propertyName: 'hs_object_id', direction: 'ASCENDING' }],
      properties: props,
      limit: SEARCH_PAGE,
    };
    const page = parsePage(HubspotSearchPage, await api.call(label, (sdk) => spec.search(sdk, req), { kind: 'search', scope: spec.scope }), label);
    total ??= page.total;
    const records = withHeaders(page.results);
    // the keyset moves on the last readable id; the records without one are quarantined by parse()
    const last = records.findLast((r) => r.header !== undefined)?.header?.id;
    if (last === undefined && records.length > 0 && page.paging?.next !== undefined) {
      throw new RemoteError('client', `${label}: a search page without one readable record id; stopping rather than skipping what follows`);
    }
    if (last !== undefined && cp.lastId !== null && !idGreater(last, cp.lastId)) {
      throw new RemoteError('client', `${label}: HubSpot returned ids out of order (${last} after ${cp.lastId}); stopping rather than reading in circles`);
    }
    let nextCp: HubspotCheckpoint;
    if (last !== undefined && page.paging?.next !== undefined) nextCp = { ...cp, lastId: last };
    else {
      const now = Date.now();
      const base = { ...EMPTY, since: cp.until, archivedAt: cp.archivedAt };
      nextCp = archivedDue(ctx.config, cp.archivedAt, now) ? { ...base, phase: 'archived', startedAt: now } : { ...base, phase: 'idle' };
    }
    done += page.results.length;
    ctx.progress?.(done, total);
    yield { records, deleted: mergedAway(records), checkpoint: nextCp };
    if (nextCp.phase !== 'incremental' && nextCp.since !== null) bounds.covered?.(nextCp.since);
    cp = nextCp;
  }
}

function checkpointOf(from: Checkpoint | undefined): HubspotCheckpoint | undefined {
  return from === undefined ? undefined : hubspotCheckpointSchema.parse(from);
}

export const contactsStream: Stream<HubspotConfig, Contact> = {
  checkpointSchema: hubspotCheckpointSchema,
  async *read(ctx, from, opts) {
    const api = hubspotApi(ctx);
    const covered = coveredMap(ctx);
    covered.delete(ctx.name);
    const bounds = { covered: (since: number) => covered.set(ctx.name, since) };
    for await (const p of objectPages(ctx, api, CONTACTS, checkpointOf(from), opts.full, bounds)) {
      const page: Page = { records: p.records.map((r) => r.raw), checkpoint: p.checkpoint };
      if (p.deleted.length) page.deleted = p.deleted;
      yield page;
    }
  },
  parse: (raw, { connector, config }) => mapContact(raw, connector, config),
};

/** Stage metadata per "pipeline\0stage", from the pipelines API. */
export async function stageMeta(api: HubspotApi): Promise<Map<string, HubspotStageMeta>> {
  const label = 'read deal pipelines';
  const res = parsePage(HubspotPipelines, await api.call(label, (sdk) => sdk.crm.pipelines.pipelinesApi.getAll('deals'), { scope: 'crm.objects.deals.read' }), label);
  const out = new Map<string, HubspotStageMeta>();
  for (const p of res.results) {
    for (const s of p.stages) {
      const prob = s.metadata?.probability;
      const n = prob === undefined || prob === '' ? NaN : Number(prob);
      out.set(`${p.id}\u0000${s.id}`, { isClosed: s.metadata?.isClosed === 'true', probability: Number.isFinite(n) ? n : null });
    }
  }
  return out;
}

/** Whether the config's won / lost lists already decide this deal's stage. */
export function configuredStage(stages: HubspotConfig['dealStages'], props: Record<string, string | null> | undefined): boolean {
  const stage = props?.dealstage ?? undefined;
  if (stage === undefined) return true;
  const own = props?.pipeline ? stages.pipelines[props.pipeline] : undefined;
  return (own ? [...own.won, ...own.lost] : [...stages.won, ...stages.lost]).includes(stage);
}

/** Contact ids associated with each deal, through the v4 associations batch API (1,000 deals per call). */
export function dealContacts(api: HubspotApi, dealIds: readonly string[]): Promise<Map<string, string[]>> {
  return associated(api, 'deals', 'contacts', dealIds);
}

/** Ids of `to` objects associated with each `from` object (v4 associations batch API, 1,000 per call). */
export async function associated(api: HubspotApi, from: 'deals' | 'contacts', to: 'deals' | 'contacts', fromIds: readonly string[]): Promise<Map<string, string[]>> {
  const out = new Map<string, string[]>();
  const label = `read ${from === 'deals' ? 'deal' : 'contact'}-${to === 'deals' ? 'deal' : 'contact'} associations`;
  for (let i = 0; i < fromIds.length; i += ASSOCIATIONS_BATCH) {
    let inputs: { id: string; after?: string }[] = fromIds.slice(i, i + ASSOCIATIONS_BATCH).map((id) => ({ id }));
    // a deal with more contacts than one answer holds pages on with its own cursor
    for (let round = 0; inputs.length > 0; round++) {
      if (round > 1_000) throw new RemoteError('client', `${label}: associations kept paging; stopping rather than reading in circles`);
      const body = { inputs };
      const res = parsePage(
        HubspotAssociationsPage,
        await api.call(label, (sdk) => sdk.crm.associations.v4.batchApi.getPage(from, to, body), { scope: 'crm.objects.contacts.read' }),
        label,
      );
      const more: { id: string; after: string }[] = [];
      for (const r of res.results) {
        const from = r._from?.id ?? r.from?.id;
        if (from === undefined) continue;
        const list = out.get(from) ?? [];
        for (const t of r.to) if (!list.includes(t.toObjectId)) list.push(t.toObjectId);
        out.set(from, list);
        const after = r.paging?.next?.after;
        const asked = inputs.find((x) => x.id === from);
        if (after !== undefined && after !== asked?.after) more.push({ id: from, after });
      }
      inputs = more;
    }
  }
  return out;
}

export const transactionsStream: Stream<HubspotConfig, Transaction> = {
  checkpointSchema: hubspotCheckpointSchema,
  async *read(ctx, from, opts: ReadOptions) {
    const api = hubspotApi(ctx);
    // deals are gathered into pages of up to 1,000 so one associations call serves them all
    const target = Math.min(ASSOCIATIONS_BATCH, Math.max(LIST_PAGE, opts.pageSize));
    let stages: Map<string, HubspotStageMeta> | undefined;
    let buf: RawPage['records'] = [];
    let deleted: string[] = [];
    let last: HubspotCheckpoint | undefined;
    let pending = false;
    const flush = async (): Promise<Page> => {
      let records: HubspotDealRecord[] | unknown[] = [];
      if (buf.length) {
        const heads = buf.flatMap((d) => (d.header ? [d.header] : []));
        // HubSpot's stage metadata is read once, and only when a stage is not in the configured lists
        if (ctx.config.dealStages.usePipelineMetadata && heads.some((d) => !configuredStage(ctx.config.dealStages, d.properties))) stages ??= await stageMeta(api);
        const contacts = await dealContacts(api, heads.map((d) => d.id));
        // a deal without a readable header still goes to parse(), which quarantines it
        records = buf.map(({ raw, header: d }) => ({
          deal: raw,
          contactIds: d ? (contacts.get(d.id) ?? []) : [],
          stage: d ? (stages?.get(`${d.properties?.pipeline ?? ''}\u0000${d.properties?.dealstage ?? ''}`) ?? null) : null,
        }));
      }
      const page: Page = { records, checkpoint: last as HubspotCheckpoint };
      if (deleted.length) page.deleted = deleted;
      buf = [];
      deleted = [];
      pending = false;
      return page;
    };
    const covered = coveredMap(ctx);
    for await (const p of objectPages(ctx, api, DEALS, checkpointOf(from), opts.full, { cap: () => covered.get(ctx.name) })) {
      buf.push(...p.records);
      deleted.push(...p.deleted);
      last = p.checkpoint;
      pending = true;
      if (buf.length >= target || deleted.length >= 10 * target) yield await flush();
    }
    if (pending) yield await flush();
  },
  parse: (raw, { connector, config }) => mapDeal(raw, connector, config),
};
