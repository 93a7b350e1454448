/** `segsync check` for HubSpot: the token, then one line per scope the job needs. */
import { afterEach, describe, expect, it } from 'vitest';
import hubspot from '../../../connectors/hubspot/index.js';
import { REQUIRED_SCOPES } from '../../../connectors/hubspot/check.js';
import { ALL_SCOPES, FAKE_TOKEN } from './fake-hubspot.js';
import { setup, teardown, type Env } from './helpers.js';

let env: Env | undefined;
afterEach(() => teardown(env));

describe('HubSpot check', () => {
  it('reports the token valid and each needed scope granted, one line per scope', async () => {
    env = setup();
    const r = await hubspot.check(env.connCtx());
    expect(r.lines.map((l) => [l.name, l.ok])).toEqual([['token', true], ...REQUIRED_SCOPES.map((s) => [s.scope, true])]);
    // what the job needs: contacts read and write, deals read, lists read and write, schema read and write
    expect(REQUIRED_SCOPES.map((s) => s.scope).sort()).toEqual([...ALL_SCOPES].sort());
    expect(r.lines[0]?.detail).toContain('HubSpot account 424242');
    // the token is introspected, not guessed from probes
    expect(env.fake.requests.map((q) => `${q.method} ${q.path}`)).toEqual(['POST /oauth/v2/private-apps/get/access-token-info']);
    expect(env.fake.requests[0]?.body).toEqual({ tokenKey: FAKE_TOKEN });
  });

  it('fails the line of each missing scope, saying what it is needed for and where to tick it', async () => {
    env = setup({ scopes: ALL_SCOPES.filter((s) => s !== 'crm.lists.write' && s !== 'crm.schemas.contacts.write') });
    const r = await hubspot.check(env.connCtx());
    const bad = r.lines.filter((l) => !l.ok);
    expect(bad.map((l) => l.name)).toEqual(['crm.lists.write', 'crm.schemas.contacts.write']);
    expect(bad[0]?.detail).toMatch(/MISSING, needed to push: create segment lists.*tick it under the private app's Scopes/);
  });

  it('a rejected token fails the token line and checks no scope', async () => {
    env = setup();
    env.fake.token = 'pat-na1-another';
    const r = await hubspot.check(env.connCtx());
    expect(r.lines[0]).toMatchObject({ name: 'token', ok: false });
    expect(r.lines[0]?.detail).toMatch(/rejected the access token \(401\).*accessToken/);
    expect(r.lines.slice(1).every((l) => !l.ok && l.detail.includes('not checked'))).toBe(true);
    expect(r.lines).toHaveLength(1 + REQUIRED_SCOPES.length);
  });

  it('without token introspection, probes each read scope and says the write scopes are unverified', async () => {
    env = setup({ scopes: ALL_SCOPES.filter((s) => s !== 'crm.objects.deals.read') });
    env.fake.faults.push({ when: (q) => q.path.endsWith('access-token-info'), reply: [404, { status: 'error', message: 'not found', category: 'OBJECT_NOT_FOUND' }] });
    const r = await hubspot.check(env.connCtx());
    const line = (n: string) => r.lines.find((l) => l.name === n);
    expect(line('token')).toMatchObject({ ok: true });
    expect(line('crm.objects.contacts.read')).toMatchObject({ ok: true });
    expect(line('crm.objects.deals.read')?.ok).toBe(false);
    expect(line('crm.objects.deals.read')?.detail).toContain('lacks the scope crm.objects.deals.read');
    expect(line('crm.lists.write')?.detail).toMatch(/^not verified/);
  });
});
