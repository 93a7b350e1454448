/**
 * The store keeps only what the config allows of a person (field and property
 * allowlist), and with privacy.hashEmails holds keyed HMAC-SHA256 digests
 * instead of addresses while identity resolution and forget keep working.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { createHmac } from 'node:crypto';
import Database from 'better-sqlite3';
import { parseConfig } from '../../src/config/load.js';
import { defaultRegistry } from '../../src/connector/registry.js';
import { ConfigError, UserError } from '../../src/core/errors.js';
import { syncJob } from '../../src/jobs/sync.js';
import { applyToContact, privacyPolicy } from '../../src/privacy/policy.js';
import type { Store } from '../../src/store/index.js';
import { jobContext, openTestStore, tempDir } from '../support/store-fixture.js';
import { cli } from '../e2e/helpers.js';

const KEY = 'k'.repeat(16) + '0123456789abcdef0123';
const OTHER_KEY = 'z'.repeat(40);

function config(dir: string, yaml: string, env: Record<string, string> = {}) {
  return parseConfig(
    `store: ./store.db
log: { level: silent, file: ./log.jsonl }
connectors:
  - { name: shop, type: csv, contacts: ./shop.csv }
  - { name: crm, type: csv, contacts: ./crm.csv }
features: { preset: none, extra: [{ property: visits }] }
${yaml}`,
    join(dir, 'segsync.yaml'),
    { registry: defaultRegistry, env },
  );
}

/** Two sources sharing people under differently written emails, plus a bad row that mentions an address. */
function writeSources(dir: string): void {
  writeFileSync(
    join(dir, 'shop.csv'),
    'id,email,first_name,last_name,company,country,visits,phone\n' +
      's1,Ann@Example.com,Ann,Lee,Acme,DE,3,+49 30 1234\n' +
      's2,bob@example.com,Bob,Ray,Beta,US,5,+1 555 0100\n' +
      's3,carol@example.com,Carol,Ng,,FR,not-a-date-but-fine,+33 1 2345\n' +
      's4,dave@example,Dave,Oops,,,1,\n',
  );
  writeFileSync(join(dir, 'crm.csv'), 'id,email,first_name,visits\nc1, ann@example.COM ,Annie,9\nc2,erin@example.com,Erin,2\n');
}

function rows<T>(store: Store, sql: string): T[] {
  const db = new Database(store.file, { readonly: true });
  try {
    return db.prepare(sql).all() as T[];
  } finally {
    db.close();
  }
}

function storeBytes(dir: string): Buffer {
  return Buffer.concat(['store.db', 'store.db-wal'].map((f) => join(dir, f)).filter(existsSync).map((f) => readFileSync(f)));
}

let store: Store | undefined;
afterEach(() => {
  store?.close();
  store = undefined;
});

async function syncWith(dir: string, yaml: string, env: Record<string, string> = {}) {
  const cfg = config(dir, yaml, env);
  store ??= openTestStore(dir);
  const ctx = jobContext(cfg, store);
  const runId = store.runs.start('sync', 'manual', new Date().toISOString());
  return syncJob({ ...ctx, config: { ...ctx.config, sync: { ...ctx.config.sync, maxRejectedShare: 1 } } }, runId, { full: true });
}

describe('field allowlist', () => {
  it('by default keeps the email and the properties features use, nothing else', async () => {
    const dir = tempDir();
    writeSources(dir);
    await syncWith(dir, '');
    const stored = rows<Record<string, string | null>>(store as Store, 'SELECT external_id, email, first_name, last_name, company, country, lifecycle_stage, properties FROM contacts ORDER BY id');
    expect(stored.map((r) => [r.external_id, r.email, r.first_name, r.last_name, r.company, r.country, r.properties])).toEqual([
      ['c1', 'ann@example.com', null, null, null, null, '{"visits":9}'],
      ['c2', 'erin@example.com', null, null, null, null, '{"visits":2}'],
      ['s1', 'ann@example.com', null, null, null, null, '{"visits":3}'],
      ['s2', 'bob@example.com', null, null, null, null, '{"visits":5}'],
      ['s3', 'carol@example.com', null, null, null, null, '{"visits":"not-a-date-but-fine"}'],
    ]);
    // nothing of the dropped columns reached the file (the phone numbers, names, companies)
    const bytes = storeBytes(dir);
    for (const v of ['+49 30 1234', '+1 555 0100', 'Acme', 'Annie']) expect(bytes.includes(v), v).toBe(false);
    expect((store as Store).status.personalData()).toMatchObject({ fields: { email: 5, firstName: 0, country: 0 }, hashedEmails: 0, properties: ['visits'] });
  });

  it('keeps the fields and properties the config allows', async () => {
    const dir = tempDir();
    writeSources(dir);
    await syncWith(dir, 'privacy: { fields: [firstName, country], properties: [visits, phone] }');
    const s1 = rows<Record<string, string | null>>(store as Store, "SELECT first_name, last_name, country, properties FROM contacts WHERE external_id = 's1'")[0];
    expect(s1).toEqual({ first_name: 'Ann', last_name: null, country: 'DE', properties: '{"visits":3,"phone":"+49 30 1234"}' });
    expect((store as Store).status.personalData()).toMatchObject({ fields: { firstName: 5, lastName: 0, country: 3 }, properties: ['phone', 'visits'] });
  });

  it('rejects fields it does not know, with a did-you-mean', () => {
    const dir = tempDir();
    expect(() => config(dir, 'privacy: { fields: [firstname] }')).toThrow(ConfigError);
    expect(() => config(dir, 'privacy: { feilds: [firstName] }')).toThrow(/did you mean "fields"/);
  });
});

describe('hashed emails', () => {
  const hmac = (key: string, email: string): string => `h1:${createHmac('sha256', key).update(email).digest('hex')}`;

  it('needs a key of 32 or more characters from the named environment variable, and treats it as a secret', () => {
    const dir = tempDir();
    expect(() => config(dir, 'privacy: { hashEmails: true }')).toThrow(/environment variable SEGSYNC_EMAIL_KEY is not set/);
    expect(() => config(dir, 'privacy: { hashEmails: true, hashKeyEnv: MY_KEY }', { MY_KEY: 'short' })).toThrow(/MY_KEY is too short/);
    const c = config(dir, 'privacy: { hashEmails: true, hashKeyEnv: MY_KEY }', { MY_KEY: KEY });
    expect(c.emailHashKey).toBe(KEY);
    expect(c.secrets).toContain(KEY);
  });

  it('stores digests, resolves identity across sources, and leaves no address in the store files', async () => {
    const dir = tempDir();
    writeSources(dir);
    const r = await syncWith(dir, 'privacy: { hashEmails: true }', { SEGSYNC_EMAIL_KEY: KEY });
    expect(r.totals).toMatchObject({ read: 6, upserted: 5, quarantined: 1 });
    const stored = rows<{ external_id: string; email: string; customer_id: string }>(store as Store, 'SELECT external_id, email, customer_id FROM contacts ORDER BY id');
    const by = new Map(stored.map((x) => [x.external_id, x]));
    expect(by.get('s1')?.email).toBe(hmac(KEY, 'ann@example.com'));
    // "Ann@Example.com" and " ann@example.COM " are one person
    expect(by.get('c1')?.customer_id).toBe(by.get('s1')?.customer_id);
    expect(new Set(stored.map((x) => x.customer_id)).size).toBe(4);
    (store as Store).checkpoint();
    const bytes = storeBytes(dir).toString('latin1').toLowerCase();
    for (const e of ['ann@example.com', 'bob@example.com', 'carol@example.com', 'erin@example.com', 'dave@example']) expect(bytes.includes(e), e).toBe(false);
    expect((store as Store).status.personalData()).toMatchObject({ fields: { email: 5 }, hashedEmails: 5 });
  });

  it('refuses a store built with another email mode or another key', async () => {
    const dir = tempDir();
    writeSources(dir);
    await syncWith(dir, 'privacy: { hashEmails: true }', { SEGSYNC_EMAIL_KEY: KEY });
    await expect(syncWith(dir, '')).rejects.toThrow(/the store holds email digests .* but the config asks for email addresses/);
    await expect(syncWith(dir, 'privacy: { hashEmails: true }', { SEGSYNC_EMAIL_KEY: OTHER_KEY })).rejects.toThrow(UserError);
    const plain = tempDir();
    writeSources(plain);
    store?.close();
    store = undefined;
    await syncWith(plain, '');
    await expect(syncWith(plain, 'privacy: { hashEmails: true }', { SEGSYNC_EMAIL_KEY: KEY })).rejects.toThrow(/holds email addresses/);
  });

  it('applies to each contact: same normalized address, same digest; another key, another digest', () => {
    const dir = tempDir();
    const p1 = privacyPolicy(config(dir, 'privacy: { hashEmails: true }', { SEGSYNC_EMAIL_KEY: KEY }));
    const p2 = privacyPolicy(config(dir, 'privacy: { hashEmails: true }', { SEGSYNC_EMAIL_KEY: OTHER_KEY }));
    const c = (email: string) => ({ id: 'x:1', connector: 'x', externalId: '1', email, createdAt: '', updatedAt: '', properties: { visits: 1, secret: 'x' } });
    expect(applyToContact(c('a@b.co'), p1).email).toBe(applyToContact(c('a@b.co'), p1).email);
    expect(applyToContact(c('a@b.co'), p1).email).not.toBe(applyToContact(c('a@b.co'), p2).email);
    expect(applyToContact(c('a@b.co'), p1).properties).toEqual({ visits: 1 });
  });
});

describe('status and forget with hashed emails (built CLI)', () => {
  it('status --json lists the personal fields stored; forget --email erases the person by digest', () => {
    const dir = tempDir();
    mkdirSync(join(dir, 'data'));
    writeSources(dir);
    writeFileSync(
      join(dir, 'segsync.yaml'),
      `store: ./store.db
log: { level: debug, file: ./segsync.log }
connectors:
  - { name: shop, type: csv, contacts: ./shop.csv }
  - { name: crm, type: csv, contacts: ./crm.csv }
sync: { maxRejectedShare: 1 }
features: { preset: none, extra: [{ property: visits }] }
privacy: { hashEmails: true, fields: [country] }
`,
    );
    const env = { SEGSYNC_EMAIL_KEY: KEY };
    const s = cli(['sync'], { cwd: dir, env });
    expect(s.code, s.stderr).toBe(0);
    const st = cli(['--json', 'status'], { cwd: dir, env });
    expect(st.code, st.stderr).toBe(0);
    const personal = (JSON.parse(st.stdout) as { personalData: Record<string, unknown> }).personalData;
    expect(personal).toEqual({
      stored: { email: 5, country: 3 },
      hashedEmails: 5,
      properties: ['visits'],
      allowed: { fields: ['country'], properties: ['visits'], hashEmails: true },
      outsideAllowlist: [],
    });
    const text = cli(['status'], { cwd: dir, env });
    expect(text.stdout).toMatch(/personal fields stored: email \(5 contacts, all hashed\), country \(3 contacts\); properties: visits/);

    const f = cli(['--json', 'forget', '--email', 'ANN@example.com'], { cwd: dir, env });
    expect(f.code, f.stderr).toBe(0);
    expect((JSON.parse(f.stdout) as { counts: { contacts: number; customers: number } }).counts).toMatchObject({ contacts: 2, customers: 1 });
    const digest = `h1:${createHmac('sha256', KEY).update('ann@example.com').digest('hex')}`;
    const bytes = storeBytes(dir).toString('latin1');
    expect(bytes.includes(digest)).toBe(false);
    expect(bytes.includes(`h1:${createHmac('sha256', KEY).update('bob@example.com').digest('hex')}`)).toBe(true);
    // without the key, the store cannot be used (nor the person found)
    const nokey = cli(['forget', '--email', 'bob@example.com'], { cwd: dir, env: { SEGSYNC_EMAIL_KEY: '' } });
    expect(nokey.code).toBe(2);
    expect(nokey.stderr).toMatch(/SEGSYNC_EMAIL_KEY is not set/);
  });
});
