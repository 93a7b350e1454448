/**
 * Every Salesforce call goes through `SalesforceClient.call`: a jsforce
 * Connection (API version set, token refreshed on INVALID_SESSION_ID), wrapped
 * in the project's one retry policy, with failures mapped to RemoteError kinds.
 *
 * Each call gets its own jsforce transport so that we see the HTTP status and
 * headers (jsforce's errors carry neither): the status decides the error kind,
 * Sforce-Limit-Info feeds the job's API budget, Sforce-Locator pages Bulk API
 * 2.0 results. The transport also turns jsforce's own retries off (it retries
 * GET/PUT/DELETE on 429/5xx with its own sleeps): only our policy retries, and
 * it retries POST/PATCH exactly where the caller says the call is safe to repeat.
 */
import { PassThrough } from 'node:stream';
import { Connection } from 'jsforce/lib/core.js';
import { Transport } from 'jsforce/lib/transport.js';
import { StreamPromise } from 'jsforce/lib/util/promise.js';
import type { HttpRequest, HttpRequestOptions, HttpResponse } from 'jsforce/lib/types/index.js';
import type { TokenResponse } from 'jsforce/lib/oauth2.js';
import type { z } from 'zod';
import type { ConnectorContext } from '../../src/connector/contract.js';
import type { RetryPolicy } from '../../src/connector/retry.js';
import type { Logger } from '../../src/core/logger.js';
import { RemoteError } from '../../src/core/errors.js';
import { DEFAULT_LOGIN_URL, type SalesforceConfig } from './config.js';
import { ApiBudget } from './budget.js';
import { authKind, fetchToken, type AuthKind } from './auth.js';
import {
  SalesforceComposite,
  SalesforceDescribe,
  SalesforceQueryResult,
  SalesforceSaveResults,
  expectShape,
  type SalesforceSaveResult,
} from './shapes.js';

export interface CallOptions {
  /** Safe to send again when the first attempt may have been applied (default true). */
  idempotent?: boolean;
  /** Return the body as text (CSV results) instead of parsed JSON. */
  text?: boolean;
}

export interface CallResult<T> {
  body: T;
  status: number;
  /** lower-case header names */
  headers: Record<string, string>;
}

/** Salesforce answers REST errors as [{ errorCode, message }] (or one object). */
function salesforceError(body: string | undefined): { errorCode: string; message: string } | undefined {
  if (!body) return undefined;
  try {
    const j = JSON.parse(body) as unknown;
    const e = Array.isArray(j) ? j[0] : j;
    if (e && typeof e === 'object') {
      const o = e as { errorCode?: unknown; message?: unknown; error?: unknown; error_description?: unknown };
      const code = typeof o.errorCode === 'string' ? o.errorCode : typeof o.error === 'string' ? o.error : undefined;
      const message = typeof o.message === 'string' ? o.message : typeof o.error_description === 'string' ? o.error_description : '';
      if (code) return { errorCode: code, message };
    }
  } catch {
    // not JSON: an HTML error page or plain text
  }
  return undefined;
}

const CONFIG_FIELDS_HINT =
  'a field or object named in the connector config (contacts.fields, contacts.properties, leads.*, transactions.orderContactField) does not exist or is not visible to the user (field-level security)';

/** One call's transport: budget first, no jsforce retries, the response kept for us. */
class CallTransport extends Transport {
  response: HttpResponse | undefined;
  private unauthorized = 0;

  constructor(
    private readonly client: SalesforceClient,
    private readonly label: string,
  ) {
    super();
  }

  override httpRequest(req: HttpRequest, options: HttpRequestOptions = {}): StreamPromise<HttpResponse> {
    try {
      this.client.budget.take(this.label);
    } catch (e) {
      return StreamPromise.create(() => ({ stream: new PassThrough(), promise: Promise.reject(e as Error) }));
    }
    this.client.requests++;
    const sp = super.httpRequest(req, { ...options, timeout: this.client.timeoutMs, retry: { methods: [] } });
    const promise = sp.then((res) => {
      this.response = res;
      this.client.budget.observe(res.headers['sforce-limit-info']);
      // jsforce refreshes the token on a 401 and sends again; a second 401 would loop forever
      if (res.statusCode === 401 && ++this.unauthorized > 1) {
        throw new RemoteError('auth', `Salesforce ${this.label}: the session is still refused after a token refresh`, {
          status: 401,
          hint: 'the user may be frozen or lack "API Enabled", or the connected app policies block this user',
        });
      }
      return res;
    });
    return StreamPromise.create(() => ({ stream: sp.stream(), promise }));
  }
}

export interface ClientDeps {
  config: SalesforceConfig;
  baseDir: string;
  retry: RetryPolicy;
  logger: Logger;
  signal: AbortSignal;
}

export class SalesforceClient {
  readonly conn: Connection;
  readonly budget: ApiBudget;
  readonly timeoutMs: number;
  /** HTTP requests sent to the org's APIs (OAuth token requests excluded). */
  requests = 0;
  /** Token requests sent. */
  tokenRequests = 0;
  /** From the identity URL of the token response, when there is one. */
  identity: { orgId: string; userId: string } | undefined;
  private readonly auth: AuthKind;
  private login: Promise<void> | undefined;
  private lastTokenError: RemoteError | undefined;
  private readonly describes = new Map<string, SalesforceDescribe>();

  constructor(private readonly d: ClientDeps) {
    const c = d.config;
    this.auth = authKind(c);
    this.budget = new ApiBudget(c.maxApiShare);
    this.timeoutMs = c.requestTimeoutSeconds * 1000;
    const loginUrl = c.oauth?.loginUrl ?? c.jwt?.loginUrl ?? DEFAULT_LOGIN_URL;
    const clientId = c.oauth?.clientId ?? c.jwt?.clientId;
    this.conn = new Connection({
      version: c.apiVersion,
      loginUrl,
      ...(c.instanceUrl !== undefined ? { instanceUrl: c.instanceUrl } : {}),
      ...(c.accessToken !== undefined ? { accessToken: c.accessToken } : {}),
      ...(clientId !== undefined
        ? {
            oauth2: { loginUrl, clientId, ...(c.oauth?.clientSecret !== undefined ? { clientSecret: c.oauth.clientSecret } : {}) },
            refreshFn: (_conn, cb) => {
              this.refresh().then(
                (t) => cb(null, t.access_token, t),
                (e: unknown) => cb(e instanceof Error ? e : new Error(String(e))),
              );
            },
          }
        : {}),
    });
  }

  get logger(): Logger {
    return this.d.logger;
  }

  /** The job's retry policy (bulk polling waits through it). */
  get retry(): RetryPolicy {
    return this.d.retry;
  }

  /** Gets a fresh token and puts it on the connection. */
  private async refresh(): Promise<TokenResponse> {
    this.tokenRequests++;
    try {
      const t = await fetchToken(this.conn, this.d.config, this.d.baseDir);
      this.conn.accessToken = t.access_token;
      if (this.d.config.instanceUrl === undefined && t.instance_url) this.conn.instanceUrl = t.instance_url.replace(/\/$/, '');
      const m = t.id ? /\/id\/([^/]+)\/([^/?]+)/.exec(t.id) : null;
      if (m) this.identity = { orgId: m[1] as string, userId: m[2] as string };
      this.lastTokenError = undefined;
      this.d.logger.debug('salesforce: new access token');
      return t as unknown as TokenResponse;
    } catch (e) {
      if (e instanceof RemoteError) this.lastTokenError = e;
      throw e;
    }
  }

  /** The first token of an OAuth/JWT connection, fetched once. */
  private async ready(): Promise<void> {
    if (this.auth === 'accessToken' || this.conn.accessToken) return;
    this.login ??= this.d.retry
      .run('Salesforce login', () => this.refresh().then(() => undefined), { signal: this.d.signal })
      .finally(() => {
        this.login = undefined;
      });
    await this.login;
  }

  /** One REST call, retried by the policy, errors mapped to RemoteError. */
  async call<T = unknown>(label: string, req: HttpRequest, opts: CallOptions = {}): Promise<CallResult<T>> {
    await this.ready();
    return this.d.retry.run(
      label,
      async () => {
        const t = new CallTransport(this, label);
        try {
          const body = (await this.conn.request<T>(req, { transport: t, ...(opts.text ? { responseType: 'text/plain' } : {}) })) as T;
          return { body, status: t.response?.statusCode ?? 0, headers: t.response?.headers ?? {} };
        } catch (e) {
          throw this.remoteError(e, t.response, label);
        }
      },
      { idempotent: opts.idempotent ?? true, signal: this.d.signal },
    );
  }

  /** Maps whatever jsforce threw to a RemoteError kind the retry policy understands. */
  remoteError(err: unknown, res: HttpResponse | undefined, label: string): unknown {
    if (err instanceof RemoteError) return err;
    const e = err as Error & { errorCode?: string };
    if (/^Unable to refresh session/.test(e?.message ?? '') && this.lastTokenError) return this.lastTokenError;
    if (!res || res.statusCode < 300) {
      if (res === undefined && (e?.name === 'AbortError' || e?.name === 'TimeoutError')) {
        return new RemoteError('network', `Salesforce ${label}: no answer within ${this.timeoutMs / 1000} s`, { cause: err });
      }
      if (res === undefined && this.d.retry.classify(err).kind === 'network') {
        return new RemoteError('network', `Salesforce ${label}: ${e.message}`, { cause: err });
      }
      if (res === undefined) return err;
      return new RemoteError('client', `Salesforce ${label}: unreadable answer: ${e?.message ?? String(err)}`, { status: res.statusCode, cause: err });
    }
    const status = res.statusCode;
    const sf = salesforceError(res.body) ?? { errorCode: e?.errorCode ?? e?.name ?? `HTTP_${status}`, message: e?.message ?? '' };
    const text = `Salesforce ${label}: ${sf.errorCode}${sf.message ? `: ${sf.message}` : ''} (HTTP ${status})`;
    const opts = { status, cause: err };
    if (sf.errorCode === 'REQUEST_LIMIT_EXCEEDED') {
      if (/concurrent/i.test(sf.message)) return new RemoteError('rate_limit', text, opts);
      return new RemoteError('daily_limit', text, {
        ...opts,
        hint: 'the org has used up its daily API requests; progress is saved and the next run resumes where this one stopped, once the rolling 24-hour window frees calls',
      });
    }
    if (status === 429) {
      const ra = Number(res.headers['retry-after']);
      return new RemoteError('rate_limit', text, { ...opts, ...(Number.isFinite(ra) && ra > 0 ? { retryAfterMs: ra * 1000 } : {}) });
    }
    if (status >= 500 || status === 420) return new RemoteError('server', text, opts);
    if (status === 401 || sf.errorCode === 'INVALID_SESSION_ID') {
      return new RemoteError('auth', text, {
        ...opts,
        hint:
          this.auth === 'accessToken'
            ? 'the access token expired or was revoked: set a fresh accessToken, or configure oauth or jwt so segsync can refresh it'
            : 'Salesforce refused the session: check the connected app and the user',
      });
    }
    if (/^API_(DISABLED_FOR_ORG|CURRENTLY_DISABLED)$/.test(sf.errorCode)) {
      return new RemoteError('auth', text, { ...opts, hint: 'the user needs the "API Enabled" permission, in an edition with API access' });
    }
    if (/^(INVALID_FIELD|INVALID_TYPE|MALFORMED_QUERY|INVALID_QUERY_FILTER_OPERATOR)$/.test(sf.errorCode)) {
      return new RemoteError('client', text, { ...opts, hint: CONFIG_FIELDS_HINT });
    }
    if (/^INSUFFICIENT_ACCESS/.test(sf.errorCode)) {
      return new RemoteError('client', text, { ...opts, hint: 'the Salesforce user lacks a permission this call needs; `segsync check` lists what is in place' });
    }
    return new RemoteError('client', text, opts);
  }

  // ---- helpers over call() ----

  async get<T = unknown>(label: string, url: string, opts: CallOptions = {}): Promise<CallResult<T>> {
    return this.call<T>(label, { method: 'GET', url }, opts);
  }

  async send<T = unknown>(label: string, method: 'POST' | 'PATCH' | 'DELETE', url: string, body: unknown, opts: CallOptions = {}): Promise<CallResult<T>> {
    const req: HttpRequest =
      body === undefined ? { method, url } : { method, url, body: JSON.stringify(body), headers: { 'content-type': 'application/json' } };
    return this.call<T>(label, req, opts);
  }

  /** First page of a SOQL query (queryAll includes deleted and archived rows). */
  async query(label: string, soql: string, o: { scanAll?: boolean; batchSize?: number } = {}): Promise<SalesforceQueryResult> {
    const url = `/${o.scanAll ? 'queryAll' : 'query'}?q=${encodeURIComponent(soql)}`;
    const req: HttpRequest = { method: 'GET', url, headers: { 'Sforce-Query-Options': `batchSize=${o.batchSize ?? 2000}` } };
    const r = await this.call(label, req);
    return expectShape(SalesforceQueryResult, r.body, 'query result');
  }

  /** The next page, by the previous page's nextRecordsUrl. */
  async queryMore(label: string, nextRecordsUrl: string, batchSize = 2000): Promise<SalesforceQueryResult> {
    const req: HttpRequest = { method: 'GET', url: nextRecordsUrl, headers: { 'Sforce-Query-Options': `batchSize=${batchSize}` } };
    const r = await this.call(label, req);
    return expectShape(SalesforceQueryResult, r.body, 'query result');
  }

  /** Every row of a (small) query, each checked with `schema`. */
  async queryRows<T>(label: string, soql: string, schema: z.ZodType<T>, o: { scanAll?: boolean } = {}): Promise<T[]> {
    const out: T[] = [];
    let page = await this.query(label, soql, o);
    for (;;) {
      for (const r of page.records) out.push(expectShape(schema, r, `${label} row`));
      if (page.done || !page.nextRecordsUrl) return out;
      page = await this.queryMore(label, page.nextRecordsUrl);
    }
  }

  /**
   * Several queries in one Composite request: the SOQL travels in the body, so
   * long IN lists do not meet the URI limit (16,384 bytes with the headers), and
   * up to 25 queries cost one API call. Returns every row of each query.
   */
  async queryMany<T>(label: string, soqls: readonly string[], schema: z.ZodType<T>): Promise<T[][]> {
    const out: T[][] = [];
    for (let i = 0; i < soqls.length; i += 25) {
      const part = soqls.slice(i, i + 25);
      const r = await this.send(label, 'POST', '/composite', {
        allOrNone: false,
        compositeRequest: part.map((q, j) => ({ method: 'GET', url: `/services/data/v${this.conn.version}/query?q=${encodeURIComponent(q)}`, referenceId: `q${j}` })),
      });
      const res = expectShape(SalesforceComposite, r.body, `${label} results`).compositeResponse;
      if (res.length !== part.length) throw new RemoteError('client', `Salesforce ${label}: ${res.length} results for ${part.length} queries`);
      for (const sub of res) {
        if (sub.httpStatusCode >= 400) {
          const e = Array.isArray(sub.body) ? (sub.body[0] as { errorCode?: string; message?: string } | undefined) : undefined;
          throw new RemoteError(sub.httpStatusCode >= 500 ? 'server' : 'client', `Salesforce ${label}: ${e?.errorCode ?? `HTTP ${sub.httpStatusCode}`}: ${e?.message ?? ''}`, {
            status: sub.httpStatusCode,
          });
        }
        let page = expectShape(SalesforceQueryResult, sub.body, `${label} result`);
        const rows: T[] = [];
        for (;;) {
          for (const x of page.records) rows.push(expectShape(schema, x, `${label} row`));
          if (page.done || !page.nextRecordsUrl) break;
          page = await this.queryMore(label, page.nextRecordsUrl);
        }
        out.push(rows);
      }
    }
    return out;
  }

  /** sObject describe, once per client. */
  async describe(object: string): Promise<SalesforceDescribe> {
    const hit = this.describes.get(object);
    if (hit) return hit;
    const r = await this.get(`describe ${object}`, `/sobjects/${object}/describe`);
    const d = expectShape(SalesforceDescribe, r.body, `describe of ${object}`);
    this.describes.set(object, d);
    return d;
  }

  forgetDescribe(object: string): void {
    this.describes.delete(object);
  }

  /**
   * One sObject Collections call (at most 200 records or ids), allOrNone false:
   * one result per input, in order.
   */
  async collection(
    label: string,
    method: 'POST' | 'PATCH' | 'DELETE',
    input: { records: Record<string, unknown>[] } | { ids: string[] },
    opts: CallOptions = {},
  ): Promise<SalesforceSaveResult[]> {
    const n = 'records' in input ? input.records.length : input.ids.length;
    if (n === 0) return [];
    if (n > 200) throw new Error(`sObject Collections take at most 200 records per call, got ${n}`);
    const r =
      'records' in input
        ? await this.send(label, method, '/composite/sobjects', { allOrNone: false, records: input.records }, opts)
        : await this.send(label, 'DELETE', `/composite/sobjects?ids=${input.ids.map(encodeURIComponent).join(',')}&allOrNone=false`, undefined, opts);
    const results = expectShape(SalesforceSaveResults, r.body, `${label} results`);
    if (results.length !== n) throw new RemoteError('client', `Salesforce ${label}: ${results.length} results for ${n} records`);
    return results;
  }
}

const IDLE_MS = 10 * 60_000;
const clients = new WeakMap<AbortSignal, Map<string, { config: unknown; client: SalesforceClient; used: number }>>();

/**
 * One client per job (the job's AbortSignal) and connector: one token, one API
 * budget across the job's streams and its push. An idle client is replaced, so
 * a long-lived signal still gets a fresh budget per burst of work.
 */
export function clientFor(ctx: ConnectorContext<SalesforceConfig>): SalesforceClient {
  let byName = clients.get(ctx.signal);
  if (!byName) {
    byName = new Map();
    clients.set(ctx.signal, byName);
  }
  const now = Date.now();
  const hit = byName.get(ctx.name);
  if (hit && hit.config === ctx.config && now - hit.used < IDLE_MS) {
    hit.used = now;
    return hit.client;
  }
  const client = new SalesforceClient({ config: ctx.config, baseDir: ctx.baseDir, retry: ctx.retry, logger: ctx.logger, signal: ctx.signal });
  byName.set(ctx.name, { config: ctx.config, client, used: now });
  return client;
}
