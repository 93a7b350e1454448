/**
 * No secret leaves the process that holds it. The built CLI runs against
 * loopback fakes of HubSpot and Salesforce with every kind of secret in play —
 * the HubSpot token, a Salesforce client secret and refresh token, a JWT private
 * key, the admin API token of `segsync serve`, the email HMAC key — through a
 * whole run, a report, check, status, runs, failing auth runs (wrong token,
 * wrong client secret) and the admin API (right and wrong token). Then every
 * artifact is searched for the secret bytes: the log file (at trace level), the
 * store files (run records, quarantine, everything, free pages included), the
 * report HTML, and all stdout and stderr.
 */
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { spawn } from 'node:child_process';
import { generateKeyPairSync } from 'node:crypto';
import { readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fakeHubspot, type FakeHubspot } from '../connectors/hubspot/fake-hubspot.js';
import { populateCustomers } from '../connectors/hubspot/helpers.js';
import { FakeOrg } from '../connectors/salesforce/fake-org.js';
import { seedCustomers } from '../connectors/salesforce/helpers.js';
import { startServe } from '../server/fixture.js';
import { CLI, tempProject } from './helpers.js';

const SECRETS = {
  hubspotToken: 'pat-na1-HSSECRET-1f2e3d4c5b6a7980',
  wrongHubspotToken: 'pat-na1-WRONGHS-00aa11bb22cc33dd',
  clientSecret: 'SFCLIENTSECRET-9c8b7a6f5e4d3c2b',
  wrongClientSecret: 'SFWRONGSECRET-0f1e2d3c4b5a6978',
  refreshToken: 'SFREFRESH-5e6f7a8b9c0d1e2f3a4b',
  adminToken: 'ADMINTOKEN-abcdef0123456789abcdef',
  wrongAdminToken: 'ADMINWRONG-fedcba9876543210fedcba',
  hmacKey: 'HMACKEY-00112233445566778899aabbccddeeff',
};

interface Ran {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** The built CLI, asynchronously: the fakes answer from this process meanwhile. */
function run(args: string[], cwd: string, env: Record<string, string>): Promise<Ran> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [CLI, ...args], { cwd, env: { ...process.env, CI: '1', ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('exit', (code) => resolve({ code, stdout, stderr }));
  });
}

function filesUnder(dir: string): string[] {
  return readdirSync(dir).flatMap((f) => {
    const p = join(dir, f);
    return statSync(p).isDirectory() ? filesUnder(p) : [p];
  });
}

describe('secrets stay out of logs, run records, error messages and the report (built CLI)', () => {
  let hs: FakeHubspot;
  let org: FakeOrg;
  const dir = tempProject('segsync-secrets-');
  const outputs: { what: string; text: string }[] = [];
  let env: Record<string, string>;
  let pem: string;

  beforeAll(async () => {
    hs = fakeHubspot({ transport: 'loopback', token: SECRETS.hubspotToken });
    await hs.listen();
    populateCustomers(hs, { customers: 30 });
    org = await new FakeOrg().start();
    Object.assign(org.oauth, { clientSecret: SECRETS.clientSecret, refreshToken: SECRETS.refreshToken });
    seedCustomers(org, 30);
    const keys = generateKeyPairSync('rsa', { modulusLength: 2048 });
    org.jwtPublicKey = keys.publicKey;
    pem = keys.privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
    env = {
      HUBSPOT_ACCESS_TOKEN: SECRETS.hubspotToken,
      SF_CLIENT_SECRET: SECRETS.clientSecret,
      SF_REFRESH_TOKEN: SECRETS.refreshToken,
      SF_JWT_KEY: pem,
      SEGSYNC_ADMIN_TOKEN: SECRETS.adminToken,
      SEGSYNC_EMAIL_KEY: SECRETS.hmacKey,
    };
    writeFileSync(
      join(dir, 'segsync.yaml'),
      `store: ./store.db
log: { level: trace, file: ./segsync.log }
connectors:
  - name: hs
    type: hubspot
    accessToken: \${HUBSPOT_ACCESS_TOKEN}
    baseUrl: ${hs.base}
  - name: sf
    type: salesforce
    oauth:
      loginUrl: ${org.url}
      clientId: ${org.oauth.clientId}
      clientSecret: \${SF_CLIENT_SECRET}
      refreshToken: \${SF_REFRESH_TOKEN}
  - name: sfjwt
    type: salesforce
    jwt:
      loginUrl: ${org.url}
      clientId: ${org.oauth.clientId}
      username: ${org.oauth.username}
      privateKey: \${SF_JWT_KEY}
features: { preset: rfm, asOf: 2026-06-30 }
segmentation: { algorithm: kmeans, k: 3, nInit: 1, silhouetteSample: 1000, stabilityRounds: 0 }
privacy: { hashEmails: true }
push:
  maxChurn: 1
  targets:
    - connector: hs
    - connector: sf
server:
  token: \${SEGSYNC_ADMIN_TOKEN}
`,
    );
  }, 60_000);

  afterAll(async () => {
    await hs?.close();
    await org?.stop();
  });

  const keep = (what: string, r: Ran): Ran => {
    outputs.push({ what: `${what} stdout`, text: r.stdout }, { what: `${what} stderr`, text: r.stderr });
    return r;
  };

  it('a whole run, report, check, status and runs succeed with the secrets in use', async () => {
    const r = keep('run', await run(['run'], dir, env));
    expect(r.code, r.stderr).toBe(0);
    expect(hs.requests.some((q) => q.method === 'PUT' && /\/crm\/v3\/lists\/.+\/memberships/.test(q.path))).toBe(true);
    const rep = keep('report', await run(['report', '--out', 'report.html'], dir, env));
    expect(rep.code, rep.stderr).toBe(0);
    keep('check', await run(['check'], dir, env));
    for (const args of [['--json', 'status'], ['status'], ['--json', 'runs'], ['segments']]) expect(keep(args.join(' '), await run(args, dir, env)).code).toBe(0);
  }, 240_000);

  it('failing auth runs say what failed, without the credentials', async () => {
    const h = keep('sync hs (wrong token)', await run(['sync', '--connector', 'hs'], dir, { ...env, HUBSPOT_ACCESS_TOKEN: SECRETS.wrongHubspotToken }));
    expect(h.code).toBe(1);
    expect(h.stderr).toMatch(/error: CONNECTOR_AUTH/);
    const s = keep('sync sf (wrong secret)', await run(['sync', '--connector', 'sf'], dir, { ...env, SF_CLIENT_SECRET: SECRETS.wrongClientSecret }));
    expect(s.code).toBe(1);
    expect(s.stderr).toMatch(/error: CONNECTOR_AUTH|error: CONNECTOR_REMOTE/);
    const c = keep('check (wrong token)', await run(['check'], dir, { ...env, HUBSPOT_ACCESS_TOKEN: SECRETS.wrongHubspotToken }));
    expect(c.code).not.toBe(0);
  }, 120_000);

  it('the admin API answers the right token and refuses a wrong one', async () => {
    const serve = await startServe(dir, { env });
    try {
      expect((await serve.api('/api/status', { token: SECRETS.adminToken })).status).toBe(200);
      const wrong = await serve.api('/api/status', { token: SECRETS.wrongAdminToken });
      expect(wrong.status).toBe(401);
      outputs.push({ what: 'api 401 body', text: JSON.stringify(wrong.body) });
    } finally {
      serve.child.kill('SIGINT');
      await serve.exited;
      outputs.push({ what: 'serve stderr', text: serve.stderr() });
    }
  }, 60_000);

  it('no artifact holds a byte of any secret', () => {
    // the JWT key: the whole PEM, and any line of its body
    const pemLines = pem.split('\n').filter((l) => l.length > 20 && !l.startsWith('-----'));
    const needles = [...Object.entries(SECRETS), ['jwtPrivateKey', pem], ...pemLines.map((l, i) => [`jwtPrivateKey line ${i}`, l])] as [string, string][];
    const files = filesUnder(dir).filter((f) => !f.endsWith('segsync.yaml'));
    expect(files.map((f) => f.slice(dir.length + 1)).sort()).toEqual(expect.arrayContaining(['report.html', 'segsync.log', 'store.db']));
    const artifacts = [...files.map((f) => ({ what: f.slice(dir.length + 1), bytes: readFileSync(f) })), ...outputs.map((o) => ({ what: o.what, bytes: Buffer.from(o.text) }))];
    // the log really is verbose, so a clean grep means something
    expect(readFileSync(join(dir, 'segsync.log'), 'utf8').split('\n').length).toBeGreaterThan(20);
    const leaks: string[] = [];
    for (const a of artifacts) for (const [name, secret] of needles) if (a.bytes.includes(secret)) leaks.push(`${name} in ${a.what}`);
    expect(leaks).toEqual([]);
  });
});
