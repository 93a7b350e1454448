/** Pure mapping of HubSpot contacts and deals to canonical records. */
import { describe, expect, it } from 'vitest';
import { hubspotConfigSchema } from '../../../connectors/hubspot/config.js';
import { dealStatus, mapContact, mapDeal, mergedAwayIds, primaryContact } from '../../../connectors/hubspot/map.js';

const cfg = hubspotConfigSchema.parse({ name: 'hs', type: 'hubspot', accessToken: 'pat-x', contactProperties: ['num_visits', 'zip'] });

const contact = (props: Record<string, string | null>, extra: Record<string, unknown> = {}) => ({
  id: '501',
  properties: { createdate: '2024-02-03T04:05:06.789Z', lastmodifieddate: '2026-06-01T00:00:00Z', ...props },
  // the SDK hands dates over as Date objects
  createdAt: new Date('2024-02-03T04:05:06.789Z'),
  updatedAt: new Date('2026-06-01T00:00:00Z'),
  archived: false,
  ...extra,
});

const deal = (props: Record<string, string | null>, contactIds = ['42'], stage: { isClosed: boolean; probability: number | null } | null = null) => ({
  deal: { id: '9001', properties: { createdate: '2026-01-01T00:00:00Z', ...props }, createdAt: new Date('2026-01-01T00:00:00Z') },
  contactIds,
  stage,
});

describe('mapContact', () => {
  it('maps and normalises a contact, extra properties as typed values', () => {
    const r = mapContact(
      contact({ email: ' Ann@Example.COM ', firstname: ' Ann ', lastname: 'Lee', company: 'Acme', country: 'germany', lifecyclestage: 'Customer', num_visits: '12', zip: '01067' }),
      'hs',
      cfg,
    );
    expect(r).toEqual({
      ok: true,
      location: 'hubspot contact 501',
      record: {
        id: 'hs:501',
        connector: 'hs',
        externalId: '501',
        email: 'ann@example.com',
        firstName: 'Ann',
        lastName: 'Lee',
        company: 'Acme',
        country: 'DE',
        lifecycleStage: 'customer',
        createdAt: '2024-02-03T04:05:06.789Z',
        updatedAt: '2026-06-01T00:00:00.000Z',
        properties: { num_visits: 12, zip: '01067' },
      },
    });
  });

  it('falls back to the record timestamps and rejects what cannot be normalised, with the reason', () => {
    const r = mapContact({ id: '7', properties: { email: 'a@b.co' }, createdAt: new Date('2025-01-01T00:00:00Z'), updatedAt: new Date('2025-02-01T00:00:00Z') }, 'hs', cfg);
    expect(r.ok && [r.record.createdAt, r.record.updatedAt]).toEqual(['2025-01-01T00:00:00.000Z', '2025-02-01T00:00:00.000Z']);
    const bad = mapContact(contact({ email: 'nope' }), 'hs', cfg);
    expect(bad).toMatchObject({ ok: false, rejected: { externalId: '501', location: 'hubspot contact 501' } });
    expect(!bad.ok && bad.rejected.reason).toMatch(/^bad email/);
    const shape = mapContact({ id: 'abc', properties: {} }, 'hs', cfg);
    expect(!shape.ok && shape.rejected.reason).toMatch(/^unexpected HubSpot contact shape: id/);
  });
});

describe('mapDeal', () => {
  it('maps a won deal: amount, close date, currency, canonical contact id', () => {
    const r = mapDeal(deal({ amount: '1250.5', closedate: '2026-05-04T10:00:00Z', deal_currency_code: 'eur', dealstage: 'closedwon', pipeline: 'default', dealname: 'Big one' }), 'hs', cfg);
    expect(r).toEqual({
      ok: true,
      location: 'hubspot deal 9001',
      record: {
        id: 'hs:9001',
        connector: 'hs',
        externalId: '9001',
        contactId: 'hs:42',
        amount: 1250.5,
        currency: 'EUR',
        occurredAt: '2026-05-04T10:00:00.000Z',
        status: 'won',
        properties: { pipeline: 'default', dealstage: 'closedwon', dealname: 'Big one' },
      },
    });
  });

  it('defaults currency, falls back to the create date, picks the lowest contact id', () => {
    const r = mapDeal(deal({ amount: '10', dealstage: 'x' }, ['1000', '999', '12000']), 'hs', cfg);
    expect(r.ok && [r.record.currency, r.record.occurredAt, r.record.contactId, r.record.status]).toEqual(['USD', '2026-01-01T00:00:00.000Z', 'hs:999', 'open']);
    expect(primaryContact(['20', '3', '100'])).toBe('3');
  });

  it('rejects deals without a contact, an amount, or with a bad amount or currency', () => {
    const reason = (raw: unknown): string => {
      const r = mapDeal(raw, 'hs', cfg);
      return r.ok ? 'accepted' : r.rejected.reason;
    };
    expect(reason(deal({ amount: '1' }, []))).toMatch(/^deal has no associated contact/);
    expect(reason(deal({ amount: null }))).toMatch(/^missing amount/);
    expect(reason(deal({ amount: 'lots' }))).toMatch(/^bad amount/);
    expect(reason(deal({ amount: '1', deal_currency_code: 'euro' }))).toMatch(/^bad currency/);
    expect(reason({ deal: { id: '1' } })).toMatch(/^unexpected HubSpot deal shape/);
  });
});

describe('dealStatus', () => {
  const stages = cfg.dealStages;
  it('closedwon / closedlost by default, everything else open', () => {
    expect(dealStatus(stages, 'default', 'closedwon', null)).toBe('won');
    expect(dealStatus(stages, 'default', 'closedlost', null)).toBe('lost');
    expect(dealStatus(stages, 'default', 'qualifiedtobuy', null)).toBe('open');
    expect(dealStatus(stages, undefined, undefined, null)).toBe('open');
  });
  it("uses the portal's pipeline metadata for custom stages, unless switched off", () => {
    expect(dealStatus(stages, '777', '9002', { isClosed: true, probability: 1 })).toBe('won');
    expect(dealStatus(stages, '777', '9003', { isClosed: true, probability: 0 })).toBe('lost');
    expect(dealStatus(stages, '777', '9001', { isClosed: false, probability: 0.5 })).toBe('open');
    expect(dealStatus({ ...stages, usePipelineMetadata: false }, '777', '9002', { isClosed: true, probability: 1 })).toBe('open');
  });
  it('per-pipeline lists replace the global ones for that pipeline', () => {
    const s = hubspotConfigSchema.parse({ name: 'hs', type: 'hubspot', accessToken: 'x', dealStages: { pipelines: { '777': { won: ['9001'] } }, usePipelineMetadata: false } }).dealStages;
    expect(dealStatus(s, '777', '9001', null)).toBe('won');
    expect(dealStatus(s, '777', 'closedwon', null)).toBe('open');
    expect(dealStatus(s, 'default', 'closedwon', null)).toBe('won');
  });
});

describe('mergedAwayIds', () => {
  it('lists the absorbed ids, never the record itself', () => {
    expect(mergedAwayIds('9', { hs_merged_object_ids: '5;6;9' })).toEqual(['5', '6']);
    expect(mergedAwayIds('9', { hs_merged_object_ids: null })).toEqual([]);
    expect(mergedAwayIds('9', undefined)).toEqual([]);
  });
});
