/**
 * Fault scenario 1: 10% random 500/502/503 (a third of them answered after the
 * CRM applied the request, so the answer is lost but the change is not), a
 * tight rolling rate limit and some slow answers, on both CRMs, through a whole
 * `run` (sync, segment, push). The end state must be exactly the one a clean
 * run reaches: store, CRM lists, campaigns and properties, run counts; and every
 * membership is added once at the CRM, never twice, none lost.
 */
import { afterEach, describe, expect, it, vi } from 'vitest';
import type { Interceptor } from '../support/fake-http.js';
import { endState, fakeClock, membershipChanges, openSession, runPipeline, startWorld, stableCounts, type World } from './support/world.js';

const worlds: World[] = [];
afterEach(async () => {
  vi.useRealTimers();
  for (const w of worlds.splice(0)) await w.stop();
});

async function world(seed: number): Promise<World> {
  const w = await startWorld({ seed });
  worlds.push(w);
  return w;
}

describe('transient faults during sync and push', () => {
  it('10% 5xx and a tight rate limit: the same end state as a clean run', async () => {
    fakeClock(1);
    const clean = await world(1);
    const { retry: cleanRetry } = fakeClock(1);
    const a = openSession(clean, cleanRetry);
    const first = await runPipeline(a);
    a.close();
    expect(first.status, first.error).toBe('succeeded');
    const want = endState(clean);
    expect(Object.keys(want.hubspot.lists).length).toBeGreaterThanOrEqual(3);
    expect(Object.keys(want.store.pushed).length).toBe(Object.keys(want.hubspot.property).length + Object.keys(want.salesforce.field).length);

    fakeClock(2);
    const faulty = await world(2);
    const { retry, slept } = fakeClock(2);
    faulty.hsFaults.set({ errorRate: 0.1, lostAnswerShare: 0.34, rateLimit: { max: 6, windowMs: 10_000 }, slow: { rate: 0.05, ms: 20 } });
    faulty.sfFaults.set({ errorRate: 0.1, lostAnswerShare: 0.34, rateLimit: { max: 4, windowMs: 1_000 }, slow: { rate: 0.05, ms: 20 } });
    const b = openSession(faulty, retry);
    const second = await runPipeline(b);
    b.close();
    expect(second.status, second.error).toBe('succeeded');

    // the faults happened
    for (const f of [faulty.hsFaults, faulty.sfFaults]) {
      expect(f.log.errors, `${f.flavor} 5xx`).toBeGreaterThan(2);
      expect(f.log.lostAnswers, `${f.flavor} lost answers`).toBeGreaterThan(0);
      expect(f.log.rateLimited, `${f.flavor} rate limited`).toBeGreaterThan(2);
    }
    expect(slept.length).toBeGreaterThan(10);

    expect(endState(faulty)).toEqual(want);
    expect(stableCounts(second.counts)).toEqual(stableCounts(first.counts));
    const changes = membershipChanges(faulty);
    for (const [crm, m] of Object.entries(changes)) {
      for (const [k, c] of m) expect(c, `${crm} ${k}`).toEqual({ adds: 1, removes: 0 });
    }
    expect(changes.hubspot.size).toBe(Object.keys(want.hubspot.property).length);
    expect(changes.salesforce.size).toBe(Object.keys(want.salesforce.field).length);
  });

  it('the first answer to every kind of write is lost (502 after the CRM applied it, or a dropped connection): the same end state', async () => {
    fakeClock(3);
    const clean = await world(3);
    const { retry: cleanRetry } = fakeClock(3);
    const a = openSession(clean, cleanRetry);
    expect((await runPipeline(a)).status).toBe('succeeded');
    a.close();
    const want = endState(clean);

    fakeClock(3);
    const w = await world(3);
    const { retry } = fakeClock(3);
    const lost: string[] = [];
    // once per method and path (ids in paths count as one): the CRM applies the write, the client never hears back
    const loseFirst = (crm: string): Interceptor => {
      const seen = new Set<string>();
      return (r) => {
        if (r.method === 'GET') return undefined;
        const type = (r.body as { records?: { attributes?: { type?: string } }[] } | undefined)?.records?.[0]?.attributes?.type;
        const key = `${r.method} ${r.path.replace(/\/\d+(?=\/|$)/g, '/:id')}${type ? ` ${type}` : ''}`;
        if (seen.has(key)) return undefined;
        seen.add(key);
        lost.push(`${crm} ${key}`);
        return seen.size % 2 ? { kind: 'reply', status: 502, body: '<html><body>502 Bad Gateway</body></html>', after: true } : { kind: 'drop', after: true };
      };
    };
    w.hs.interceptors.unshift(loseFirst('hubspot'));
    w.sf.interceptors.unshift(loseFirst('salesforce'));
    const s = openSession(w, retry);
    const end = await runPipeline(s);
    s.close();
    expect(end.status, end.error).toBe('succeeded');
    expect(lost).toEqual(
      expect.arrayContaining([
        'hubspot POST /crm/v3/lists',
        'hubspot POST /crm/v3/properties/contacts',
        'hubspot POST /crm/v3/properties/contacts/groups',
        'hubspot PUT /crm/v3/lists/:id/memberships/add-and-remove',
        'hubspot POST /crm/v3/objects/contacts/batch/update',
        'salesforce POST /composite/sobjects Campaign',
        'salesforce POST /tooling/sobjects/CustomField',
        'salesforce POST /composite/sobjects FieldPermissions',
        'salesforce POST /composite/sobjects CampaignMember',
        'salesforce PATCH /composite/sobjects Contact',
      ]),
    );
    expect(endState(w)).toEqual(want);
    for (const [crm, m] of Object.entries(membershipChanges(w))) {
      for (const [k, c] of m) expect(c, `${crm} ${k}`).toEqual({ adds: 1, removes: 0 });
    }
  });

  it('an answer slower than the request timeout (Salesforce, after the member insert was applied): retried, the same end state', async () => {
    // real waiting here (the timeout is jsforce's timer): one late answer, just past the 5 s minimum
    const cleanW = await startWorld({ seed: 4, salesforce: ['requestTimeoutSeconds: 5'] });
    worlds.push(cleanW);
    fakeClock(4);
    const a = openSession(cleanW, fakeClock(4).retry);
    expect((await runPipeline(a)).status).toBe('succeeded');
    a.close();
    const want = endState(cleanW, { contactStamps: false });

    const w = await startWorld({ seed: 4, salesforce: ['requestTimeoutSeconds: 5'] });
    worlds.push(w);
    const { retry } = fakeClock(4);
    let late = 0;
    w.sf.interceptors.unshift((r) => {
      const type = (r.body as { records?: { attributes?: { type?: string } }[] } | undefined)?.records?.[0]?.attributes?.type;
      if (late > 0 || r.method !== 'POST' || type !== 'CampaignMember') return undefined;
      late++;
      return { kind: 'delay', ms: 5_600 };
    });
    const s = openSession(w, retry);
    const end = await runPipeline(s);
    s.close();
    expect(end.status, end.error).toBe('succeeded');
    expect(late).toBe(1);
    // the insert went out twice: the late one applied, the retry met DUPLICATE_VALUE
    expect(w.sf.requests.filter((r) => r.method === 'POST' && (r.body as { records?: { attributes?: { type?: string } }[] }).records?.[0]?.attributes?.type === 'CampaignMember')).toHaveLength(2);
    expect(endState(w, { contactStamps: false })).toEqual(want);
    for (const [k, c] of membershipChanges(w).salesforce) expect(c, k).toEqual({ adds: 1, removes: 0 });
  }, 60_000);
});
