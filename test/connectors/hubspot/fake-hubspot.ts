/**
 * A stateful fake of the HubSpot endpoints the connector uses, behind nock
 * (nock >= 14 intercepts Node's fetch, which the SDK uses) or, with
 * `transport: 'loopback'` and listen(), on a loopback HTTP server that other
 * processes can reach too (the fault suite runs the CLI against it, with
 * interceptors for its faults). It keeps contacts,
 * deals, associations, pipelines, the segment property, lists and their
 * members; enforces the API's limits (100 per list page and batch update,
 * 200 per search page and no paging past 10,000 search results, 1,000 ids per
 * associations read), the bearer token and the granted scopes; records every
 * request; and lets a test inject faults.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import nock from 'nock';
import { answerWith, verdictFor, type Interceptor } from '../../support/fake-http.js';

export const FAKE_BASE = 'https://hubspot.test';
export const FAKE_TOKEN = 'pat-na1-test-token-0000';

export interface FakeObject {
  id: string;
  properties: Record<string, string | null>;
  createdAt: string;
  updatedAt: string;
  archivedAt?: string;
}

export interface FakeList {
  listId: string;
  name: string;
  processingType: string;
  objectTypeId: string;
  members: Set<string>;
}

export interface FakeOption {
  label: string;
  value: string;
  hidden: boolean;
  displayOrder?: number;
}

export interface FakeProperty {
  name: string;
  label: string;
  type: string;
  fieldType: string;
  groupName: string;
  options: FakeOption[];
}

export interface RecordedRequest {
  /** Date.now() when it arrived (the tests fake Date) */
  at: number;
  method: string;
  path: string;
  query: URLSearchParams;
  body: unknown;
}

export type Reply = [number, unknown, Record<string, string>?];

export interface Fault {
  when: (r: RecordedRequest) => boolean;
  reply: Reply | ((r: RecordedRequest) => Reply);
  /** how many times it fires (default 1) */
  times?: number;
}

export const ALL_SCOPES = [
  'crm.objects.contacts.read',
  'crm.objects.contacts.write',
  'crm.objects.deals.read',
  'crm.lists.read',
  'crm.lists.write',
  'crm.schemas.contacts.read',
  'crm.schemas.contacts.write',
];

/** One effective list membership change (an add of a member already there is none). */
export interface MembershipChange {
  list: string;
  contact: string;
  op: 'add' | 'remove';
}

export interface FakeHubspot {
  /** the API root (set by listen() on the loopback transport) */
  base: string;
  token: string;
  scopes: Set<string>;
  hubId: number;
  contacts: Map<string, FakeObject>;
  deals: Map<string, FakeObject>;
  /** archived (deleted) records, listed with archived=true */
  archivedContacts: Map<string, FakeObject>;
  archivedDeals: Map<string, FakeObject>;
  /** deal id -> contact ids */
  dealContacts: Map<string, string[]>;
  pipelines: { id: string; label: string; stages: { id: string; label: string; metadata: Record<string, string> }[] }[];
  properties: Map<string, FakeProperty>;
  groups: Set<string>;
  lists: Map<string, FakeList>;
  requests: RecordedRequest[];
  faults: Fault[];
  /** contact ids whose property updates HubSpot refuses (207 per-record errors) */
  refuseUpdates: Set<string>;
  /** called for each request before it is answered (to change the data mid-read) */
  onRequest?: (r: RecordedRequest) => void;
  /** loopback transport: consulted for each request after onRequest, before faults and routing */
  interceptors: Interceptor[];
  /** every effective membership change, in order (emptying a list logs a remove per member) */
  membershipLog: MembershipChange[];
  /** answers one request as HubSpot would (both transports go through here) */
  answer(method: string, uri: string, authorization: string | undefined, body: unknown): Reply;
  /** loopback transport: starts the server on 127.0.0.1 and sets `base` */
  listen(): Promise<string>;
  close(): Promise<void>;
  /** adds a contact; `modified` is its lastmodifieddate */
  addContact(id: string | number, props?: Record<string, string | null>, modified?: string): FakeObject;
  addDeal(id: string | number, props: Record<string, string | null>, contactIds: (string | number)[], modified?: string): FakeObject;
  archiveContact(id: string): void;
  /** merges `from` into `into`: `from` disappears, `into` lists it in hs_merged_object_ids */
  mergeContacts(into: string, from: string, at?: string): void;
  /** requests matching method and a path pattern */
  count(method: string, path?: RegExp): number;
  /** requests that change something in HubSpot */
  writes(): RecordedRequest[];
  done(): void;
}

const EPOCH_ISO = '2024-01-01T00:00:00.000Z';

function err(status: number, message: string, category: string, extra: Record<string, unknown> = {}): Reply {
  return [status, { status: 'error', message, category, correlationId: 'fake-correlation-id', ...extra }];
}

/** Numeric order of decimal id strings (no leading zeros): shorter first, then lexical. */
const byNumericId = (a: string, b: string): number => a.length - b.length || (a < b ? -1 : a > b ? 1 : 0);

/** Index of the first id >= `after` in sorted ids. */
function lowerBound(ids: readonly string[], after: string): number {
  let lo = 0;
  let hi = ids.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (byNumericId(ids[mid] as string, after) < 0) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

const sortedCache = new WeakMap<Map<string, FakeObject>, string[]>();

/** The map's ids in numeric order (cached while the set of ids is unchanged). */
function sortedIds(objs: Map<string, FakeObject>): string[] {
  const cached = sortedCache.get(objs);
  if (cached && cached.length === objs.size && cached.every((id) => objs.has(id))) return cached;
  const ids = [...objs.keys()].sort(byNumericId);
  sortedCache.set(objs, ids);
  return ids;
}

const parsed = new Map<string, number>();

function propertyNumber(o: FakeObject, name: string): number {
  if (name === 'hs_object_id') return Number(o.id);
  const v = o.properties[name];
  if (v === null || v === undefined) return NaN;
  let n = parsed.get(v);
  if (n === undefined) {
    n = Number(v);
    if (!Number.isFinite(n)) n = Date.parse(v);
    if (parsed.size > 100_000) parsed.clear();
    parsed.set(v, n);
  }
  return n;
}

function view(o: FakeObject, props: string[] | undefined): Record<string, unknown> {
  const properties: Record<string, string | null> = { hs_object_id: o.id };
  for (const p of props ?? ['createdate', 'lastmodifieddate', 'hs_lastmodifieddate']) properties[p] = o.properties[p] ?? null;
  return {
    id: o.id,
    properties,
    createdAt: o.createdAt,
    updatedAt: o.updatedAt,
    archived: o.archivedAt !== undefined,
    ...(o.archivedAt !== undefined ? { archivedAt: o.archivedAt } : {}),
  };
}

const SCOPE_OF: [RegExp, string, string?][] = [
  [/^\/crm\/v3\/objects\/contacts\/batch\/update$/, 'crm.objects.contacts.write'],
  [/^\/crm\/v3\/objects\/contacts/, 'crm.objects.contacts.read'],
  [/^\/crm\/v3\/objects\/deals/, 'crm.objects.deals.read'],
  [/^\/crm\/v3\/pipelines\/deals/, 'crm.objects.deals.read'],
  [/^\/crm\/v4\/associations\//, 'crm.objects.contacts.read'],
  [/^\/crm\/v3\/properties\//, 'crm.schemas.contacts.write', 'crm.schemas.contacts.read'],
  [/^\/crm\/v3\/lists/, 'crm.lists.write', 'crm.lists.read'],
];

function scopeFor(method: string, path: string): string | undefined {
  if (path === '/crm/v3/lists/search') return 'crm.lists.read';
  for (const [re, write, read] of SCOPE_OF) if (re.test(path)) return method === 'GET' && read ? read : write;
  return undefined;
}

export function fakeHubspot(opts: { base?: string; token?: string; scopes?: string[]; transport?: 'nock' | 'loopback' } = {}): FakeHubspot {
  const base = opts.base ?? FAKE_BASE;
  let nextListId = 1000;
  let server: Server | undefined;
  const fake: FakeHubspot = {
    base,
    token: opts.token ?? FAKE_TOKEN,
    scopes: new Set(opts.scopes ?? ALL_SCOPES),
    hubId: 424242,
    contacts: new Map(),
    deals: new Map(),
    archivedContacts: new Map(),
    archivedDeals: new Map(),
    dealContacts: new Map(),
    pipelines: [
      {
        id: 'default',
        label: 'Sales Pipeline',
        stages: [
          { id: 'appointmentscheduled', label: 'Appointment', metadata: { isClosed: 'false', probability: '0.2' } },
          { id: 'closedwon', label: 'Closed won', metadata: { isClosed: 'true', probability: '1.0' } },
          { id: 'closedlost', label: 'Closed lost', metadata: { isClosed: 'true', probability: '0.0' } },
        ],
      },
      {
        id: '777',
        label: 'Renewals',
        stages: [
          { id: '9001', label: 'Renewal open', metadata: { isClosed: 'false', probability: '0.5' } },
          { id: '9002', label: 'Renewed', metadata: { isClosed: 'true', probability: '1.0' } },
          { id: '9003', label: 'Churned', metadata: { isClosed: 'true', probability: '0.0' } },
        ],
      },
    ],
    properties: new Map(),
    groups: new Set(['contactinformation']),
    lists: new Map(),
    requests: [],
    faults: [],
    refuseUpdates: new Set(),
    interceptors: [],
    membershipLog: [],
    answer: () => [500, 'not ready'],
    async listen() {
      const srv = createServer((req, res) => {
        void (async () => {
          const chunks: Buffer[] = [];
          for await (const c of req) chunks.push(c as Buffer);
          const raw = Buffer.concat(chunks).toString('utf8');
          const method = (req.method ?? 'GET').toUpperCase();
          const url = new URL(req.url ?? '/', fake.base);
          const v = verdictFor(fake.interceptors, { method, path: url.pathname, query: url.searchParams, body: raw === '' ? undefined : safeJson(raw) });
          await answerWith(
            v,
            req,
            res,
            () => {
              const [status, body, headers] = fake.answer(method, req.url ?? '/', req.headers.authorization, raw);
              return { status, body, ...(headers ? { headers } : {}) };
            },
            (a) => {
              const text = typeof a.body === 'string' ? a.body : JSON.stringify(a.body);
              const type = typeof a.body === 'string' ? 'text/html' : 'application/json;charset=utf-8';
              res.writeHead(a.status, { 'Content-Type': type, ...(a.headers ?? {}) }).end(a.status === 204 ? undefined : text);
            },
          );
        })();
      });
      server = srv;
      await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
      fake.base = `http://127.0.0.1:${(srv.address() as AddressInfo).port}`;
      return fake.base;
    },
    async close() {
      const srv = server;
      if (!srv) return;
      srv.closeAllConnections();
      await new Promise<void>((r) => srv.close(() => r()));
    },
    addContact(id, props = {}, modified = EPOCH_ISO) {
      const sid = String(id);
      const o: FakeObject = {
        id: sid,
        properties: { createdate: EPOCH_ISO, lastmodifieddate: modified, hs_object_id: sid, ...props },
        createdAt: EPOCH_ISO,
        updatedAt: modified,
      };
      fake.contacts.set(sid, o);
      return o;
    },
    addDeal(id, props, contactIds, modified = EPOCH_ISO) {
      const sid = String(id);
      const o: FakeObject = {
        id: sid,
        properties: { createdate: EPOCH_ISO, hs_lastmodifieddate: modified, hs_object_id: sid, ...props },
        createdAt: EPOCH_ISO,
        updatedAt: modified,
      };
      fake.deals.set(sid, o);
      fake.dealContacts.set(sid, contactIds.map(String));
      return o;
    },
    archiveContact(id) {
      const o = fake.contacts.get(id);
      if (!o) throw new Error(`no contact ${id}`);
      fake.contacts.delete(id);
      fake.archivedContacts.set(id, { ...o, archivedAt: new Date().toISOString() });
    },
    mergeContacts(into, from, at = new Date().toISOString()) {
      const winner = fake.contacts.get(into);
      if (!winner || !fake.contacts.has(from)) throw new Error('merge of unknown contacts');
      fake.contacts.delete(from);
      const merged = new Set((winner.properties.hs_merged_object_ids ?? '').split(';').filter(Boolean));
      merged.add(from);
      winner.properties.hs_merged_object_ids = [...merged].join(';');
      winner.properties.lastmodifieddate = at;
      winner.updatedAt = at;
      for (const [deal, cs] of fake.dealContacts) fake.dealContacts.set(deal, [...new Set(cs.map((c) => (c === from ? into : c)))]);
    },
    count(method, path) {
      return fake.requests.filter((r) => r.method === method && (!path || path.test(r.path))).length;
    },
    writes() {
      return fake.requests.filter(
        (r) => r.method !== 'GET' && !/\/search$|\/batch\/read$|access-token-info$/.test(r.path),
      );
    },
    done() {
      nock.cleanAll();
    },
  };

  const store = (type: string, archived: boolean): Map<string, FakeObject> =>
    type === 'contacts' ? (archived ? fake.archivedContacts : fake.contacts) : archived ? fake.archivedDeals : fake.deals;

  function route(r: RecordedRequest): Reply {
    const { method, path, query } = r;
    const body = r.body as Record<string, unknown> | undefined;

    if (method === 'POST' && path === '/oauth/v2/private-apps/get/access-token-info') {
      if ((body as { tokenKey?: string } | undefined)?.tokenKey !== fake.token) return err(400, 'token not found', 'VALIDATION_ERROR');
      return [200, { userId: 7, hubId: fake.hubId, appId: 99, scopes: [...fake.scopes] }];
    }

    let m = /^\/crm\/v3\/objects\/(contacts|deals)$/.exec(path);
    if (m && method === 'GET') {
      const limit = Number(query.get('limit') ?? '10');
      if (limit > 100) return err(400, 'limit must be at most 100', 'VALIDATION_ERROR');
      const archived = query.get('archived') === 'true';
      const props = query.getAll('properties');
      const ids = sortedIds(store(m[1] as string, archived));
      const after = query.get('after');
      const start = after === null ? 0 : lowerBound(ids, after);
      const slice = ids.slice(start, start + limit);
      const next = ids[start + limit];
      const objs = store(m[1] as string, archived);
      return [
        200,
        {
          results: slice.map((id) => view(objs.get(id) as FakeObject, props.length ? props : undefined)),
          ...(next !== undefined ? { paging: { next: { after: next, link: `${fake.base}${path}?after=${next}` } } } : {}),
        },
      ];
    }

    m = /^\/crm\/v3\/objects\/(contacts|deals)\/search$/.exec(path);
    if (m && method === 'POST') {
      const req = body as {
        filterGroups?: { filters: { propertyName: string; operator: string; value?: string }[] }[];
        sorts?: ({ propertyName: string; direction?: string } | string)[];
        properties?: string[];
        limit?: number;
        after?: string;
      };
      const limit = req.limit ?? 10;
      const after = Number(req.after ?? 0);
      if (limit > 200) return err(400, 'limit must be at most 200', 'VALIDATION_ERROR');
      if (after + limit > 10_000) return err(400, 'Search results are limited to 10,000: refine the query', 'VALIDATION_ERROR');
      const groups = req.filterGroups ?? [];
      const match = (o: FakeObject): boolean =>
        groups.length === 0 ||
        groups.some((g) =>
          g.filters.every((f) => {
            const v = propertyNumber(o, f.propertyName);
            const x = Number(f.value);
            switch (f.operator) {
              case 'GTE':
                return v >= x;
              case 'GT':
                return v > x;
              case 'LT':
                return v < x;
              case 'LTE':
                return v <= x;
              case 'EQ':
                return v === x;
              default:
                throw new Error(`fake search: operator ${f.operator}`);
            }
          }),
        );
      const sort = req.sorts?.[0];
      const sortProp = typeof sort === 'string' ? sort : (sort?.propertyName ?? 'hs_object_id');
      const desc = typeof sort === 'object' && sort.direction === 'DESCENDING';
      let hits = [...store(m[1] as string, false).values()].filter(match);
      if (sortProp === 'hs_object_id') hits.sort((a, b) => (Number(a.id) - Number(b.id)) * (desc ? -1 : 1));
      else hits = hits.sort((a, b) => (propertyNumber(a, sortProp) - propertyNumber(b, sortProp) || byNumericId(a.id, b.id)) * (desc ? -1 : 1));
      const slice = hits.slice(after, after + limit);
      return [
        200,
        {
          total: hits.length,
          results: slice.map((o) => view(o, req.properties)),
          ...(after + limit < hits.length ? { paging: { next: { after: String(after + limit) } } } : {}),
        },
      ];
    }

    m = /^\/crm\/v3\/objects\/(contacts|deals)\/batch\/read$/.exec(path);
    if (m && method === 'POST') {
      const b = body as { inputs: { id: string }[]; properties?: string[] };
      if (b.inputs.length > 100) return err(400, 'at most 100 inputs', 'VALIDATION_ERROR');
      const objs = store(m[1] as string, query.get('archived') === 'true');
      const results = [];
      const missing: string[] = [];
      for (const { id } of b.inputs) {
        const o = objs.get(String(id));
        if (o) results.push(view(o, b.properties));
        else missing.push(String(id));
      }
      const errors = missing.length
        ? [{ status: 'error', category: 'OBJECT_NOT_FOUND', message: `Could not get some ${m[1] === 'contacts' ? 'CONTACT' : 'DEAL'} objects, they may be deleted or not exist.`, context: { ids: missing } }]
        : [];
      const now = new Date().toISOString();
      return [errors.length ? 207 : 200, { status: 'COMPLETE', results, ...(errors.length ? { errors, numErrors: errors.length } : {}), startedAt: now, completedAt: now }];
    }

    if (method === 'POST' && path === '/crm/v4/associations/contacts/deals/batch/read') {
      const inputs = (body as { inputs: { id: string }[] }).inputs;
      if (inputs.length > 1000) return err(400, 'at most 1000 inputs', 'VALIDATION_ERROR');
      const results = [];
      for (const { id } of inputs) {
        const deals = [...fake.dealContacts].filter(([, cs]) => cs.includes(String(id))).map(([d]) => d);
        if (deals.length) results.push({ from: { id }, to: deals.map((d) => ({ toObjectId: Number(d), associationTypes: [{ category: 'HUBSPOT_DEFINED', typeId: 4, label: null }] })) });
      }
      const now = new Date().toISOString();
      return [200, { status: 'COMPLETE', results, startedAt: now, completedAt: now }];
    }

    if (method === 'POST' && path === '/crm/v4/associations/deals/contacts/batch/read') {
      const inputs = (body as { inputs: { id: string }[] }).inputs;
      if (inputs.length > 1000) return err(400, 'at most 1000 inputs', 'VALIDATION_ERROR');
      const results = [];
      const errors = [];
      for (const { id } of inputs) {
        const cs = fake.dealContacts.get(id) ?? [];
        if (cs.length === 0) {
          errors.push({ status: 'error', category: 'OBJECT_NOT_FOUND', message: `No contacts are associated with deal ${id}.`, context: { fromObjectId: [id] }, errors: [], links: {} });
          continue;
        }
        results.push({ from: { id }, to: cs.map((c) => ({ toObjectId: Number(c), associationTypes: [{ category: 'HUBSPOT_DEFINED', typeId: 3, label: null }] })) });
      }
      const now = new Date().toISOString();
      return [errors.length ? 207 : 200, { status: 'COMPLETE', results, ...(errors.length ? { errors, numErrors: errors.length } : {}), startedAt: now, completedAt: now }];
    }

    if (method === 'GET' && path === '/crm/v3/pipelines/deals') {
      const now = EPOCH_ISO;
      return [
        200,
        {
          results: fake.pipelines.map((p, i) => ({
            id: p.id,
            label: p.label,
            displayOrder: i,
            archived: false,
            createdAt: now,
            updatedAt: now,
            stages: p.stages.map((s, j) => ({ ...s, displayOrder: j, archived: false, createdAt: now, updatedAt: now })),
          })),
        },
      ];
    }

    if (path === '/crm/v3/objects/contacts/batch/update' && method === 'POST') {
      const inputs = (body as { inputs: { id: string; properties: Record<string, string> }[] }).inputs;
      if (inputs.length > 100) return err(400, 'at most 100 inputs', 'VALIDATION_ERROR');
      if (new Set(inputs.map((i) => i.id)).size !== inputs.length) return err(400, 'Duplicate IDs found in batch input', 'VALIDATION_ERROR');
      for (const i of inputs) {
        for (const [k, v] of Object.entries(i.properties)) {
          const p = fake.properties.get(k);
          if (!p) return err(400, `Property "${k}" does not exist`, 'VALIDATION_ERROR');
          if (v !== '' && !p.options.some((o) => o.value === v)) return err(400, `${v} was not one of the allowed options for ${k}`, 'VALIDATION_ERROR');
        }
      }
      const results = [];
      const errors = [];
      for (const i of inputs) {
        const c = fake.contacts.get(i.id);
        if (!c) {
          errors.push({ status: 'error', category: 'OBJECT_NOT_FOUND', message: 'Could not get some CONTACT objects, they may be deleted or not exist.', context: { ids: [i.id] } });
          continue;
        }
        if (fake.refuseUpdates.has(i.id)) {
          errors.push({ status: 'error', category: 'VALIDATION_ERROR', message: `contact ${i.id} is locked by a workflow`, context: { ids: [i.id] } });
          continue;
        }
        Object.assign(c.properties, i.properties);
        results.push(view(c, Object.keys(i.properties)));
      }
      const now = new Date().toISOString();
      return [errors.length ? 207 : 200, { status: 'COMPLETE', results, ...(errors.length ? { errors, numErrors: errors.length } : {}), startedAt: now, completedAt: now }];
    }

    // properties and groups
    if (path === '/crm/v3/properties/contacts/groups') {
      if (method === 'GET') return [200, { results: [...fake.groups].map((g, i) => ({ name: g, label: g, displayOrder: i, archived: false })) }];
      if (method === 'POST') {
        const g = body as { name: string; label: string };
        if (fake.groups.has(g.name)) return err(409, `group ${g.name} already exists`, 'OBJECT_ALREADY_EXISTS');
        fake.groups.add(g.name);
        return [201, { name: g.name, label: g.label, displayOrder: -1, archived: false }];
      }
    }
    m = /^\/crm\/v3\/properties\/contacts\/groups\/([^/]+)$/.exec(path);
    if (m && method === 'GET') {
      const g = decodeURIComponent(m[1] as string);
      return fake.groups.has(g) ? [200, { name: g, label: g, displayOrder: -1, archived: false }] : err(404, 'group not found', 'OBJECT_NOT_FOUND');
    }
    if (path === '/crm/v3/properties/contacts' && method === 'POST') {
      const p = body as unknown as FakeProperty;
      if (fake.properties.has(p.name)) return err(409, `property ${p.name} already exists`, 'OBJECT_ALREADY_EXISTS');
      if (!fake.groups.has(p.groupName)) return err(400, `property group ${p.groupName} does not exist`, 'VALIDATION_ERROR');
      const created: FakeProperty = { name: p.name, label: p.label, type: p.type, fieldType: p.fieldType, groupName: p.groupName, options: p.options ?? [] };
      fake.properties.set(p.name, created);
      return [201, { ...created, description: '', hidden: false, formField: false }];
    }
    m = /^\/crm\/v3\/properties\/contacts\/([^/]+)$/.exec(path);
    if (m) {
      const name = decodeURIComponent(m[1] as string);
      const p = fake.properties.get(name);
      if (!p) return err(404, `Unable to find property ${name}`, 'OBJECT_NOT_FOUND');
      if (method === 'GET') return [200, { ...p, description: '', hidden: false, formField: false }];
      if (method === 'PATCH') {
        const u = body as Partial<FakeProperty>;
        if (u.options) p.options = u.options;
        if (u.label) p.label = u.label;
        return [200, { ...p, description: '', hidden: false, formField: false }];
      }
    }

    // lists
    const listView = (l: FakeList): Record<string, unknown> => ({
      listId: l.listId,
      name: l.name,
      processingType: l.processingType,
      objectTypeId: l.objectTypeId,
      processingStatus: 'COMPLETE',
      listVersion: 1,
      size: l.members.size,
    });
    const byName = (name: string): FakeList | undefined => [...fake.lists.values()].find((l) => l.name === name);
    if ((path === '/crm/v3/lists/' || path === '/crm/v3/lists') && method === 'POST') {
      const b = body as { name: string; objectTypeId: string; processingType: string };
      if (byName(b.name)) return err(400, `A list named "${b.name}" already exists`, 'VALIDATION_ERROR');
      const l: FakeList = { listId: String(nextListId++), name: b.name, objectTypeId: b.objectTypeId, processingType: b.processingType, members: new Set() };
      fake.lists.set(l.listId, l);
      return [200, { list: listView(l) }];
    }
    if ((path === '/crm/v3/lists/' || path === '/crm/v3/lists') && method === 'GET') {
      const ids = query.getAll('listIds');
      return [200, { lists: ids.flatMap((id) => (fake.lists.has(id) ? [listView(fake.lists.get(id) as FakeList)] : [])) }];
    }
    if (path === '/crm/v3/lists/search' && method === 'POST') {
      return [200, { lists: [...fake.lists.values()].map(listView), hasMore: false, offset: 0, total: fake.lists.size }];
    }
    m = /^\/crm\/v3\/lists\/object-type-id\/([^/]+)\/name\/(.+)$/.exec(path);
    if (m && method === 'GET') {
      const l = byName(decodeURIComponent(m[2] as string));
      return l && l.objectTypeId === decodeURIComponent(m[1] as string) ? [200, { list: listView(l) }] : err(404, 'list not found', 'OBJECT_NOT_FOUND');
    }
    m = /^\/crm\/v3\/lists\/(\d+)(\/.*)?$/.exec(path);
    if (m) {
      const l = fake.lists.get(m[1] as string);
      if (!l) return err(404, `list ${m[1]} not found`, 'OBJECT_NOT_FOUND');
      const rest = m[2] ?? '';
      if (rest === '/update-list-name' && method === 'PUT') {
        const name = query.get('listName') ?? '';
        const other = byName(name);
        if (other && other !== l) return err(400, `A list named "${name}" already exists`, 'VALIDATION_ERROR');
        l.name = name;
        return [200, { updatedList: listView(l) }];
      }
      if (rest === '/memberships/add-and-remove' && method === 'PUT') {
        if (l.processingType !== 'MANUAL') return err(400, 'only MANUAL lists take memberships', 'VALIDATION_ERROR');
        const b = body as { recordIdsToAdd: string[]; recordIdsToRemove: string[] };
        const missing: string[] = [];
        const added: string[] = [];
        const removed: string[] = [];
        for (const id of b.recordIdsToAdd) {
          if (!fake.contacts.has(id)) missing.push(id);
          else if (!l.members.has(id)) {
            l.members.add(id);
            added.push(id);
            fake.membershipLog.push({ list: l.listId, contact: id, op: 'add' });
          }
        }
        for (const id of b.recordIdsToRemove) {
          if (!fake.contacts.has(id) && !l.members.has(id)) missing.push(id);
          else if (l.members.delete(id)) {
            removed.push(id);
            fake.membershipLog.push({ list: l.listId, contact: id, op: 'remove' });
          }
        }
        return [200, { recordIdsMissing: missing, recordIdsRemoved: removed, recordsIdsAdded: added }];
      }
      if (rest === '/memberships' && method === 'DELETE') {
        for (const id of l.members) fake.membershipLog.push({ list: l.listId, contact: id, op: 'remove' });
        l.members.clear();
        return [204, ''];
      }
    }
    return err(404, `fake HubSpot: no route for ${method} ${path}`, 'OBJECT_NOT_FOUND');
  }

  fake.answer = (method: string, uri: string, authorization: string | undefined, body: unknown): Reply => {
    const url = new URL(uri, fake.base);
    const r: RecordedRequest = {
      at: Date.now(),
      method: method.toUpperCase(),
      path: url.pathname,
      query: url.searchParams,
      body: typeof body === 'string' && body !== '' ? safeJson(body) : body === '' ? undefined : body,
    };
    fake.requests.push(r);
    fake.onRequest?.(r);
    const fault = fake.faults.find((f) => f.when(r) && (f.times ?? 1) > 0);
    if (fault) {
      fault.times = (fault.times ?? 1) - 1;
      return typeof fault.reply === 'function' ? fault.reply(r) : fault.reply;
    }
    if (authorization !== `Bearer ${fake.token}`) return err(401, 'Authentication credentials not found.', 'INVALID_AUTHENTICATION');
    const scope = scopeFor(r.method, r.path);
    if (scope !== undefined && !fake.scopes.has(scope)) {
      return err(403, "This app hasn't been granted all required scopes to make this call.", 'MISSING_SCOPES', {
        errors: [{ message: 'One or more of the following scopes are required.', context: { requiredGranularScopes: [scope] } }],
      });
    }
    return route(r);
  };

  if (opts.transport === 'loopback') return fake;
  const handler = function (this: { req: { headers: Record<string, string | string[] | undefined>; method?: string } }, uri: string, body: unknown): Reply {
    const auth = this.req.headers.authorization;
    return fake.answer(this.req.method ?? 'GET', uri, Array.isArray(auth) ? auth[0] : auth, body);
  };
  const scope = nock(base).persist();
  for (const method of ['get', 'post', 'put', 'patch', 'delete'] as const) {
    scope[method](() => true).query(true).reply(handler as never);
  }
  return fake;
}

function safeJson(s: string): unknown {
  try {
    return JSON.parse(s);
  } catch {
    return s;
  }
}

/** The 429 bodies HubSpot sends. */
export const TEN_SECONDLY: Reply = [
  429,
  { status: 'error', message: 'You have reached your ten_secondly_rolling limit.', errorType: 'RATE_LIMIT', correlationId: 'c1', policyName: 'TEN_SECONDLY_ROLLING', groupName: 'publicapi' },
];
export const DAILY: Reply = [
  429,
  { status: 'error', message: 'You have reached your daily limit.', errorType: 'RATE_LIMIT', correlationId: 'c2', policyName: 'DAILY', groupName: 'publicapi' },
];
