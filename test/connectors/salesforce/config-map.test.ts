/** The config entry and push target (through parseConfig), the pure mappers, and the SOQL helpers. */
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseConfig } from '../../../src/config/load.js';
import { ConfigError } from '../../../src/core/errors.js';
import { salesforceConfigSchema, salesforceTargetSchema, type SalesforceConfig } from '../../../connectors/salesforce/config.js';
import { mapOpportunity, mapOrder, mapPerson, parseContact } from '../../../connectors/salesforce/map.js';
import { afterCursor, dateTimeLiteral, laterCursor, nestRow, quote } from '../../../connectors/salesforce/soql.js';
import { parseLimitInfo, ApiBudget } from '../../../connectors/salesforce/budget.js';
import { registry } from './helpers.js';

const load = (entry: string, target = ''): ReturnType<typeof parseConfig> =>
  parseConfig(`connectors:\n  - name: sf\n    type: salesforce\n${entry.replace(/^/gm, '    ')}\npush:\n  targets:\n    - connector: sf\n${target.replace(/^/gm, '      ')}\n`, join('/tmp', 'segsync.yaml'), {
    registry,
    env: { SF_TOKEN: 'abcdef123456' },
  });

const problems = (entry: string, target = ''): string[] => {
  try {
    load(entry, target);
  } catch (e) {
    if (e instanceof ConfigError) return e.problems;
    throw e;
  }
  return [];
};

const cfg = (over: Record<string, unknown> = {}): SalesforceConfig =>
  salesforceConfigSchema.parse({ name: 'sf', type: 'salesforce', instanceUrl: 'https://acme.my.salesforce.com', accessToken: 'x', ...over });

describe('config', () => {
  it('fills every default', () => {
    const c = load('instanceUrl: https://acme.my.salesforce.com/\naccessToken: ${SF_TOKEN}').connectors[0]?.settings as SalesforceConfig;
    expect(c).toMatchObject({
      instanceUrl: 'https://acme.my.salesforce.com',
      apiVersion: '62.0',
      includeLeads: false,
      bulkThreshold: 50_000,
      maxApiShare: 0.5,
      deletions: 'queryAll',
      transactions: { source: 'opportunities', orderContactField: 'BillToContactId' },
      contacts: { fields: { email: 'Email', company: 'Account.Name', country: 'MailingCountry', lifecycleStage: null }, properties: ['LeadSource'] },
      leads: { fields: { company: 'Company', country: 'Country', lifecycleStage: 'Status' } },
    });
    expect(salesforceTargetSchema.parse({ connector: 'sf' })).toEqual({ connector: 'sf', campaigns: { prefix: 'segsync: ' }, field: 'Segment__c', fieldType: 'picklist', createField: true });
  });

  it('takes apiVersion as a number too', () => {
    expect(cfg({ apiVersion: 61 }).apiVersion).toBe('61.0');
  });

  it('wants exactly one way to log in, and instanceUrl with a bare token', () => {
    expect(problems('instanceUrl: https://a.my.salesforce.com')).toEqual([expect.stringContaining('set one of accessToken (with instanceUrl), oauth')]);
    expect(problems('accessToken: x')).toEqual([expect.stringContaining('instanceUrl: is required with accessToken')]);
    expect(problems('accessToken: x\ninstanceUrl: https://a.my.salesforce.com\noauth: { clientId: a, refreshToken: b }')).toEqual([
      expect.stringContaining('set only one of accessToken, oauth or jwt'),
    ]);
    expect(problems('jwt: { clientId: a, username: u }')).toEqual([expect.stringContaining('set exactly one of privateKey')]);
    expect(problems('accessToken: x\ninstanceUrl: https://acme.lightning.force.com')).toEqual([expect.stringContaining('use the My Domain URL')]);
  });

  it('names unknown keys with a did-you-mean, in the entry and in the target', () => {
    expect(problems('instanceUrl: https://a.my.salesforce.com\naccessToken: x\nbulkTreshold: 5')).toEqual([expect.stringMatching(/connectors\[0\]\.bulkTreshold: unknown key \(did you mean "bulkThreshold"\?\)/)]);
    expect(problems('instanceUrl: https://a.my.salesforce.com\naccessToken: x', 'feild: X__c')).toEqual([expect.stringMatching(/push\.targets\[0\]\.feild: unknown key \(did you mean "field"\?\)/)]);
    expect(problems('instanceUrl: https://a.my.salesforce.com\naccessToken: x', 'field: Segment')).toEqual([expect.stringContaining('ending in __c')]);
    expect(problems('instanceUrl: https://a.my.salesforce.com\naccessToken: x\nmaxApiShare: 0')).toEqual([expect.stringContaining('maxApiShare')]);
  });
});

describe('mapping', () => {
  const c = cfg({ contacts: { properties: ['LeadSource', 'Visits__c', 'Vip__c'] } });
  it('maps a REST contact row, parents and properties included', () => {
    const r = mapPerson(
      {
        object: 'Contact',
        record: {
          attributes: { type: 'Contact' }, Id: '003000000000001AAA', Email: ' Ann@Example.COM ', FirstName: 'Ann', LastName: 'Lee', MailingCountry: 'Deutschland',
          Account: { attributes: { type: 'Account' }, Name: 'Acme' }, LeadSource: 'Web', Visits__c: 12, Vip__c: true,
          CreatedDate: '2024-01-02T03:04:05.000+0000', SystemModstamp: '2025-05-06T07:08:09.000+0000', IsDeleted: false, MasterRecordId: null,
        },
      },
      'sf',
      c,
    );
    expect(r).toEqual({
      ok: true,
      location: 'Contact 003000000000001AAA',
      record: {
        id: 'sf:003000000000001AAA', connector: 'sf', externalId: '003000000000001AAA', email: 'ann@example.com', firstName: 'Ann', lastName: 'Lee', company: 'Acme', country: 'DE',
        createdAt: '2024-01-02T03:04:05.000Z', updatedAt: '2025-05-06T07:08:09.000Z', properties: { LeadSource: 'Web', Visits__c: 12, Vip__c: 'true' },
      },
    });
  });

  it('maps the same row from Bulk API CSV text alike', () => {
    const row = nestRow({ Id: '003000000000001AAA', Email: 'ann@example.com', FirstName: 'Ann', LastName: '', MailingCountry: 'DE', 'Account.Name': '', LeadSource: 'Web', Visits__c: '12', Vip__c: 'true', CreatedDate: '2024-01-02T03:04:05.000Z', SystemModstamp: '2025-05-06T07:08:09.000Z', IsDeleted: 'false', MasterRecordId: '' });
    expect(row.Account).toBeNull();
    const r = mapPerson({ object: 'Contact', record: row }, 'sf', c);
    expect(r.ok && r.record).toMatchObject({ email: 'ann@example.com', country: 'DE', properties: { Visits__c: 12, Vip__c: 'true' } });
    expect(r.ok && r.record.lastName).toBeUndefined();
    expect(r.ok && r.record.company).toBeUndefined();
  });

  it('rejects a bad email or an unexpected shape with the record named', () => {
    const bad = mapPerson({ object: 'Contact', record: { Id: '003000000000001AAA', Email: 'not-an-email', SystemModstamp: '2025-05-06T07:08:09.000+0000' } }, 'sf', c);
    expect(bad).toMatchObject({ ok: false, rejected: { externalId: '003000000000001AAA', location: 'Contact 003000000000001AAA', reason: expect.stringMatching(/^bad email: .* \(Email\)$/) } });
    const shape = parseContact({ object: 'Contact', record: { Id: 'nope', SystemModstamp: 'x' } }, 'sf', c);
    expect(shape).toMatchObject({ ok: false, rejected: { reason: expect.stringMatching(/^unexpected record shape: Id: /) } });
    expect(parseContact({ what: 1 }, 'sf', c)).toMatchObject({ ok: false });
  });

  it('maps a lead with its own fields', () => {
    const r = mapPerson({ object: 'Lead', record: { Id: '00Q000000000001AAA', Email: 'l@x.io', Company: 'Beta', Country: 'France', Status: 'Working', SystemModstamp: '2025-01-01T00:00:00.000Z', IsConverted: false } }, 'sf', cfg());
    expect(r.ok && r.record).toMatchObject({ company: 'Beta', country: 'FR', lifecycleStage: 'working' });
  });

  it('maps an opportunity role row and an order', () => {
    const opp = mapOpportunity(
      { object: 'OpportunityContactRole', orgCurrency: 'EUR', record: { Id: '00K000000000001AAA', OpportunityId: '006000000000001AAA', ContactId: '003000000000001AAA', IsPrimary: 'true', Opportunity: { Amount: '1,5', CloseDate: '2026-01-02', StageName: 'Won', IsWon: 'true', SystemModstamp: '2026-01-03T00:00:00.000Z', CurrencyIsoCode: null } } },
      'sf',
      cfg(),
    );
    expect(opp).toMatchObject({ ok: false, rejected: { reason: expect.stringContaining('Opportunity.Amount') } });
    const ok = mapOpportunity(
      { object: 'OpportunityContactRole', orgCurrency: 'EUR', record: { Id: '00K000000000001AAA', OpportunityId: '006000000000001AAA', ContactId: '003000000000001AAA', IsPrimary: 'true', Opportunity: { Amount: '1500.5', CloseDate: '2026-01-02', StageName: 'Won', IsWon: 'true', SystemModstamp: '2026-01-03T00:00:00.000Z', CurrencyIsoCode: null } } },
      'sf',
      cfg(),
    );
    expect(ok).toMatchObject({ ok: true, record: { id: 'sf:006000000000001AAA', contactId: 'sf:003000000000001AAA', amount: 1500.5, currency: 'EUR', occurredAt: '2026-01-02T00:00:00.000Z', status: 'won', properties: { stage: 'Won', contactRole: 'primary' } } });
    const order = mapOrder({ object: 'Order', record: { Id: '801000000000001AAA', SystemModstamp: '2026-01-03T00:00:00.000Z', TotalAmount: 40, EffectiveDate: '2026-01-05', StatusCode: 'Activated', Status: 'Activated', BillToContactId: null } }, 'sf', cfg());
    expect(order).toMatchObject({ ok: false, rejected: { reason: 'no contact: BillToContactId is empty' } });
  });
});

describe('SOQL helpers and the budget', () => {
  it('escapes literals and builds the tie-safe cursor clause', () => {
    expect(quote("O'Brien \\ co")).toBe("'O\\'Brien \\\\ co'");
    expect(dateTimeLiteral('2026-01-02T03:04:05.678+0000')).toBe('2026-01-02T03:04:05Z');
    expect(afterCursor('SystemModstamp', 'Id', { stamp: '2026-01-02T03:04:05.000Z', id: '003A' })).toBe(
      "(SystemModstamp > 2026-01-02T03:04:05Z OR (SystemModstamp = 2026-01-02T03:04:05Z AND Id > '003A'))",
    );
    expect(laterCursor({ stamp: '2026-01-02T00:00:00.000Z', id: '003B' }, { stamp: '2026-01-02T00:00:00.000Z', id: '003A' })?.id).toBe('003B');
    expect(laterCursor({ stamp: '2026-01-01T00:00:00.000Z', id: '003Z' }, { stamp: '2026-01-02T00:00:00.000Z', id: '003A' })?.id).toBe('003A');
  });

  it('takes the job allowance from the first Sforce-Limit-Info it sees', () => {
    expect(parseLimitInfo('api-usage=25/15000')).toEqual({ used: 25, max: 15000 });
    const b = new ApiBudget(0.5);
    b.take('a');
    b.observe('api-usage=91/100');
    expect([b.leftAtStart, b.allowance]).toEqual([10, 5]);
    for (let i = 0; i < 4; i++) b.take('x');
    expect(() => b.take('x')).toThrow(/API budget/);
  });
});
