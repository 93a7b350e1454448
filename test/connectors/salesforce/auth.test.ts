/**
 * Sessions and retries: the OAuth refresh-token flow refreshes on a 401
 * INVALID_SESSION_ID and carries on; a 401 after a refresh is an auth error,
 * not a loop; the JWT bearer flow; only the project's retry policy retries
 * (jsforce's own retries are off), and POST/PATCH only where safe.
 */
import { generateKeyPairSync } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { FakeOrg } from './fake-org.js';
import { authYaml, connectorCtx, contactsIn, harness, seedContacts, sfConfig } from './helpers.js';
import { RemoteError } from '../../../src/core/errors.js';
import { clientFor } from '../../../connectors/salesforce/client.js';
import { createRetryPolicy } from '../../../src/connector/retry.js';
import { tempDir } from '../../support/store-fixture.js';

let org: FakeOrg;
beforeEach(async () => {
  org = await new FakeOrg().start();
});
afterEach(async () => {
  await org.stop();
});

const tokenCalls = (o: FakeOrg): Record<string, unknown>[] => o.requests.filter((r) => r.path === '/services/oauth2/token').map((r) => r.body as Record<string, unknown>);
const expire401 = { status: 401, body: [{ message: 'Session expired or invalid', errorCode: 'INVALID_SESSION_ID' }] };

describe('OAuth refresh-token flow', () => {
  it('gets a token first, refreshes it on INVALID_SESSION_ID mid-sync and loses nothing', async () => {
    org.maxQueryPage = 200;
    seedContacts(org, 450);
    const h = harness(org, { auth: authYaml(org, 'oauth') });
    let expired = false;
    org.hooks.push((r) => {
      if (r.path.startsWith('/query/') && !expired) {
        expired = true;
        org.expireTokens();
        return expire401;
      }
      return undefined;
    });
    const [c] = await h.sync();
    expect(c).toMatchObject({ read: 450, upserted: 450 });
    const calls = tokenCalls(org);
    expect(calls).toHaveLength(2);
    expect(calls[0]).toMatchObject({ grant_type: 'refresh_token', client_id: org.oauth.clientId, client_secret: org.oauth.clientSecret, refresh_token: org.oauth.refreshToken });
    // the refused page was asked again with the new token
    expect(org.requests.filter((r) => r.path.startsWith('/query/') && r.status === 401)).toHaveLength(1);
    expect(contactsIn(h.store)).toHaveLength(450);
  });

  it('a 401 that outlives the refresh is an auth error, not a loop', async () => {
    seedContacts(org, 10);
    org.hooks.push((r) => (r.path === '/queryAll' ? expire401 : undefined));
    const h = harness(org, { auth: authYaml(org, 'oauth') });
    const err = await h.sync().catch((e: unknown) => e);
    expect(err).toBeInstanceOf(RemoteError);
    expect(err).toMatchObject({ kind: 'auth', code: 'CONNECTOR_AUTH' });
    expect((err as Error).message).toMatch(/still refused after a token refresh/);
    expect(org.requests.filter((r) => r.path === '/queryAll')).toHaveLength(2);
  });

  it('a revoked refresh token is an auth error naming what to do', async () => {
    org.oauth.refreshToken = 'something-else';
    const h = harness(org, { auth: authYaml(org, 'oauth').replace('something-else', 'refresh-1') });
    const err = await h.sync().catch((e: unknown) => e);
    expect(err).toMatchObject({ kind: 'auth' });
    expect((err as Error).message).toMatch(/invalid_grant/);
    expect((err as RemoteError).hint).toMatch(/oauth\.refreshToken/);
    expect(tokenCalls(org)).toHaveLength(1);
  });

  it('a fixed access token that expired is an auth error with a hint', async () => {
    org.expireTokens();
    const h = harness(org);
    const err = await h.sync().catch((e: unknown) => e);
    expect(err).toMatchObject({ kind: 'auth' });
    expect((err as RemoteError).hint).toMatch(/configure oauth or jwt/);
  });
});

describe('JWT bearer flow', () => {
  it('signs an assertion with the private key (from a file or an env value) and syncs', async () => {
    const { publicKey, privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
    org.jwtPublicKey = publicKey;
    seedContacts(org, 3);
    const pem = privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
    const dir = tempDir();
    writeFileSync(join(dir, 'key.pem'), pem);
    for (const key of [`privateKeyFile: ${join(dir, 'key.pem')}`, `privateKey: "${pem.replace(/\n/g, '\\\\n')}"`]) {
      const h = harness(org, { auth: `jwt:\n  loginUrl: ${org.url}\n  clientId: ${org.oauth.clientId}\n  username: ${org.oauth.username}\n  ${key}` });
      const [c] = await h.sync();
      expect(c?.read).toBe(3);
    }
    const calls = tokenCalls(org);
    expect(calls).toHaveLength(2);
    expect(calls[0]).toMatchObject({ grant_type: 'urn:ietf:params:oauth:grant-type:jwt-bearer', client_id: org.oauth.clientId });
  });

  it('a wrong user is an auth error', async () => {
    const { publicKey, privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
    org.jwtPublicKey = publicKey;
    const pem = privateKey.export({ type: 'pkcs8', format: 'pem' }).toString().replace(/\n/g, '\\\\n');
    const h = harness(org, { auth: `jwt:\n  loginUrl: ${org.url}\n  clientId: ${org.oauth.clientId}\n  username: someone@else.com\n  privateKey: "${pem}"` });
    const err = await h.sync().catch((e: unknown) => e);
    expect(err).toMatchObject({ kind: 'auth' });
    expect((err as RemoteError).hint).toMatch(/jwt\.username/);
  });
});

describe('retries', () => {
  it('only our policy retries a 503: jsforce\'s own retries (with their own sleeps) are off', async () => {
    seedContacts(org, 5);
    let n = 0;
    org.hooks.push((r) => (r.path === '/queryAll' && ++n <= 2 ? { status: 503, body: [{ errorCode: 'SERVER_UNAVAILABLE', message: 'try later' }] } : undefined));
    const waits: number[] = [];
    const ctx = { ...connectorCtx(sfConfig(tempDir(), org)), retry: createRetryPolicy({ random: () => 0.5, sleep: async (ms) => void waits.push(ms) }) };
    const page = await clientFor(ctx).query('contacts', 'SELECT Id FROM Contact', { scanAll: true });
    expect(page.records).toHaveLength(5);
    // two refusals, each followed by one of our policy's waits, then the success
    expect(org.requests.filter((r) => r.path === '/queryAll')).toHaveLength(3);
    expect(waits).toEqual([375, 750]);
  });

  it('gives up after the policy attempts with a server error', async () => {
    org.hooks.push((r) => (r.path === '/queryAll' ? { status: 500, body: [{ errorCode: 'UNKNOWN_EXCEPTION', message: 'boom' }] } : undefined));
    const h = harness(org);
    const err = await h.sync().catch((e: unknown) => e);
    expect(err).toMatchObject({ kind: 'server' });
    expect(org.requests.filter((r) => r.path === '/queryAll')).toHaveLength(6);
  });

  it('retries a POST that is safe to repeat, and never one that is not', async () => {
    const config = sfConfig(tempDir(), org);
    const ctx = connectorCtx(config);
    const client = clientFor(ctx);
    const c = seedContacts(org, 1)[0];
    const camp = org.insert('Campaign', { Name: 'x', IsActive: true });
    let n = 0;
    org.hooks.push((r) => (r.method === 'POST' && ++n === 1 ? { status: 503, body: [{ errorCode: 'SERVER_UNAVAILABLE', message: 'busy' }] } : undefined));
    const added = await client.collection('add', 'POST', { records: [{ attributes: { type: 'CampaignMember' }, CampaignId: camp.Id, ContactId: c?.Id }] }, { idempotent: true });
    expect(added[0]?.success).toBe(true);
    expect(org.requests.filter((r) => r.method === 'POST')).toHaveLength(2);
    n = 0;
    const err = await client.collection('create', 'POST', { records: [{ attributes: { type: 'Campaign' }, Name: 'y' }] }, { idempotent: false }).catch((e: unknown) => e);
    expect(err).toMatchObject({ kind: 'server' });
    expect(org.requests.filter((r) => r.method === 'POST')).toHaveLength(3);
    expect(org.live('Campaign')).toHaveLength(1);
  });

  it('keeps one token and one budget for a job across streams', async () => {
    const config = sfConfig(tempDir(), org, { auth: authYaml(org, 'oauth') });
    const signal = new AbortController().signal;
    expect(clientFor(connectorCtx(config, signal))).toBe(clientFor({ ...connectorCtx(config, signal), logger: connectorCtx(config).logger.child({ x: 1 }) }));
    expect(clientFor(connectorCtx(config))).not.toBe(clientFor(connectorCtx(config)));
  });
});
