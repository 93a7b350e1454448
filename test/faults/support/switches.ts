/**
 * The fault switches of the loopback CRM fakes: a rolling rate limit answering
 * 429 (HubSpot's TEN_SECONDLY_ROLLING body and X-HubSpot-RateLimit-* headers;
 * for Salesforce, REQUEST_LIMIT_EXCEEDED "ConcurrentPerOrgLongTxn", the only
 * short-term limit Salesforce has), random 500/502/503 at a seeded rate (some
 * answered after the fake applied the request: the answer is lost, the effect
 * is not), slow answers, answers that never come, and a daily limit running
 * out. Every decision comes from one seeded generator, so a run is repeatable;
 * `log` counts what was injected, so a test can prove the faults happened.
 */
import type { Interceptor, SeenRequest, Verdict } from '../../support/fake-http.js';

export type Flavor = 'hubspot' | 'salesforce';

export interface SwitchSettings {
  /** share of requests answered 500, 502 or 503 */
  errorRate: number;
  /** of those errors, the share answered after the fake handled the request */
  lostAnswerShare: number;
  /** rolling window: at most `max` requests per `windowMs` (Date.now, so a faked clock drives it) */
  rateLimit: { max: number; windowMs: number } | undefined;
  /** share of requests answered `ms` late (real time) */
  slow: { rate: number; ms: number } | undefined;
  /** share of requests never answered */
  hangRate: number;
  /** requests answered before the daily limit is used up (undefined: no daily limit) */
  dailyCalls: number | undefined;
  /** the requests the switches apply to (default: all) */
  only: ((r: SeenRequest) => boolean) | undefined;
}

export interface FaultLog {
  requests: number;
  errors: number;
  lostAnswers: number;
  rateLimited: number;
  slow: number;
  hung: number;
  daily: number;
}

/** mulberry32: small, seeded, good enough to pick faults. */
export function seeded(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const OFF: SwitchSettings = { errorRate: 0, lostAnswerShare: 0, rateLimit: undefined, slow: undefined, hangRate: 0, dailyCalls: undefined, only: undefined };

function serverError(flavor: Flavor, status: number): { body: unknown; headers?: Record<string, string> } {
  if (status === 502) return { body: '<html><body><h1>502 Bad Gateway</h1></body></html>' };
  if (flavor === 'hubspot') return { body: { status: 'error', message: status === 503 ? 'Service unavailable' : 'internal error', category: status === 503 ? 'SERVICE_UNAVAILABLE' : 'INTERNAL_ERROR', correlationId: 'fault' } };
  return { body: [{ errorCode: status === 503 ? 'SERVER_UNAVAILABLE' : 'UNKNOWN_EXCEPTION', message: 'An unexpected error occurred. Please include this ErrorId if you contact support: 1234-5678 (-1)' }] };
}

function rateLimited(flavor: Flavor, rl: { max: number; windowMs: number }, daily: number | undefined): Verdict {
  if (flavor === 'salesforce') {
    return { kind: 'reply', status: 403, body: [{ errorCode: 'REQUEST_LIMIT_EXCEEDED', message: 'ConcurrentPerOrgLongTxn Limit exceeded.' }] };
  }
  return {
    kind: 'reply',
    status: 429,
    body: { status: 'error', message: 'You have reached your ten_secondly_rolling limit.', errorType: 'RATE_LIMIT', correlationId: 'fault', policyName: 'TEN_SECONDLY_ROLLING', groupName: 'publicapi' },
    headers: {
      'X-HubSpot-RateLimit-Interval-Milliseconds': String(rl.windowMs),
      'X-HubSpot-RateLimit-Max': String(rl.max),
      'X-HubSpot-RateLimit-Remaining': '0',
      ...(daily !== undefined ? { 'X-HubSpot-RateLimit-Daily-Remaining': String(daily) } : {}),
    },
  };
}

function dailyLimit(flavor: Flavor): Verdict {
  if (flavor === 'salesforce') return { kind: 'reply', status: 403, body: [{ errorCode: 'REQUEST_LIMIT_EXCEEDED', message: 'TotalRequests Limit exceeded.' }] };
  return {
    kind: 'reply',
    status: 429,
    body: { status: 'error', message: 'You have reached your daily limit.', errorType: 'RATE_LIMIT', correlationId: 'fault', policyName: 'DAILY', groupName: 'publicapi' },
    headers: { 'X-HubSpot-RateLimit-Daily': '250000', 'X-HubSpot-RateLimit-Daily-Remaining': '0' },
  };
}

export class FaultSwitches {
  readonly settings: SwitchSettings;
  readonly log: FaultLog = { requests: 0, errors: 0, lostAnswers: 0, rateLimited: 0, slow: 0, hung: 0, daily: 0 };
  private readonly random: () => number;
  private readonly window: number[] = [];

  constructor(
    readonly flavor: Flavor,
    seed: number,
    settings: Partial<SwitchSettings> = {},
  ) {
    this.random = seeded(seed);
    this.settings = { ...OFF, ...settings };
  }

  set(p: Partial<SwitchSettings>): this {
    Object.assign(this.settings, p);
    return this;
  }

  /** Everything off (a daily limit too). */
  off(): this {
    return this.set(OFF);
  }

  readonly interceptor: Interceptor = (r) => {
    const s = this.settings;
    if (s.only && !s.only(r)) return undefined;
    // token requests are not API calls: they count against no limit
    if (r.path.startsWith('/services/oauth2/token')) return undefined;
    this.log.requests++;
    if (s.dailyCalls !== undefined) {
      if (s.dailyCalls <= 0) {
        this.log.daily++;
        return dailyLimit(this.flavor);
      }
      s.dailyCalls--;
    }
    if (s.rateLimit) {
      const now = Date.now();
      while (this.window.length && (this.window[0] as number) <= now - s.rateLimit.windowMs) this.window.shift();
      if (this.window.length >= s.rateLimit.max) {
        this.log.rateLimited++;
        return rateLimited(this.flavor, s.rateLimit, s.dailyCalls);
      }
      this.window.push(now);
    }
    // one draw per decision, always in the same order: the same seed gives the same faults
    const err = this.random();
    const which = this.random();
    const lost = this.random();
    const slow = this.random();
    const hang = this.random();
    if (err < s.errorRate) {
      const status = ([500, 502, 503] as const)[Math.floor(which * 3)] ?? 500;
      this.log.errors++;
      const after = lost < s.lostAnswerShare;
      if (after) this.log.lostAnswers++;
      return { kind: 'reply', status, ...serverError(this.flavor, status), after };
    }
    if (hang < s.hangRate) {
      this.log.hung++;
      return { kind: 'hang' };
    }
    if (s.slow && slow < s.slow.rate) {
      this.log.slow++;
      return { kind: 'delay', ms: s.slow.ms };
    }
    return undefined;
  };
}
