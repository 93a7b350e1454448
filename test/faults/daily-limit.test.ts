/**
 * Fault scenario 3: a CRM's daily API limit runs out in the middle of the push
 * (the built CLI against the loopback fakes). The run stops cleanly: exit code
 * 1, one error line naming the limit and what to do, no stack trace, the run
 * record failed with that error, the unfinished ops left in the outbox. The
 * next run (the limit reset) finishes the outbox, and the end state equals a
 * clean run's. First HubSpot's limit (429 DAILY), then Salesforce's
 * (REQUEST_LIMIT_EXCEEDED TotalRequests).
 */
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, describe, expect, it } from 'vitest';
import type { Interceptor, SeenRequest } from '../support/fake-http.js';
import { jsonOut, startCli, type Exit } from './support/cli.js';
import type { FaultSwitches } from './support/switches.js';
import { endState, lastRun, membershipChanges, startWorld, type World } from './support/world.js';

const WORLD = { segmentation: '{ algorithm: kmeans, k: 3, nInit: 1, silhouetteSample: 1000, stabilityRounds: 0 }' };

const hubspotPush = (r: SeenRequest): boolean => r.path.startsWith('/crm/v3/properties/') || r.path.startsWith('/crm/v3/lists') || r.path.endsWith('/batch/update');
const salesforcePush = (r: SeenRequest): boolean =>
  /FROM Campaign\b/.test(r.query.get('q') ?? '') || r.path.startsWith('/sobjects/Contact/describe') || r.path.startsWith('/composite/sobjects') || r.path.startsWith('/tooling/');

/** Counts a CRM's push requests. */
function counter(isPush: (r: SeenRequest) => boolean, n: { push: number }): Interceptor {
  let started = false;
  return (r) => {
    started ||= isPush(r);
    if (started) n.push++;
    return undefined;
  };
}

/** The first membership write of each CRM. */
const hubspotMembers = (r: SeenRequest): boolean => r.path.endsWith('/memberships/add-and-remove');
const salesforceMembers = (r: SeenRequest): boolean =>
  r.method === 'POST' && r.path === '/composite/sobjects' && (r.body as { records?: { attributes?: { type?: string } }[] }).records?.[0]?.attributes?.type === 'CampaignMember';

/** From the first request `from` matches, the daily limit has `calls` requests left. */
function limitFrom(f: FaultSwitches, from: (r: SeenRequest) => boolean, calls: number): Interceptor {
  let armed = false;
  return (r) => {
    if (!armed && from(r)) {
      armed = true;
      f.set({ dailyCalls: calls });
    }
    return undefined;
  };
}

function run(w: World): Promise<Exit> {
  return startCli(['run', '--json', '--config', w.configFile], { cwd: w.dir }).exit;
}

type Outbox = Record<'hs' | 'sf', { pending: number; pushed: number }>;

function outbox(w: World): Outbox {
  const db = new Database(join(w.dir, 'store.db'), { readonly: true });
  try {
    const out: Outbox = { hs: { pending: 0, pushed: 0 }, sf: { pending: 0, pushed: 0 } };
    for (const [t, n] of db.prepare("SELECT target, COUNT(*) FROM outbox WHERE state = 'pending' GROUP BY target").raw().all() as [string, number][]) out[t as keyof Outbox].pending = n;
    for (const [t, n] of db.prepare('SELECT target, COUNT(*) FROM pushed GROUP BY target').raw().all() as [string, number][]) out[t as keyof Outbox].pushed = n;
    return out;
  } finally {
    db.close();
  }
}

/** The CLI stopped cleanly: exit 1, exactly one line on stderr, no stack, recorded in the run. */
function expectCleanStop(e: Exit, w: World, pattern: RegExp): void {
  expect(e.code, e.stderr).toBe(1);
  expect(e.signal).toBeNull();
  const lines = e.stderr.trim().split('\n');
  expect(lines, e.stderr).toHaveLength(1);
  expect(lines[0]).toMatch(pattern);
  expect(e.stderr).not.toMatch(/hit a bug|\n\s+at /);
  const rec = lastRun(join(w.dir, 'store.db'));
  expect(rec.status).toBe('failed');
  expect(`error: ${rec.error ?? ''}`).toBe(lines[0]);
}

const worlds: World[] = [];
afterAll(async () => {
  for (const w of worlds) await w.stop();
});

describe('a daily API limit running out mid-push', () => {
  it('stops the run cleanly with a clear error; the next run finishes the outbox (HubSpot, then Salesforce)', async () => {
    const clean = await startWorld(WORLD);
    worlds.push(clean);
    const n = { hs: { push: 0 }, sf: { push: 0 } };
    clean.hs.interceptors.unshift(counter(hubspotPush, n.hs));
    clean.sf.interceptors.unshift(counter(salesforcePush, n.sf));
    const ref = await run(clean);
    expect(ref.code, ref.stderr).toBe(0);
    const want = endState(clean, { contactStamps: false });
    const wantHs = Object.keys(want.hubspot.property).length;
    const wantSf = Object.keys(want.salesforce.field).length;
    expect(n.hs.push).toBeGreaterThan(6);
    expect(n.sf.push).toBeGreaterThan(6);

    const w = await startWorld(WORLD);
    worlds.push(w);
    // HubSpot: the limit runs out after the first two lists got their members
    w.hs.interceptors.unshift(limitFrom(w.hsFaults, hubspotMembers, 2));
    const first = await run(w);
    expectCleanStop(first, w, /^error: CONNECTOR_RATE_LIMIT: HubSpot's daily API limit for this account is used up \(.+\)\. The run stopped; .+ — HubSpot resets daily limits at midnight/);
    expect(w.hsFaults.log.daily).toBe(1);
    const afterFirst = outbox(w);
    expect(afterFirst.hs.pending + afterFirst.hs.pushed).toBe(wantHs);
    expect(afterFirst.hs.pending).toBeGreaterThan(0);
    // the HubSpot memberships sent before the limit are there, and nothing went to Salesforce
    expect(w.hs.membershipLog.length).toBeGreaterThan(0);
    expect(w.hs.membershipLog.length).toBeLessThan(wantHs);
    expect(afterFirst.sf).toEqual({ pending: 0, pushed: 0 });

    // the next day: HubSpot's limit reset; Salesforce's runs out after the campaign members, before the field values
    w.hsFaults.off();
    w.hs.interceptors.shift();
    w.sf.interceptors.unshift(limitFrom(w.sfFaults, salesforceMembers, 1));
    const second = await run(w);
    expectCleanStop(second, w, /^error: CONNECTOR_RATE_LIMIT: Salesforce .+: REQUEST_LIMIT_EXCEEDED: TotalRequests Limit exceeded\. \(HTTP 403\) — the org has used up its daily API requests/);
    const afterSecond = outbox(w);
    expect(afterSecond.hs).toEqual({ pending: 0, pushed: wantHs });
    expect(afterSecond.sf.pending).toBeGreaterThan(0);

    // and the day after: everything left goes out
    w.sfFaults.off();
    w.sf.interceptors.shift();
    const third = await run(w);
    expect(third.code, third.stderr).toBe(0);
    expect(jsonOut(third)?.counts.push).toMatchObject({ adds: wantSf - afterSecond.sf.pushed, written: wantSf - afterSecond.sf.pushed, failed: 0 });
    expect(outbox(w)).toEqual({ hs: { pending: 0, pushed: wantHs }, sf: { pending: 0, pushed: wantSf } });
    expect(endState(w, { contactStamps: false })).toEqual(want);
    for (const [crm, m] of Object.entries(membershipChanges(w))) {
      for (const [k, c] of m) expect(c, `${crm} ${k}`).toEqual({ adds: 1, removes: 0 });
    }
  }, 180_000);
});
