/**
 * CRM payloads with missing, null, wrongly typed and oversized fields: each bad
 * record is quarantined with a reason (and a bounded payload), never crashes the
 * sync and never takes the rest of its page with it. Strings that look like SQL
 * or spreadsheet formulas are data: stored exactly as sent.
 */
import { afterEach, describe, expect, it } from 'vitest';
import fc from 'fast-check';
import Database from 'better-sqlite3';
import { mapContact, mapDeal } from '../../connectors/hubspot/map.js';
import { hubspotConfigSchema } from '../../connectors/hubspot/config.js';
import { parseContact, parseTransaction } from '../../connectors/salesforce/map.js';
import { salesforceConfigSchema } from '../../connectors/salesforce/config.js';
import { contactSizeProblem, transactionSizeProblem, LIMITS } from '../../src/core/limits.js';
import type { ParseResult } from '../../src/core/records.js';
import { fuzzParams } from '../fuzz/params.js';
import { advance, quarantined, setup, storedContacts, teardown, type Env } from './hubspot/helpers.js';
import { FakeOrg } from './salesforce/fake-org.js';
import { contactsIn, harness, quarantineIn } from './salesforce/helpers.js';

const HUGE = 'x'.repeat(LIMITS.property + 1);
const FORMULAS = ["=cmd|' /C calc'!A0", '+1+1', '-2+3', '@SUM(A1:A9)', '\t=1+1', '\r=1+1', "Robert'); DROP TABLE contacts;--", "1' OR '1'='1"];

/** What a bad field may hold instead of its value. */
const BAD_VALUE = fc.oneof(
  fc.constantFrom<unknown>(undefined, null, 42, -1.5, Number.NaN, Infinity, 1e300, true, false, [], ['a'], {}, { nested: { x: 1 } }, '', ' ', HUGE, 'x'.repeat(LIMITS.text + 1)),
  fc.constantFrom<unknown>(...FORMULAS),
  fc.string({ maxLength: 20 }),
  fc.string({ unit: 'binary', maxLength: 20 }),
);

/** `base` with the value at `path` replaced (undefined deletes it). */
function mutate(base: Record<string, unknown>, path: readonly string[], value: unknown): unknown {
  if (path.length === 0) return value;
  const [head, ...rest] = path as [string, ...string[]];
  const out: Record<string, unknown> = { ...base };
  const inner = base[head];
  const next = rest.length === 0 ? value : mutate(typeof inner === 'object' && inner !== null ? (inner as Record<string, unknown>) : {}, rest, value);
  if (next === undefined) delete out[head];
  else out[head] = next;
  return out;
}

/** A rejection names a reason and keeps a payload of bounded size; an accepted record is within the limits. */
function checkResult(r: ParseResult<unknown>, kind: 'contact' | 'transaction'): void {
  if (r.ok) {
    const problem = kind === 'contact' ? contactSizeProblem(r.record as never) : transactionSizeProblem(r.record as never);
    expect(problem).toBeUndefined();
    return;
  }
  expect(r.rejected.reason).toMatch(/\S/);
  expect(JSON.stringify(r.rejected.payload ?? null).length).toBeLessThan(64_000);
}

describe('HubSpot records: missing, null, wrong types, oversized', () => {
  const cfg = hubspotConfigSchema.parse({ name: 'hs', type: 'hubspot', accessToken: 'pat-test-000000', contactProperties: ['visits'] });
  const contact = {
    id: '101',
    properties: {
      email: 'a@example.com', firstname: 'Ann', lastname: 'Lee', company: 'Acme', country: 'DE', lifecyclestage: 'customer',
      createdate: '2026-01-01T00:00:00Z', lastmodifieddate: '2026-01-02T00:00:00Z', visits: '7',
    },
    createdAt: new Date('2026-01-01T00:00:00Z'),
    updatedAt: new Date('2026-01-02T00:00:00Z'),
    archived: false,
  };
  const contactPaths = [[], ['id'], ['properties'], ['createdAt'], ['archived'], ...Object.keys(contact.properties).map((k) => ['properties', k])];
  const deal = {
    deal: { id: '900', properties: { amount: '12.5', closedate: '2026-02-01T00:00:00Z', dealstage: 'closedwon', pipeline: 'default', deal_currency_code: 'EUR', dealname: 'D' } },
    contactIds: ['101'],
    stage: null,
  };
  const dealPaths = [[], ['deal'], ['deal', 'id'], ['deal', 'properties'], ['contactIds'], ['stage'], ...Object.keys(deal.deal.properties).map((k) => ['deal', 'properties', k])];

  it('any mutation of a contact maps to a record within the limits or a quarantined one, never a throw', () => {
    fc.assert(
      fc.property(fc.constantFrom(...contactPaths), BAD_VALUE, (path, value) => {
        const r = mapContact(mutate(contact, path, value), 'hs', cfg);
        checkResult(r, 'contact');
        // a field that holds something other than text (or nothing) is never silently accepted
        if (path[0] === 'properties' && path.length === 2 && value !== undefined && value !== null && typeof value !== 'string') expect(r.ok).toBe(false);
      }),
      fuzzParams(8301, 200),
    );
  });

  it('any mutation of a deal maps to a transaction within the limits or a quarantined one, never a throw', () => {
    fc.assert(
      fc.property(fc.constantFrom(...dealPaths), BAD_VALUE, (path, value) => {
        checkResult(mapDeal(mutate(deal, path, value), 'hs', cfg), 'transaction');
      }),
      fuzzParams(8302, 200),
    );
  });

  it('names the oversized field, and keeps a cut payload', () => {
    const r = mapContact(mutate(contact, ['properties', 'firstname'], HUGE), 'hs', cfg);
    expect(r.ok).toBe(false);
    if (r.ok) return;
    expect(r.rejected.reason).toBe(`field too large: firstName has ${HUGE.length} characters (at most ${LIMITS.text})`);
    expect(r.rejected.externalId).toBe('101');
    expect(JSON.stringify(r.rejected.payload).length).toBeLessThan(5_000);
    const v = mapContact(mutate(contact, ['properties', 'visits'], HUGE), 'hs', cfg);
    expect(v.ok ? '' : v.rejected.reason).toMatch(/^field too large: property "visits" has 131073 characters/);
  });

  it('takes unsafe integer ids as shape errors, not as ids', () => {
    const r = mapContact(mutate(contact, ['id'], 1e300), 'hs', cfg);
    expect(r.ok ? '' : r.rejected.reason).toMatch(/^unexpected HubSpot contact shape: id/);
  });
});

describe('Salesforce rows: missing, null, wrong types, oversized', () => {
  const cfg = salesforceConfigSchema.parse({ name: 'sf', type: 'salesforce', instanceUrl: 'https://x.my.salesforce.com', accessToken: 'tok-000000' });
  const person = {
    object: 'Contact',
    record: {
      Id: '003000000000001AAA', SystemModstamp: '2026-01-02T00:00:00.000+0000', CreatedDate: '2026-01-01T00:00:00.000+0000', IsDeleted: false,
      Email: 'a@example.com', FirstName: 'Ann', LastName: 'Lee', MailingCountry: 'Germany', LeadSource: 'Web', Account: { Name: 'Acme' },
    },
  };
  const personPaths = [[], ['object'], ['record'], ...Object.keys(person.record).map((k) => ['record', k]), ['record', 'Account', 'Name']];
  const role = {
    object: 'OpportunityContactRole',
    record: {
      Id: '00K000000000001AAA', OpportunityId: '006000000000001AAA', ContactId: '003000000000001AAA', IsPrimary: true,
      Opportunity: { Amount: 10, CloseDate: '2026-02-01', StageName: 'Closed Won', IsWon: true, SystemModstamp: '2026-02-01T00:00:00.000+0000', CurrencyIsoCode: 'EUR' },
    },
  };
  const rolePaths = [[], ['record'], ...Object.keys(role.record).map((k) => ['record', k]), ...Object.keys(role.record.Opportunity).map((k) => ['record', 'Opportunity', k])];

  it('any mutation of a contact row maps to a record within the limits or a quarantined one, never a throw', () => {
    fc.assert(
      fc.property(fc.constantFrom(...personPaths), BAD_VALUE, (path, value) => {
        const r = parseContact(mutate(person, path, value), 'sf', cfg);
        checkResult(r, 'contact');
        // a mapped field holding a list or an object is the wrong type: quarantined, not read as empty
        if (['Email', 'FirstName', 'LastName', 'MailingCountry'].includes(path[1] ?? '') && typeof value === 'object' && value !== null) expect(r.ok).toBe(false);
      }),
      fuzzParams(8303, 200),
    );
  });

  it('any mutation of an opportunity row maps to a transaction within the limits or a quarantined one, never a throw', () => {
    fc.assert(
      fc.property(fc.constantFrom(...rolePaths), BAD_VALUE, (path, value) => {
        checkResult(parseTransaction(mutate(role, path, value), 'sf', cfg), 'transaction');
      }),
      fuzzParams(8304, 200),
    );
  });
});

describe('a page with bad records among good ones', () => {
  let env: Env | undefined;
  let org: FakeOrg | undefined;
  afterEach(async () => {
    teardown(env);
    env = undefined;
    await org?.stop();
    org = undefined;
  });

  it('HubSpot: the bad records are quarantined with their reasons, the good ones and the formulas are stored as sent', async () => {
    env = setup();
    const good = (id: number, props: Record<string, unknown> = {}): Record<string, unknown> => ({
      id: String(id),
      properties: { email: `p${id}@example.com`, createdate: '2026-01-01T00:00:00.000Z', lastmodifieddate: '2026-01-02T00:00:00.000Z', ...props },
      createdAt: '2026-01-01T00:00:00.000Z',
      updatedAt: '2026-01-02T00:00:00.000Z',
      archived: false,
    });
    const results: unknown[] = [
      good(1),
      { properties: { email: 'noid@example.com' } },
      null,
      good(3, { firstname: HUGE }),
      { id: '4', properties: null },
      good(5, { email: 42 }),
      { id: 1e300, properties: {} },
      ...FORMULAS.map((f, i) => good(10 + i, { firstname: f, company: f, email: `f${i}@example.com` })),
      good(30),
    ];
    env.fake.faults.push({
      when: (r) => r.method === 'GET' && r.path === '/crm/v3/objects/contacts' && r.query.get('archived') !== 'true',
      reply: [200, { results }],
    });
    const [contacts] = await env.sync({ full: true });
    expect(contacts).toMatchObject({ read: results.length, upserted: 2 + FORMULAS.length, quarantined: 6 });
    const stored = storedContacts(env.store);
    expect([...stored.keys()].sort()).toEqual(['1', '30', ...FORMULAS.map((_, i) => String(10 + i))].sort());
    expect(quarantined(env.store).map((q) => [q.external_id, q.reason.replace(/:.*/s, '')])).toEqual([
      [null, 'unexpected HubSpot contact shape'],
      [null, 'unexpected HubSpot contact shape'],
      ['3', 'field too large'],
      ['4', 'unexpected HubSpot contact shape'],
      ['5', 'unexpected HubSpot contact shape'],
      ['1e+300', 'unexpected HubSpot contact shape'],
    ]);
    const names = rowsOf(env.store.file, "SELECT external_id, first_name, company FROM contacts WHERE connector = 'hs' AND external_id >= '10' AND external_id < '30'");
    expect(names.map((r) => [r.first_name, r.company])).toEqual(FORMULAS.map((f) => [f.trim(), f.trim()]));
  });

  it('HubSpot search: the keyset moves on the last readable id; a page with none stops the sync instead of skipping', async () => {
    env = setup();
    for (let i = 1; i <= 3; i++) env.fake.addContact(i, { email: `p${i}@example.com` }, '2026-06-01T00:00:00.000Z');
    await env.sync({ full: true });
    advance(3_600_000);
    const isSearch = (r: { path: string }): boolean => r.path === '/crm/v3/objects/contacts/search';
    const good = { id: '2', properties: { email: 'p2@example.com', createdate: '2026-01-01T00:00:00.000Z', lastmodifieddate: '2026-07-01T12:30:00.000Z' } };
    env.fake.faults.push({ when: isSearch, reply: [200, { total: 3, results: [good, { id: 'x-not-an-id', properties: {} }], paging: { next: { after: '2' } } }] });
    const before = env.fake.requests.length;
    const [contacts] = await env.sync({ runId: 2 });
    expect(contacts).toMatchObject({ read: 2, upserted: 1, quarantined: 1 });
    const bodies = env.fake.requests.slice(before).filter(isSearch).map((r) => r.body as { filterGroups: { filters: { propertyName: string; operator: string; value: string }[] }[] });
    expect(bodies[1]?.filterGroups[0]?.filters).toContainEqual({ propertyName: 'hs_object_id', operator: 'GT', value: '2' });

    advance(3_600_000);
    env.fake.faults.push({ when: isSearch, reply: [200, { total: 2, results: [null, { properties: {} }], paging: { next: { after: '9' } } }] });
    await expect(env.sync({ runId: 3 })).rejects.toThrow(/a search page without one readable record id/);
  });

  it('Salesforce: wrongly typed and oversized fields are quarantined per row, the rest of the page stored', async () => {
    org = await new FakeOrg().start();
    const ok = org.insert('Contact', { Email: 'ok@example.com', FirstName: "=cmd|' /C calc'!A0", LastName: 'Lee' });
    const typed = org.insert('Contact', { Email: { address: 'x@example.com' }, LastName: 'Typed' });
    const big = org.insert('Contact', { Email: 'big@example.com', LastName: HUGE });
    const list = org.insert('Contact', { Email: 'list@example.com', FirstName: ['a', 'b'], LastName: 'List' });
    const nulls = org.insert('Contact', { Email: null, FirstName: null, LastName: null, MailingCountry: null });
    const h = harness(org);
    const [contacts] = await h.sync();
    expect(contacts).toMatchObject({ read: 5, upserted: 2, quarantined: 3 });
    expect(contactsIn(h.store).map((c) => c.externalId).sort()).toEqual([ok.Id, nulls.Id].sort());
    expect(quarantineIn(h.store).map((q) => [q.externalId, q.reason.replace(/:.*/s, '')])).toEqual([
      [typed.Id, 'wrong type'],
      [big.Id, 'field too large'],
      [list.Id, 'wrong type'],
    ]);
    expect(rowsOf(h.store.file, `SELECT first_name FROM contacts WHERE external_id = '${String(ok.Id)}'`)[0]?.first_name).toBe("=cmd|' /C calc'!A0");
    h.store.close();
  });
});

function rowsOf(file: string, sql: string): Record<string, string | null>[] {
  const db = new Database(file, { readonly: true });
  try {
    return db.prepare(sql).all() as Record<string, string | null>[];
  } finally {
    db.close();
  }
}
