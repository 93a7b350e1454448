/**
 * A fake Salesforce org on a loopback HTTP server (jsforce ignores nock). It
 * serves the endpoints the connector uses — OAuth token, userinfo, versions,
 * limits, query/queryAll/queryMore, describe, getDeleted, sObject Collections,
 * Tooling CustomField, Bulk API 2.0 query jobs with Sforce-Locator paging —
 * over in-memory tables, with Salesforce's rules where the connector depends on
 * them: bearer tokens, daily API usage (Sforce-Limit-Info, REQUEST_LIMIT_EXCEEDED),
 * 2,000-row query pages, unordered bulk results, field-level security on new
 * fields, DUPLICATE_VALUE campaign members. Every request is logged.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { createVerify, type KeyObject } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import { SoqlError, parseSoql, run, getPath, type Db, type Row } from './soql-eval.js';
import { answerWith, verdictFor, type Interceptor } from '../../support/fake-http.js';

export interface LoggedRequest {
  n: number;
  method: string;
  /** path after /services/data/vXX.X (or the full path for OAuth and the version list) */
  path: string;
  query: URLSearchParams;
  body: unknown;
  status?: number;
}

export interface FakeResponse {
  status: number;
  body?: unknown;
  headers?: Record<string, string>;
}

export type Hook = (req: LoggedRequest) => FakeResponse | undefined;

const PREFIX: Record<string, string> = {
  Account: '001', Contact: '003', Lead: '00Q', Opportunity: '006', OpportunityContactRole: '00K', Order: '801',
  Campaign: '701', CampaignMember: '00v', User: '005', Profile: '00e', PermissionSet: '0PS', FieldPermissions: '01k',
  Organization: '00D', CustomField: '00N',
};
const DATETIME = new Set(['SystemModstamp', 'CreatedDate', 'LastModifiedDate']);

const STANDARD_FIELDS: Record<string, [string, string][]> = {
  Contact: [
    ['Id', 'id'], ['Email', 'email'], ['FirstName', 'string'], ['LastName', 'string'], ['AccountId', 'reference'], ['MailingCountry', 'string'],
    ['LeadSource', 'picklist'], ['CreatedDate', 'datetime'], ['SystemModstamp', 'datetime'], ['IsDeleted', 'boolean'], ['MasterRecordId', 'reference'],
  ],
  Lead: [
    ['Id', 'id'], ['Email', 'email'], ['FirstName', 'string'], ['LastName', 'string'], ['Company', 'string'], ['Country', 'string'], ['Status', 'picklist'],
    ['LeadSource', 'picklist'], ['IsConverted', 'boolean'], ['CreatedDate', 'datetime'], ['SystemModstamp', 'datetime'], ['IsDeleted', 'boolean'], ['MasterRecordId', 'reference'],
  ],
  Opportunity: [['Id', 'id'], ['Amount', 'currency'], ['CloseDate', 'date'], ['StageName', 'picklist'], ['IsWon', 'boolean'], ['SystemModstamp', 'datetime']],
  OpportunityContactRole: [['Id', 'id'], ['OpportunityId', 'reference'], ['ContactId', 'reference'], ['IsPrimary', 'boolean'], ['CreatedDate', 'datetime']],
  Order: [['Id', 'id'], ['TotalAmount', 'currency'], ['EffectiveDate', 'date'], ['Status', 'picklist'], ['StatusCode', 'picklist'], ['BillToContactId', 'reference']],
  Campaign: [['Id', 'id'], ['Name', 'string'], ['IsActive', 'boolean']],
  CampaignMember: [['Id', 'id'], ['CampaignId', 'reference'], ['ContactId', 'reference'], ['LeadId', 'reference']],
  Account: [['Id', 'id'], ['Name', 'string']],
};

export interface CustomFieldDef {
  type: 'picklist' | 'string';
  /** field-level security lets the API user see and edit it */
  visible: boolean;
  restricted?: boolean;
  values?: string[];
  length?: number;
  description?: string;
}

export interface FakeOrgOptions {
  apiVersion?: string;
  multiCurrency?: boolean;
  dailyMax?: number;
  dailyUsed?: number;
}

function sfDateTime(iso: string): string {
  return iso.replace(/Z$/, '+0000');
}

function csvCell(v: unknown): string {
  if (v === null || v === undefined) return '';
  const s = typeof v === 'string' ? v : String(v);
  return `"${s.replace(/"/g, '""')}"`;
}

export class FakeOrg {
  readonly apiVersion: string;
  url = '';
  readonly orgId: string;
  readonly userId: string;
  readonly profileId: string;
  readonly permissionSetId: string;
  multiCurrency: boolean;
  readonly limit: { used: number; max: number };
  readonly requests: LoggedRequest[] = [];
  readonly hooks: Hook[] = [];
  /** consulted for each request before the hooks; they can also delay, hang or drop it (the fault suite's switches) */
  readonly interceptors: Interceptor[] = [];
  /** every effective campaign membership change, in order */
  readonly membershipLog: { campaign: string; person: string; op: 'add' | 'remove' }[] = [];
  /** valid bearer tokens */
  readonly tokens = new Set<string>(['tok-0']);
  readonly oauth = { clientId: 'client-1', clientSecret: 'secret-1', refreshToken: 'refresh-1', username: 'integration@example.com' };
  jwtPublicKey: KeyObject | undefined;
  /** Query page size the server uses at most (Salesforce: 2,000). */
  maxQueryPage = 2000;
  /** Polls a bulk job answers InProgress before JobComplete. */
  bulkPollsBeforeComplete = 0;
  readonly permissions = { customizeApplication: true, marketingUser: true, campaignCreate: true };
  readonly customFields = new Map<string, CustomFieldDef>();
  /** Update errors to answer for these record ids: statusCode and message. */
  readonly rejectUpdates = new Map<string, { statusCode: string; message: string }>();
  /** Milliseconds; every write takes the next second unless a stamp is given. Ten days ago, whole seconds. */
  clock = Math.floor(Date.now() / 1000) * 1000 - 10 * 86_400_000;
  readonly tables = new Map<string, Row[]>();
  private readonly index = new Map<string, { object: string; row: Row }>();
  /** "campaignId|personId" -> campaign member id */
  private readonly memberKeys = new Map<string, string>();
  private readonly deletedLog: { object: string; id: string; at: string }[] = [];
  private seq = 0;
  private tokenSeq = 0;
  private readonly cursors = new Map<string, { rows: Row[]; fields: string[]; from: string }>();
  private readonly jobs = new Map<string, { rows: Row[]; fields: string[]; polls: number; object: string }>();
  private server: Server | undefined;

  constructor(o: FakeOrgOptions = {}) {
    this.apiVersion = o.apiVersion ?? '62.0';
    this.multiCurrency = o.multiCurrency ?? true;
    this.limit = { used: o.dailyUsed ?? 0, max: o.dailyMax ?? 1_000_000 };
    this.orgId = this.insert('Organization', { Name: 'Fake Org', OrganizationType: 'Developer Edition', IsSandbox: false, DefaultCurrencyIsoCode: 'EUR' }).Id as string;
    this.profileId = this.insert('Profile', { Name: 'Integration' }).Id as string;
    this.userId = this.insert('User', { Username: this.oauth.username, ProfileId: this.profileId, UserPermissionsMarketingUser: true }).Id as string;
    this.permissionSetId = this.insert('PermissionSet', { ProfileId: this.profileId, IsOwnedByProfile: true }).Id as string;
  }

  // ------------------------------------------------------------ data

  now(): string {
    return new Date(this.clock).toISOString();
  }

  private nextStamp(): string {
    this.clock += 1000;
    return this.now();
  }

  newId(object: string): string {
    const p = PREFIX[object] ?? 'a00';
    return `${p}${String(++this.seq).padStart(12, '0')}AAA`;
  }

  insert(object: string, fields: Row): Row {
    const stamp = typeof fields.SystemModstamp === 'string' ? fields.SystemModstamp : this.nextStamp();
    const row: Row = { Id: this.newId(object), IsDeleted: false, CreatedDate: stamp, ...(object === 'Lead' ? { IsConverted: false } : {}), ...fields, SystemModstamp: stamp };
    if (!this.tables.has(object)) this.tables.set(object, []);
    this.tables.get(object)?.push(row);
    this.index.set(row.Id as string, { object, row });
    if (object === 'CampaignMember') this.memberKeys.set(`${String(row.CampaignId)}|${String(row.ContactId ?? row.LeadId)}`, row.Id as string);
    return row;
  }

  get(id: string): Row | undefined {
    return this.index.get(id)?.row;
  }

  update(id: string, patch: Row, stamp?: string): Row {
    const e = this.index.get(id);
    if (!e) throw new Error(`no record ${id}`);
    Object.assign(e.row, patch, { SystemModstamp: stamp ?? this.nextStamp() });
    return e.row;
  }

  delete(id: string, extra: Row = {}): void {
    const e = this.index.get(id);
    if (!e) throw new Error(`no record ${id}`);
    Object.assign(e.row, extra, { IsDeleted: true, SystemModstamp: this.nextStamp() });
    this.deletedLog.push({ object: e.object, id, at: e.row.SystemModstamp as string });
    if (e.object === 'CampaignMember') this.membershipLog.push({ campaign: String(e.row.CampaignId), person: String(e.row.ContactId ?? e.row.LeadId), op: 'remove' });
    // deleting a parent takes its role rows along, as Salesforce does
    if (e.object === 'Opportunity') for (const r of this.rows('OpportunityContactRole')) if (r.OpportunityId === id && !r.IsDeleted) this.delete(r.Id as string);
    if (e.object === 'Contact' || e.object === 'Lead') for (const r of this.rows('CampaignMember')) if ((r.ContactId ?? r.LeadId) === id && !r.IsDeleted) this.delete(r.Id as string);
  }

  /** Merge: the loser is deleted with MasterRecordId = winner; the winner is touched. */
  merge(winnerId: string, loserId: string): void {
    this.delete(loserId, { MasterRecordId: winnerId });
    this.update(winnerId, {});
  }

  rows(object: string): Row[] {
    return this.tables.get(object) ?? [];
  }

  live(object: string): Row[] {
    return this.rows(object).filter((r) => r.IsDeleted !== true);
  }

  /** Expire every token: the next call gets 401 INVALID_SESSION_ID. */
  expireTokens(): void {
    this.tokens.clear();
  }

  /** Requests to the org's APIs (not OAuth) matching a method (and path pattern). */
  count(method?: string, path?: RegExp): number {
    return this.requests.filter((r) => !r.path.startsWith('/services/oauth2/') && (!method || r.method === method) && (!path || path.test(r.path))).length;
  }

  /** Write requests (anything but GET) to the org's APIs. */
  writes(): number {
    return this.requests.filter((r) => r.method !== 'GET' && !r.path.startsWith('/services/oauth2/') && !r.path.startsWith('/jobs/query') && r.path !== '/composite').length;
  }

  // ------------------------------------------------------------ server

  async start(): Promise<this> {
    this.server = createServer((req, res) => {
      void this.handle(req, res);
    });
    await new Promise<void>((r) => this.server?.listen(0, '127.0.0.1', r));
    this.url = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
    return this;
  }

  async stop(): Promise<void> {
    this.server?.closeAllConnections();
    await new Promise<void>((r) => this.server?.close(() => r()));
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    const raw = Buffer.concat(chunks).toString('utf8');
    const u = new URL(req.url ?? '/', 'http://x');
    const base = `/services/data/v${this.apiVersion}`;
    const path = u.pathname.startsWith(base) ? u.pathname.slice(base.length) || '/' : u.pathname;
    let body: unknown = raw;
    const type = String(req.headers['content-type'] ?? '');
    if (raw && type.includes('json')) body = JSON.parse(raw) as unknown;
    else if (raw && type.includes('form')) body = Object.fromEntries(new URLSearchParams(raw));
    const entry: LoggedRequest = { n: this.requests.length + 1, method: req.method ?? 'GET', path, query: u.searchParams, body };
    this.requests.push(entry);
    const handle = (): FakeResponse => {
      let out: FakeResponse;
      try {
        out = this.route(entry, req);
      } catch (e) {
        out = e instanceof SoqlError ? { status: 400, body: [{ errorCode: e.errorCode, message: e.message }] } : { status: 500, body: [{ errorCode: 'UNKNOWN_EXCEPTION', message: String(e) }] };
      }
      return out;
    };
    const write = (out: FakeResponse): void => {
      entry.status = out.status;
      const headers: Record<string, string> = { ...(out.headers ?? {}) };
      if (!path.startsWith('/services/oauth2/token')) headers['Sforce-Limit-Info'] = `api-usage=${this.limit.used}/${this.limit.max}`;
      if (out.body === undefined) {
        res.writeHead(out.status, headers).end();
        return;
      }
      if (typeof out.body === 'string' && headers['Content-Type']) {
        res.writeHead(out.status, headers).end(out.body);
        return;
      }
      res.writeHead(out.status, { 'Content-Type': 'application/json;charset=UTF-8', ...headers }).end(JSON.stringify(out.body));
    };
    if (this.interceptors.length === 0) {
      write(handle());
      return;
    }
    await answerWith(verdictFor(this.interceptors, entry), req, res, handle, write);
  }

  private route(r: LoggedRequest, req: IncomingMessage): FakeResponse {
    if (r.path === '/services/oauth2/token' && r.method === 'POST') return this.token(r.body as Record<string, string>);
    const auth = String(req.headers.authorization ?? '');
    const tok = auth.replace(/^Bearer /, '');
    if (!this.tokens.has(tok)) return { status: 401, body: [{ message: 'Session expired or invalid', errorCode: 'INVALID_SESSION_ID' }] };
    for (const h of this.hooks) {
      const x = h(r);
      if (x) return x;
    }
    this.limit.used++;
    if (this.limit.used > this.limit.max) return { status: 403, body: [{ message: 'TotalRequests Limit exceeded.', errorCode: 'REQUEST_LIMIT_EXCEEDED' }] };

    if (r.path === '/services/oauth2/userinfo') {
      return { status: 200, body: { user_id: this.userId, organization_id: this.orgId, preferred_username: this.oauth.username, name: 'Integration User' } };
    }
    if (r.path === '/services/data/' || r.path === '/services/data') {
      return { status: 200, body: ['60.0', '61.0', '62.0', '63.0'].map((v) => ({ version: v, url: `/services/data/v${v}` })) };
    }
    if (r.path.startsWith('/services/')) return { status: 404, body: [{ errorCode: 'NOT_FOUND', message: `no such path ${r.path}` }] };
    if (r.path === '/limits') return { status: 200, body: { DailyApiRequests: { Max: this.limit.max, Remaining: Math.max(0, this.limit.max - this.limit.used) } } };
    if (r.method === 'GET' && (r.path === '/query' || r.path === '/queryAll')) {
      return this.query(r.query.get('q') ?? '', r.path === '/queryAll', Number(/batchSize=(\d+)/.exec(String(req.headers['sforce-query-options'] ?? ''))?.[1] ?? 2000));
    }
    const more = /^\/query\/([^/]+)-(\d+)$/.exec(r.path);
    if (r.method === 'GET' && more) return this.page(more[1] as string, Number(more[2]), Number(/batchSize=(\d+)/.exec(String(req.headers['sforce-query-options'] ?? ''))?.[1] ?? 2000));
    const describe = /^\/sobjects\/(\w+)\/describe$/.exec(r.path);
    if (r.method === 'GET' && describe) return { status: 200, body: this.describe(describe[1] as string) };
    const deleted = /^\/sobjects\/(\w+)\/deleted\/?$/.exec(r.path);
    if (r.method === 'GET' && deleted) return this.getDeleted(deleted[1] as string, r.query);
    if (r.path === '/composite/sobjects') return this.collection(r);
    if (r.path === '/composite' && r.method === 'POST') return this.composite(r.body as { compositeRequest: { method: string; url: string; referenceId: string }[] }, req);
    if (r.path === '/tooling/sobjects/CustomField' && r.method === 'POST') return this.createField(r.body as { FullName: string; Metadata: Record<string, unknown> });
    if (r.path === '/tooling/query' && r.method === 'GET') return this.toolingQuery(r.query.get('q') ?? '');
    if (r.path === '/jobs/query' && r.method === 'POST') return this.createJob(r.body as { operation: string; query: string });
    const job = /^\/jobs\/query\/([^/]+)(\/results)?$/.exec(r.path);
    if (job && r.method === 'GET') return job[2] ? this.jobResults(job[1] as string, r.query) : this.jobState(job[1] as string);
    return { status: 404, body: [{ errorCode: 'NOT_FOUND', message: `The requested resource does not exist: ${r.method} ${r.path}` }] };
  }

  // ------------------------------------------------------------ oauth

  private issue(): FakeResponse {
    const t = `tok-${++this.tokenSeq}`;
    this.tokens.add(t);
    return {
      status: 200,
      body: { access_token: t, instance_url: this.url, id: `${this.url}/id/${this.orgId}/${this.userId}`, token_type: 'Bearer', issued_at: String(Date.now()), signature: 'x' },
    };
  }

  private token(b: Record<string, string>): FakeResponse {
    const bad = { status: 400, body: { error: 'invalid_grant', error_description: 'authentication failure' } };
    if (b.grant_type === 'refresh_token') {
      if (b.client_id !== this.oauth.clientId || b.refresh_token !== this.oauth.refreshToken) return bad;
      if (b.client_secret !== undefined && b.client_secret !== this.oauth.clientSecret) return { status: 400, body: { error: 'invalid_client', error_description: 'invalid client credentials' } };
      return this.issue();
    }
    if (b.grant_type === 'urn:ietf:params:oauth:grant-type:jwt-bearer') {
      const [h, c, s] = (b.assertion ?? '').split('.');
      if (!h || !c || !s || !this.jwtPublicKey) return bad;
      const ok = createVerify('RSA-SHA256').update(`${h}.${c}`).verify(this.jwtPublicKey, Buffer.from(s, 'base64url'));
      const claims = JSON.parse(Buffer.from(c, 'base64url').toString('utf8')) as { iss?: string; sub?: string; exp?: number };
      if (!ok || claims.iss !== this.oauth.clientId || claims.sub !== this.oauth.username) return { status: 400, body: { error: 'invalid_grant', error_description: 'user hasn\'t approved this consumer' } };
      return this.issue();
    }
    return { status: 400, body: { error: 'unsupported_grant_type', error_description: 'grant type not supported' } };
  }

  // ------------------------------------------------------------ query

  private db(): Db {
    return {
      rows: (o) => (o === 'UserPermissionAccess' ? [this.userPermissionAccess()] : this.rows(o)),
      byId: (id) => this.index.get(id),
      checkField: (object, path) => {
        const last = path.split('.').pop() ?? '';
        if (last === 'CurrencyIsoCode' && !this.multiCurrency) {
          throw new SoqlError('INVALID_FIELD', `No such column 'CurrencyIsoCode' on entity '${object}'. If you are attempting to use a custom field, be sure to append the '__c' after the custom field name.`);
        }
        if (last.endsWith('__c') && !path.includes('.')) {
          const f = this.customFields.get(`${object}.${last}`);
          if (!f?.visible) throw new SoqlError('INVALID_FIELD', `No such column '${last}' on entity '${object}'.`);
        }
      },
    };
  }

  private userPermissionAccess(): Row {
    return {
      Id: '000000000000000AAA',
      PermissionsCustomizeApplication: this.permissions.customizeApplication,
      PermissionsModifyAllData: this.permissions.customizeApplication,
      PermissionsModifyMetadata: this.permissions.customizeApplication,
    };
  }

  /** A row as REST returns it: attributes, the selected fields, parents as nested objects. */
  private restRecord(object: string, row: Row, fields: string[]): Row {
    const out: Row = { attributes: { type: object, url: `/services/data/v${this.apiVersion}/sobjects/${object}/${String(row.Id)}` } };
    const db = this.db();
    for (const f of fields) {
      const segs = f.split('.');
      if (segs.length === 1) {
        const v = row[f] ?? null;
        out[f] = DATETIME.has(f) && typeof v === 'string' ? sfDateTime(v) : v;
        continue;
      }
      let cur = out;
      let src: Row | undefined = row;
      for (let i = 0; i < segs.length - 1; i++) {
        const rel = segs[i] as string;
        const ref: unknown = src?.[`${rel}Id`];
        src = typeof ref === 'string' ? this.index.get(ref)?.row : undefined;
        if (!src) {
          cur[rel] = null;
          break;
        }
        const existing = cur[rel];
        if (!existing || typeof existing !== 'object') cur[rel] = { attributes: { type: this.index.get(ref as string)?.object ?? rel } };
        cur = cur[rel] as Row;
      }
      if (src) {
        const leaf = segs[segs.length - 1] as string;
        const v = getPath(db, row, f);
        cur[leaf] = DATETIME.has(leaf) && typeof v === 'string' ? sfDateTime(v) : v;
      }
    }
    return out;
  }

  private query(soql: string, scanAll: boolean, batchSize: number): FakeResponse {
    const q = parseSoql(soql);
    const rows = run(this.db(), q, scanAll);
    if (q.count) return { status: 200, body: { totalSize: rows.length, done: true, records: [] } };
    const loc = `01gFAKE${this.cursors.size + 1}`;
    this.cursors.set(loc, { rows, fields: q.fields, from: q.from });
    return this.page(loc, 0, batchSize);
  }

  private page(loc: string, offset: number, batchSize: number): FakeResponse {
    const c = this.cursors.get(loc);
    if (!c) return { status: 400, body: [{ errorCode: 'INVALID_QUERY_LOCATOR', message: 'invalid query locator' }] };
    const size = Math.min(this.maxQueryPage, Math.max(200, batchSize));
    const slice = c.rows.slice(offset, offset + size);
    const next = offset + slice.length;
    const done = next >= c.rows.length;
    return {
      status: 200,
      body: {
        totalSize: c.rows.length,
        done,
        ...(done ? {} : { nextRecordsUrl: `/services/data/v${this.apiVersion}/query/${loc}-${next}` }),
        records: slice.map((r) => this.restRecord(c.from, r, c.fields)),
      },
    };
  }

  /** Composite: GET query subrequests only (that is all the connector sends this way). */
  private composite(b: { compositeRequest: { method: string; url: string; referenceId: string }[] }, req: IncomingMessage): FakeResponse {
    if (b.compositeRequest.length > 25) return { status: 400, body: [{ errorCode: 'INVALID_FIELD', message: 'at most 25 subrequests' }] };
    const base = `/services/data/v${this.apiVersion}`;
    const compositeResponse = b.compositeRequest.map((s) => {
      const u = new URL(s.url, 'http://x');
      if (s.method !== 'GET' || u.pathname !== `${base}/query`) return { body: [{ errorCode: 'NOT_FOUND', message: 'unsupported subrequest' }], httpStatusCode: 404, referenceId: s.referenceId };
      let res: FakeResponse;
      try {
        res = this.query(u.searchParams.get('q') ?? '', false, Number(/batchSize=(\d+)/.exec(String(req.headers['sforce-query-options'] ?? ''))?.[1] ?? 2000));
      } catch (e) {
        res = e instanceof SoqlError ? { status: 400, body: [{ errorCode: e.errorCode, message: e.message }] } : { status: 500, body: [{ errorCode: 'UNKNOWN_EXCEPTION', message: String(e) }] };
      }
      return { body: res.body, httpStatusCode: res.status, referenceId: s.referenceId };
    });
    return { status: 200, body: { compositeResponse } };
  }

  // ------------------------------------------------------------ bulk 2.0

  private createJob(b: { operation: string; query: string }): FakeResponse {
    const q = parseSoql(b.query);
    if (q.orderBy.length) return { status: 400, body: [{ errorCode: 'API_ERROR', message: 'ORDER BY is not supported by Bulk API 2.0 in this fake' }] };
    const rows = run(this.db(), q, b.operation === 'queryAll');
    // bulk results come in no particular order: interleave from both ends
    const mixed: Row[] = [];
    for (let i = 0, j = rows.length - 1; i <= j; i++, j--) {
      mixed.push(rows[j] as Row);
      if (i !== j) mixed.push(rows[i] as Row);
    }
    const id = `750FAKE${String(this.jobs.size + 1).padStart(11, '0')}`;
    this.jobs.set(id, { rows: mixed, fields: q.fields, polls: 0, object: q.from });
    return { status: 200, body: { id, operation: b.operation, object: q.from, state: 'UploadComplete' } };
  }

  private jobState(id: string): FakeResponse {
    const j = this.jobs.get(id);
    if (!j) return { status: 404, body: [{ errorCode: 'NOT_FOUND', message: 'The requested resource does not exist' }] };
    j.polls++;
    const state = j.polls > this.bulkPollsBeforeComplete ? 'JobComplete' : 'InProgress';
    return { status: 200, body: { id, state, numberRecordsProcessed: j.rows.length } };
  }

  private jobResults(id: string, qs: URLSearchParams): FakeResponse {
    const j = this.jobs.get(id);
    if (!j) return { status: 404, body: [{ errorCode: 'NOT_FOUND', message: 'The requested resource does not exist' }] };
    if (j.polls <= this.bulkPollsBeforeComplete) return { status: 400, body: [{ errorCode: 'API_ERROR', message: 'job not complete' }] };
    const offset = qs.get('locator') ? Number(Buffer.from(qs.get('locator') as string, 'base64url').toString('utf8')) : 0;
    const max = Number(qs.get('maxRecords') ?? 50_000);
    const slice = j.rows.slice(offset, offset + max);
    const next = offset + slice.length;
    const db = this.db();
    const lines = [j.fields.map(csvCell).join(','), ...slice.map((r) => j.fields.map((f) => csvCell(getPath(db, r, f))).join(','))];
    return {
      status: 200,
      body: `${lines.join('\n')}\n`,
      headers: {
        'Content-Type': 'text/csv',
        'Sforce-Locator': next < j.rows.length ? Buffer.from(String(next)).toString('base64url') : 'null',
        'Sforce-NumberOfRecords': String(slice.length),
      },
    };
  }

  // ------------------------------------------------------------ describe, deleted

  private describe(object: string): unknown {
    const std = STANDARD_FIELDS[object];
    if (!std) return { name: object, fields: [] };
    const fields = std.map(([name, type]) => ({ name, type, updateable: !['Id', 'CreatedDate', 'SystemModstamp', 'IsDeleted', 'IsWon', 'IsConverted', 'MasterRecordId'].includes(name), createable: true, picklistValues: [] }));
    for (const [key, f] of this.customFields) {
      const [obj, name] = key.split('.');
      if (obj !== object || !f.visible) continue;
      fields.push({
        name: name as string,
        type: f.type,
        updateable: true,
        createable: true,
        ...(f.length !== undefined ? { length: f.length } : {}),
        ...(f.type === 'picklist' ? { restrictedPicklist: f.restricted ?? false, picklistValues: (f.values ?? []).map((v) => ({ value: v, active: true })) } : {}),
      } as (typeof fields)[number]);
    }
    const camp = object === 'Campaign' || object === 'CampaignMember';
    const can = !camp || this.permissions.campaignCreate;
    return { name: object, queryable: true, createable: can, updateable: can, deletable: can, fields };
  }

  private getDeleted(object: string, qs: URLSearchParams): FakeResponse {
    // seconds are ignored
    const minute = (t: number): number => Math.floor(t / 60_000) * 60_000;
    const start = minute(Date.parse(qs.get('start') ?? ''));
    const end = minute(Date.parse(qs.get('end') ?? ''));
    if (!Number.isFinite(start) || !Number.isFinite(end) || end <= start) return { status: 400, body: [{ errorCode: 'INVALID_REPLICATION_DATE', message: 'bad start or end' }] };
    const recs = this.deletedLog.filter((d) => d.object === object && Date.parse(d.at) >= start && Date.parse(d.at) < end);
    return {
      status: 200,
      body: { deletedRecords: recs.map((d) => ({ id: d.id, deletedDate: sfDateTime(d.at) })), earliestDateAvailable: sfDateTime(new Date(start).toISOString()), latestDateCovered: sfDateTime(new Date(end).toISOString()) },
    };
  }

  // ------------------------------------------------------------ writes

  private collection(r: LoggedRequest): FakeResponse {
    const err = (statusCode: string, message: string): unknown => ({ success: false, errors: [{ statusCode, message, fields: [] }] });
    if (r.method === 'DELETE') {
      const ids = (r.query.get('ids') ?? '').split(',').filter(Boolean);
      if (ids.length > 200) return { status: 400, body: [{ errorCode: 'EXCEEDED_ID_LIMIT', message: 'record limit reached' }] };
      return {
        status: 200,
        body: ids.map((id) => {
          const e = this.index.get(id);
          if (!e || e.row.IsDeleted) return { id, ...(err('ENTITY_IS_DELETED', 'entity is deleted') as object) };
          this.delete(id);
          return { id, success: true, errors: [] };
        }),
      };
    }
    const b = r.body as { allOrNone?: boolean; records: Row[] };
    if (b.records.length > 200) return { status: 400, body: [{ errorCode: 'EXCEEDED_ID_LIMIT', message: 'record limit reached' }] };
    if (r.method === 'POST') return { status: 200, body: b.records.map((rec) => this.createOne(rec)) };
    if (r.method === 'PATCH') return { status: 200, body: b.records.map((rec) => this.updateOne(rec)) };
    return { status: 405, body: [{ errorCode: 'METHOD_NOT_ALLOWED', message: r.method }] };
  }

  private createOne(rec: Row): unknown {
    const { attributes, ...fields } = rec as { attributes: { type: string } } & Row;
    const type = attributes.type;
    const fail = (statusCode: string, message: string): unknown => ({ id: null, success: false, errors: [{ statusCode, message, fields: [] }] });
    if (type === 'CampaignMember') {
      const camp = this.get(String(fields.CampaignId));
      const personId = String(fields.ContactId ?? fields.LeadId);
      const person = this.get(personId);
      if (!camp || camp.IsDeleted) return fail('INVALID_CROSS_REFERENCE_KEY', 'invalid cross reference id');
      if (!person || person.IsDeleted) return fail('ENTITY_IS_DELETED', 'entity is deleted');
      const key = `${String(fields.CampaignId)}|${personId}`;
      const dup = this.memberKeys.get(key);
      if (dup && !this.get(dup)?.IsDeleted) return fail('DUPLICATE_VALUE', 'Already a campaign member.');
      const row = this.insert(type, fields);
      this.memberKeys.set(key, row.Id as string);
      this.membershipLog.push({ campaign: String(fields.CampaignId), person: personId, op: 'add' });
      return { id: row.Id, success: true, errors: [] };
    }
    if (type === 'Campaign' && !this.permissions.campaignCreate) return fail('INSUFFICIENT_ACCESS_OR_READONLY', 'insufficient access rights on object id');
    if (type === 'FieldPermissions') {
      const f = this.customFields.get(String(fields.Field));
      if (!f || fields.ParentId !== this.permissionSetId) return fail('INVALID_CROSS_REFERENCE_KEY', 'invalid cross reference id');
      if (f.visible) return fail('DUPLICATE_VALUE', 'duplicate value found');
      f.visible = true;
    }
    const row = this.insert(type, fields);
    return { id: row.Id, success: true, errors: [] };
  }

  private updateOne(rec: Row): unknown {
    const { attributes, Id, ...fields } = rec as { attributes: { type: string }; Id: string } & Row;
    const fail = (statusCode: string, message: string): unknown => ({ id: Id, success: false, errors: [{ statusCode, message, fields: [] }] });
    const e = this.index.get(Id);
    if (!e || e.row.IsDeleted) return fail('ENTITY_IS_DELETED', 'entity is deleted');
    for (const k of Object.keys(fields)) {
      if (k.endsWith('__c') && !this.customFields.get(`${attributes.type}.${k}`)?.visible) return fail('INVALID_FIELD', `No such column '${k}' on sobject of type ${attributes.type}`);
      const f = this.customFields.get(`${attributes.type}.${k}`);
      const v = fields[k];
      if (f?.type === 'picklist' && f.restricted && typeof v === 'string' && !(f.values ?? []).includes(v)) {
        return fail('INVALID_OR_NULL_FOR_RESTRICTED_PICKLIST', `bad value for restricted picklist field: ${v}`);
      }
    }
    const rej = this.rejectUpdates.get(Id);
    if (rej) return fail(rej.statusCode, rej.message);
    this.update(Id, fields);
    return { id: Id, success: true, errors: [] };
  }

  /** Tooling SOQL: only the CustomField lookup by object and developer name the connector sends. */
  private toolingQuery(soql: string): FakeResponse {
    const m = /^SELECT Id, Description FROM CustomField WHERE TableEnumOrId = '(\w+)' AND DeveloperName = '(\w+)'$/.exec(soql);
    if (!m) return { status: 400, body: [{ errorCode: 'MALFORMED_QUERY', message: `fake tooling query does not know: ${soql}` }] };
    const key = `${m[1]}.${m[2]}__c`;
    const f = this.customFields.get(key);
    const records = f ? [{ attributes: { type: 'CustomField' }, Id: `00N${key.length}FAKE`, Description: f.description ?? null }] : [];
    return { status: 200, body: { size: records.length, totalSize: records.length, done: true, records } };
  }

  private createField(b: { FullName: string; Metadata: Record<string, unknown> }): FakeResponse {
    if (!this.permissions.customizeApplication) return { status: 403, body: [{ errorCode: 'INSUFFICIENT_ACCESS', message: 'insufficient access rights on cross-reference id' }] };
    if (this.customFields.has(b.FullName)) return { status: 400, body: [{ errorCode: 'DUPLICATE_DEVELOPER_NAME', message: 'Duplicate Name' }] };
    const md = b.Metadata as { type?: string; length?: number; description?: string; valueSet?: { restricted?: boolean; valueSetDefinition?: { value?: { fullName: string }[] } } };
    const picklist = md.type === 'Picklist';
    this.customFields.set(b.FullName, {
      type: picklist ? 'picklist' : 'string',
      visible: false,
      ...(md.description !== undefined ? { description: md.description } : {}),
      ...(picklist ? { restricted: md.valueSet?.restricted ?? false, values: (md.valueSet?.valueSetDefinition?.value ?? []).map((v) => v.fullName) } : { length: md.length ?? 255 }),
    });
    return { status: 201, body: { id: this.newId('CustomField'), success: true, errors: [] } };
  }
}
