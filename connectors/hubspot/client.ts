/**
 * The SDK client and the one way calls are made: every call takes a slot from
 * the run's shared rate budget, runs inside the project's retry policy, and
 * fails as a RemoteError the policy can classify:
 *
 *   429 TEN_SECONDLY_ROLLING / SECONDLY -> rate_limit (retryAfter: Retry-After, else the window)
 *   429 DAILY                          -> daily_limit (stops the run; says when to retry)
 *   5xx, 408                           -> server (retried with capped backoff and jitter)
 *   401 / 403                          -> auth (at once; a 403 names the missing scope)
 *   other 4xx                          -> client (status kept; 404 is "not found" to callers)
 *   network failures                   -> left as they are; the policy classifies them
 *
 * The SDK's own retries and limiter stay off (numberOfApiCallRetries 0, no
 * limiterOptions): it ignores Retry-After and never retries DAILY.
 */
import { Client } from '@hubspot/api-client';
import type { ConnectorContext } from '../../src/connector/contract.js';
import type { RetryPolicy } from '../../src/connector/retry.js';
import { RemoteError } from '../../src/core/errors.js';
import type { HubspotConfig } from './config.js';
import { RateLimiter, type CallKind } from './rate-limiter.js';
import { HubspotErrorBody } from './shapes.js';

/** A non-2xx answer, raised by our response middleware before the SDK parses the body. */
export class HubspotHttpError extends Error {
  constructor(
    readonly status: number,
    readonly headers: Record<string, string>,
    readonly text: string,
    readonly body: unknown,
  ) {
    super(`HTTP ${status}`);
    this.name = 'HubspotHttpError';
  }
}

interface ResponseLike {
  httpStatusCode: number;
  headers: Record<string, string>;
  body: { text(): Promise<string> };
}

/** Turns every error status into a HubspotHttpError (status, headers, body), whatever its content type. */
const errorMiddleware = {
  pre: (c: unknown): unknown => c,
  post: async (c: unknown): Promise<unknown> => {
    const r = c as ResponseLike;
    if (r.httpStatusCode >= 400) {
      const text = await r.body.text().catch(() => '');
      let body: unknown;
      try {
        body = JSON.parse(text);
      } catch {
        body = undefined;
      }
      throw new HubspotHttpError(r.httpStatusCode, r.headers, text, body);
    }
    return c;
  },
};

export interface CallOptions {
  /** Search calls have their own, lower budget. */
  kind?: CallKind;
  /** The scope this call needs; a 403 without a scope in its body names this one. */
  scope?: string;
  /** false for a call that creates: retried only when HubSpot surely did not apply it. */
  idempotent?: boolean;
}

export interface HubspotApi {
  readonly sdk: Client;
  readonly limiter: RateLimiter;
  /** Runs one SDK call under the rate budget and the retry policy. */
  call<T>(label: string, fn: (sdk: Client) => Promise<T>, opts?: CallOptions): Promise<T>;
  /** Like call(), but a 404 answers undefined. */
  find<T>(label: string, fn: (sdk: Client) => Promise<T>, opts?: CallOptions): Promise<T | undefined>;
}

interface Core {
  sdk: Client;
  limiter: RateLimiter;
  timeZone: string | undefined;
}

/** One SDK client and one rate limiter per run (a run has one retry policy) and connector. */
const cores = new WeakMap<RetryPolicy, Map<string, Core>>();

function coreFor(ctx: ConnectorContext<HubspotConfig>): Core {
  let byConn = cores.get(ctx.retry);
  if (!byConn) {
    byConn = new Map();
    cores.set(ctx.retry, byConn);
  }
  const c = ctx.config;
  const key = `${ctx.name}\u0000${c.baseUrl}\u0000${c.accessToken}`;
  let core = byConn.get(key);
  if (!core) {
    core = {
      sdk: new Client({ accessToken: c.accessToken, basePath: c.baseUrl, numberOfApiCallRetries: 0, middleware: [errorMiddleware] }),
      limiter: new RateLimiter(c.rateLimit),
      timeZone: c.timeZone,
    };
    byConn.set(key, core);
  }
  return core;
}

export function hubspotApi(ctx: ConnectorContext<HubspotConfig>): HubspotApi {
  const core = coreFor(ctx);
  const call = <T>(label: string, fn: (sdk: Client) => Promise<T>, opts: CallOptions = {}): Promise<T> =>
    ctx.retry.run(
      label,
      async () => {
        const wait = core.limiter.take(opts.kind ?? 'general');
        if (wait > 0) throw new RemoteError('rate_limit', `${label}: waiting for the run's HubSpot request budget`, { retryAfterMs: wait });
        try {
          return await fn(core.sdk);
        } catch (e) {
          const mapped = mapHubspotError(e, label, { scope: opts.scope, timeZone: core.timeZone, now: new Date() });
          if (mapped instanceof RemoteError && mapped.kind === 'rate_limit' && mapped.retryAfterMs !== undefined) {
            core.limiter.pause(mapped.retryAfterMs);
            ctx.logger.warn({ call: label, retryAfterMs: mapped.retryAfterMs }, 'HubSpot rate limit hit; waiting');
          }
          throw mapped;
        }
      },
      { idempotent: opts.idempotent ?? true, signal: ctx.signal },
    );
  return {
    sdk: core.sdk,
    limiter: core.limiter,
    call,
    async find(label, fn, opts) {
      try {
        return await call(label, fn, opts);
      } catch (e) {
        if (e instanceof RemoteError && e.status === 404) return undefined;
        throw e;
      }
    },
  };
}

function header(h: Record<string, string> | undefined, name: string): string | undefined {
  if (!h) return undefined;
  const k = Object.keys(h).find((x) => x.toLowerCase() === name);
  return k === undefined ? undefined : h[k];
}

/** Retry-After as milliseconds (seconds or an HTTP date). */
function retryAfterMs(h: Record<string, string> | undefined, now: Date): number | undefined {
  const v = header(h, 'retry-after');
  if (v === undefined) return undefined;
  if (/^\d+(\.\d+)?$/.test(v.trim())) return Math.ceil(Number(v) * 1000);
  const t = Date.parse(v);
  return Number.isFinite(t) ? Math.max(0, t - now.getTime()) : undefined;
}

/** Scopes a 403 body says are missing (HubSpot puts them in errors[].context). */
function missingScopes(body: HubspotErrorBody | undefined): string[] {
  const out = new Set<string>();
  for (const e of body?.errors ?? []) {
    for (const key of ['requiredGranularScopes', 'requiredScopes', 'requiredAnyScopes']) {
      const v = e.context?.[key];
      if (Array.isArray(v)) for (const s of v) if (typeof s === 'string') out.add(s);
    }
  }
  return [...out];
}

/** The UTC offset (ms, local minus UTC) of a time zone at an instant. */
function tzOffsetMs(tz: string, at: Date): number {
  const f = new Intl.DateTimeFormat('en-US', {
    timeZone: tz,
    hourCycle: 'h23',
    year: 'numeric',
    month: 'numeric',
    day: 'numeric',
    hour: 'numeric',
    minute: 'numeric',
    second: 'numeric',
  });
  const p = Object.fromEntries(f.formatToParts(at).map((x) => [x.type, x.value]));
  const local = Date.UTC(Number(p.year), Number(p.month) - 1, Number(p.day), Number(p.hour), Number(p.minute), Number(p.second));
  return local - Math.floor(at.getTime() / 1000) * 1000;
}

/** The next midnight in a time zone, as an instant. */
export function nextMidnight(tz: string, now: Date): Date {
  const [y, m, d] = new Intl.DateTimeFormat('en-CA', { timeZone: tz, year: 'numeric', month: '2-digit', day: '2-digit' })
    .format(now)
    .split('-')
    .map(Number) as [number, number, number];
  const wall = Date.UTC(y, m - 1, d + 1);
  let t = wall - tzOffsetMs(tz, new Date(wall));
  t = wall - tzOffsetMs(tz, new Date(t));
  return new Date(t);
}

function dailyHint(timeZone: string | undefined, now: Date): string {
  if (!timeZone) {
    return 'HubSpot resets daily limits at midnight in the HubSpot account\'s time zone (Settings > Account Defaults); run again after that, or set timeZone in the connector config to see the exact time';
  }
  const at = nextMidnight(timeZone, now);
  const hours = Math.max(0, (at.getTime() - now.getTime()) / 3_600_000);
  return `HubSpot resets daily limits at midnight in the account's time zone: retry after ${at.toISOString()} (midnight ${timeZone}, in about ${hours < 1 ? `${Math.ceil(hours * 60)} min` : `${hours.toFixed(1)} h`})`;
}

/** Maps whatever a call threw to a RemoteError (or leaves network errors to the retry policy). */
export function mapHubspotError(
  e: unknown,
  label: string,
  o: { scope?: string | undefined; timeZone?: string | undefined; now: Date },
): unknown {
  if (e instanceof RemoteError) return e;
  let status: number | undefined;
  let headers: Record<string, string> | undefined;
  let raw: unknown;
  let text = '';
  if (e instanceof HubspotHttpError) {
    ({ status, headers, body: raw, text } = e);
  } else if (e instanceof Error && typeof (e as { code?: unknown }).code === 'number' && 'body' in e) {
    // the SDK's ApiException, should a response ever get past the middleware
    status = (e as unknown as { code: number }).code;
    headers = (e as unknown as { headers?: Record<string, string> }).headers;
    raw = (e as unknown as { body: unknown }).body;
    text = typeof raw === 'string' ? raw : '';
  } else {
    return e;
  }
  const body = HubspotErrorBody.safeParse(raw).data;
  const said = body?.message ?? text.replace(/\s+/g, ' ').slice(0, 200);
  const ref = body?.correlationId ? ` (correlationId ${body.correlationId})` : '';
  const what = `${label}: HubSpot answered ${status}${said ? `: ${said}` : ''}${ref}`;
  const base = { status, cause: e };
  if (status === 429) {
    const policy = body?.policyName ?? '';
    if (policy === 'DAILY' || /\bdaily\b/i.test(said)) {
      return new RemoteError('daily_limit', `HubSpot's daily API limit for this account is used up (${label}). The run stopped; what it finished is saved (sync pages, acknowledged push batches) and the next run resumes there`, {
        ...base,
        hint: dailyHint(o.timeZone, o.now),
      });
    }
    const secondly = policy === 'SECONDLY' || /\bsecondly\b/i.test(said);
    const wait = retryAfterMs(headers, o.now) ?? (secondly ? 1_000 : 10_000);
    return new RemoteError('rate_limit', what, { ...base, retryAfterMs: wait });
  }
  if (status === 401) {
    return new RemoteError('auth', `HubSpot rejected the access token (401) on ${label}`, {
      ...base,
      hint: 'check accessToken in the config (a private app token starts with "pat-"); the token may have been rotated or the app deleted',
    });
  }
  if (status === 403) {
    const scopes = missingScopes(body);
    if (scopes.length === 0 && o.scope) scopes.push(o.scope);
    const named = scopes.length ? `the scope ${scopes.join(' or ')}` : 'a scope this call needs';
    return new RemoteError('auth', `HubSpot refused ${label} (403): the private app lacks ${named}`, {
      ...base,
      hint: `in HubSpot open Settings > Integrations > Private Apps > your app > Scopes, tick ${scopes.length ? scopes.join(', ') : 'the scopes listed in the segsync HubSpot README'}, commit the change, then run \`segsync check\``,
    });
  }
  if (status !== undefined && (status >= 500 || status === 408)) return new RemoteError('server', what, base);
  return new RemoteError('client', what, base);
}
