/**
 * Rate limits and failures, through the project's one retry policy (its sleep
 * moves a fake clock, so nothing really waits): TEN_SECONDLY 429 then success,
 * DAILY 429 stopping with the checkpoint saved and resuming, 5xx and network
 * errors retried with backoff, 401/403 failing at once naming the scope, and
 * the shared client-side budget.
 */
import { afterEach, describe, expect, it, vi } from 'vitest';
import { hubspotCheckpointSchema } from '../../../connectors/hubspot/streams.js';
import { nextMidnight } from '../../../connectors/hubspot/client.js';
import { RemoteError } from '../../../src/core/errors.js';
import { DAILY, TEN_SECONDLY, type RecordedRequest } from './fake-hubspot.js';
import { advance, setup, storedContacts, teardown, type Env } from './helpers.js';

let env: Env | undefined;
afterEach(() => {
  vi.restoreAllMocks();
  teardown(env);
});

const page = (after: string | null) => (r: RecordedRequest) =>
  r.method === 'GET' && r.path === '/crm/v3/objects/contacts' && r.query.get('archived') === 'false' && r.query.get('after') === after;

function populate(e: Env, n: number): void {
  for (let i = 1; i <= n; i++) e.fake.addContact(i, { email: `p${i}@example.com` }, '2026-06-01T00:00:00.000Z');
}

async function failure(p: Promise<unknown>): Promise<RemoteError> {
  try {
    await p;
  } catch (e) {
    if (e instanceof RemoteError) return e;
    throw e;
  }
  throw new Error('expected the sync to fail');
}

describe('HubSpot rate limits', () => {
  it('a 429 TEN_SECONDLY_ROLLING waits out the window and retries the same page', async () => {
    env = setup();
    populate(env, 250);
    env.fake.faults.push({ when: page('101'), reply: TEN_SECONDLY });
    await env.sync({ full: true });
    expect(storedContacts(env.store).size).toBe(250);
    expect(env.fake.requests.filter(page('101'))).toHaveLength(2);
    // no Retry-After: the rolling window (10 s)
    expect(env.clock.slept).toContain(10_000);
    const [first, second] = env.fake.requests.filter(page('101'));
    expect((second?.at ?? 0) - (first?.at ?? 0)).toBeGreaterThanOrEqual(10_000);
  });

  it('honours Retry-After, and a secondly (search) 429 waits a second', async () => {
    env = setup();
    populate(env, 10);
    env.fake.faults.push({ when: page(null), reply: [TEN_SECONDLY[0], TEN_SECONDLY[1], { 'Retry-After': '3' }] });
    await env.sync({ full: true });
    expect(env.clock.slept).toEqual([3_000]);
    env.fake.faults.push({
      when: (r) => r.path === '/crm/v3/objects/contacts/search',
      reply: [429, { status: 'error', message: 'You have reached your secondly limit.', errorType: 'RATE_LIMIT', policyName: 'SECONDLY' }],
    });
    await env.sync();
    expect(env.clock.slept).toEqual([3_000, 1_000]);
  });

  it('a 429 DAILY stops the sync cleanly with the checkpoint saved, says when to retry, and the next run resumes there', async () => {
    env = setup({ connector: 'timeZone: Europe/Berlin' });
    populate(env, 350);
    env.fake.faults.push({ when: page('201'), reply: DAILY, times: 100 });
    const e = await failure(env.sync({ full: true }));
    expect(e.kind).toBe('daily_limit');
    expect(e.code).toBe('CONNECTOR_RATE_LIMIT');
    expect(e.message).toMatch(/daily API limit/);
    // 12:00 UTC in July is 14:00 in Berlin: the limit resets at 22:00 UTC
    expect(e.hint).toContain('retry after 2026-07-01T22:00:00.000Z (midnight Europe/Berlin, in about 10.0 h)');
    // never retried: one request for the page that hit the limit
    expect(env.fake.requests.filter(page('201'))).toHaveLength(1);
    // the two pages before it are committed with their checkpoint
    expect(storedContacts(env.store).size).toBe(200);
    expect(hubspotCheckpointSchema.parse(env.store.sync.getCheckpoint('hs', 'contacts'))).toMatchObject({ phase: 'full', after: '201' });

    // the next day: the run resumes at the saved page, nothing read twice
    env.fake.faults.length = 0;
    const before = env.fake.requests.length;
    await env.sync();
    const resumed = env.fake.requests.slice(before).filter((r) => r.path === '/crm/v3/objects/contacts' && r.query.get('archived') === 'false');
    expect(resumed.map((r) => r.query.get('after'))).toEqual(['201', '301']);
    expect(storedContacts(env.store).size).toBe(350);
  });

  it('without a configured time zone, the daily-limit message still says when limits reset', async () => {
    env = setup();
    populate(env, 5);
    env.fake.faults.push({ when: page(null), reply: DAILY });
    const e = await failure(env.sync({ full: true }));
    expect(e.hint).toMatch(/midnight in the HubSpot account's time zone/);
  });

  it('keeps every call of a run, both streams together, within the configured budget', async () => {
    env = setup({ connector: 'rateLimit: { requestsPer10s: 10, searchPerSecond: 2 }' });
    populate(env, 2_500);
    for (let d = 1; d <= 300; d++) env.fake.addDeal(9000 + d, { amount: '1', closedate: '2026-01-01T00:00:00Z', dealstage: 'closedwon' }, [d]);
    await env.sync({ full: true });
    const at = env.fake.requests.map((r) => r.at);
    expect(at.length).toBeGreaterThan(30);
    for (let i = 10; i < at.length; i++) expect((at[i] as number) - (at[i - 10] as number)).toBeGreaterThanOrEqual(10_000);
    expect(env.clock.slept.length).toBeGreaterThan(0);
    // searches: at most 2 per second
    for (let i = 1; i <= 1_000; i++) {
      const c = env.fake.contacts.get(String(i));
      if (c) c.properties.lastmodifieddate = new Date().toISOString();
    }
    advance(1_000);
    const before = env.fake.requests.length;
    await env.sync();
    const s = env.fake.requests.slice(before).filter((r) => r.path.endsWith('/search')).map((r) => r.at);
    expect(s.length).toBeGreaterThanOrEqual(6);
    for (let i = 2; i < s.length; i++) expect((s[i] as number) - (s[i - 2] as number)).toBeGreaterThanOrEqual(1_000);
  });
});

describe('HubSpot failures', () => {
  it('retries 5xx answers (HTML ones too) with capped exponential backoff and jitter', async () => {
    env = setup();
    populate(env, 3);
    env.fake.addDeal(50, { amount: '1', closedate: '2026-01-01T00:00:00Z', dealstage: 'closedwon' }, [1]);
    const assoc = (r: RecordedRequest): boolean => r.path === '/crm/v4/associations/deals/contacts/batch/read';
    env.fake.faults.push({ when: assoc, reply: [502, '<html><body>Bad gateway</body></html>', { 'Content-Type': 'text/html' }] });
    env.fake.faults.push({ when: assoc, reply: [503, { status: 'error', message: 'Service unavailable', category: 'SERVICE_UNAVAILABLE' }] });
    const counts = await env.sync({ full: true });
    expect(counts[1]).toMatchObject({ upserted: 1 });
    expect(env.fake.requests.filter(assoc)).toHaveLength(3);
    // base 500 ms, doubling, jitter in [cap/2, cap] (random fixed at 0.5 here)
    expect(env.clock.slept).toEqual([375, 750]);
  });

  it('retries network errors', async () => {
    env = setup();
    populate(env, 3);
    // the connection drops before HubSpot answers: undici's fetch throws "fetch failed" with the socket error as cause
    const realFetch = globalThis.fetch;
    let drops = 2;
    vi.spyOn(globalThis, 'fetch').mockImplementation(async (input, init) => {
      if (drops > 0 && String(input).includes('/crm/v3/objects/contacts?')) {
        drops--;
        throw new TypeError('fetch failed', { cause: Object.assign(new Error('read ECONNRESET'), { code: 'ECONNRESET' }) });
      }
      return realFetch(input, init);
    });
    await env.sync({ full: true });
    expect(storedContacts(env.store).size).toBe(3);
    expect(env.fake.requests.filter(page(null))).toHaveLength(1);
    expect(env.clock.slept).toEqual([375, 750]);
  });

  it('gives up on a 5xx that does not go away, keeping what was committed', async () => {
    env = setup();
    populate(env, 150);
    env.fake.faults.push({ when: page('101'), reply: [500, { status: 'error', message: 'internal error' }], times: 50 });
    const e = await failure(env.sync({ full: true }));
    expect(e.kind).toBe('server');
    expect(e.message).toMatch(/list contacts: HubSpot answered 500: internal error/);
    expect(env.fake.requests.filter(page('101'))).toHaveLength(6);
    expect(storedContacts(env.store).size).toBe(100);
  });

  it('a 401 fails at once, pointing at the token', async () => {
    env = setup();
    populate(env, 3);
    env.fake.token = 'pat-na1-rotated';
    const e = await failure(env.sync({ full: true }));
    expect(e.kind).toBe('auth');
    expect(e.code).toBe('CONNECTOR_AUTH');
    expect(e.message).toMatch(/rejected the access token \(401\)/);
    expect(e.hint).toMatch(/accessToken/);
    expect(env.fake.requests).toHaveLength(1);
    expect(env.clock.slept).toEqual([]);
  });

  it('a 403 fails at once, naming the missing scope', async () => {
    env = setup({ scopes: ['crm.objects.contacts.read'] });
    populate(env, 3);
    const e = await failure(env.sync({ full: true }));
    expect(e.kind).toBe('auth');
    expect(e.message).toContain('the private app lacks the scope crm.objects.deals.read');
    expect(e.hint).toContain('crm.objects.deals.read');
    // contacts synced; one refused call for deals, not retried
    expect(storedContacts(env.store).size).toBe(3);
    expect(env.fake.requests.filter((r) => r.path.startsWith('/crm/v3/objects/deals'))).toHaveLength(1);
  });
});

describe('next midnight in a time zone', () => {
  it('handles offsets and daylight saving', () => {
    expect(nextMidnight('UTC', new Date('2026-07-01T12:00:00Z')).toISOString()).toBe('2026-07-02T00:00:00.000Z');
    expect(nextMidnight('America/New_York', new Date('2026-07-01T03:00:00Z')).toISOString()).toBe('2026-07-01T04:00:00.000Z');
    // the night Berlin leaves summer time (25 October 2026)
    expect(nextMidnight('Europe/Berlin', new Date('2026-10-25T12:00:00Z')).toISOString()).toBe('2026-10-25T23:00:00.000Z');
    expect(nextMidnight('Asia/Kolkata', new Date('2026-07-01T20:00:00Z')).toISOString()).toBe('2026-07-02T18:30:00.000Z');
  });
});
