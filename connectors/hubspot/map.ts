/** Pure mapping of HubSpot shapes (validated by shapes.ts) to canonical records; a bad record becomes a rejection. */
import type { Contact, ParseResult, PropertyValue, Transaction, TransactionStatus } from '../../src/core/records.js';
import {
  clean,
  normalizeAmount,
  normalizeCountry,
  normalizeCurrency,
  normalizeDate,
  normalizeEmail,
  propertyValue,
  type Norm,
} from '../../src/core/normalize.js';
import { boundedPayload, contactSizeProblem, transactionSizeProblem } from '../../src/core/limits.js';
import type { HubspotConfig } from './config.js';
import { HubspotContact, HubspotDealRecord, type HubspotStageMeta } from './shapes.js';

/** Contact properties every sync reads; `contactProperties` in the config adds more. */
export const CORE_CONTACT_PROPERTIES = [
  'email',
  'firstname',
  'lastname',
  'company',
  'country',
  'lifecyclestage',
  'createdate',
  'lastmodifieddate',
  'hs_merged_object_ids',
] as const;

/** Deal properties every sync reads. */
export const DEAL_PROPERTIES = [
  'dealname',
  'amount',
  'closedate',
  'createdate',
  'hs_lastmodifieddate',
  'deal_currency_code',
  'dealstage',
  'pipeline',
  'hs_merged_object_ids',
] as const;

export function contactProperties(cfg: Pick<HubspotConfig, 'contactProperties'>): string[] {
  return [...new Set<string>([...CORE_CONTACT_PROPERTIES, ...cfg.contactProperties])];
}

const EPOCH = '1970-01-01T00:00:00.000Z';

function issues(e: { issues: { path: PropertyKey[]; message: string }[] }): string {
  return e.issues
    .slice(0, 3)
    .map((i) => `${i.path.map(String).join('.') || '(record)'}: ${i.message}`)
    .join('; ');
}

function idOf(raw: unknown): string | undefined {
  const r = raw as { id?: unknown; deal?: { id?: unknown } } | null;
  const id = r?.id ?? r?.deal?.id;
  return typeof id === 'string' || typeof id === 'number' ? String(id) : undefined;
}

function firstError(...ns: Norm<unknown>[]): string | undefined {
  for (const n of ns) if (!n.ok) return n.reason;
  return undefined;
}

/** Ids a record absorbed by merges (hs_merged_object_ids is "id;id;..."), its own id excluded. */
export function mergedAwayIds(id: string, props: Record<string, string | null | undefined> | undefined): string[] {
  const v = props?.hs_merged_object_ids;
  if (!v) return [];
  return [...new Set(v.split(/[;,\s]+/).filter((x) => /^\d+$/.test(x) && x !== id))];
}

export function mapContact(raw: unknown, connector: string, cfg: HubspotConfig): ParseResult<Contact> {
  const parsed = HubspotContact.safeParse(raw);
  if (!parsed.success) {
    return { ok: false, rejected: { externalId: idOf(raw), reason: `unexpected HubSpot contact shape: ${issues(parsed.error)}`, location: 'hubspot contacts', payload: boundedPayload(raw) } };
  }
  const c = parsed.data;
  const location = `hubspot contact ${c.id}`;
  const p = c.properties;
  const reject = (reason: string): ParseResult<Contact> => ({ ok: false, rejected: { externalId: c.id, reason, location, payload: boundedPayload(raw) } });
  const email = normalizeEmail(p.email);
  const country = normalizeCountry(p.country);
  const created = normalizeDate(p.createdate ?? c.createdAt, 'createdate');
  const updated = normalizeDate(p.lastmodifieddate ?? c.updatedAt, 'lastmodifieddate');
  const err = firstError(email, country, created, updated);
  if (err || !email.ok || !country.ok || !created.ok || !updated.ok) return reject(err ?? 'invalid');
  const properties: Record<string, PropertyValue> = {};
  for (const name of cfg.contactProperties) properties[name] = propertyValue(p[name] ?? undefined);
  const createdAt = created.value ?? updated.value ?? EPOCH;
  const contact: Contact = {
    id: `${connector}:${c.id}`,
    connector,
    externalId: c.id,
    createdAt,
    updatedAt: updated.value ?? createdAt,
    properties,
  };
  if (email.value) contact.email = email.value;
  const first = clean(p.firstname);
  if (first) contact.firstName = first;
  const last = clean(p.lastname);
  if (last) contact.lastName = last;
  const company = clean(p.company);
  if (company) contact.company = company;
  if (country.value) contact.country = country.value;
  const stage = clean(p.lifecyclestage);
  if (stage) contact.lifecycleStage = stage.toLowerCase();
  const big = contactSizeProblem(contact);
  if (big) return reject(big);
  return { ok: true, record: contact, location };
}

/**
 * won / lost / open for a deal stage: the pipeline's own lists in the config,
 * else the global lists, else (when enabled) HubSpot's stage metadata: a closed
 * stage with probability 1 is won, with probability 0 lost. Anything else is open.
 */
export function dealStatus(
  stages: HubspotConfig['dealStages'],
  pipeline: string | undefined,
  stage: string | undefined,
  meta: HubspotStageMeta | null,
): TransactionStatus {
  if (stage === undefined) return 'open';
  const own = pipeline === undefined ? undefined : stages.pipelines[pipeline];
  const won = own ? own.won : stages.won;
  const lost = own ? own.lost : stages.lost;
  if (won.includes(stage)) return 'won';
  if (lost.includes(stage)) return 'lost';
  if (stages.usePipelineMetadata && meta?.isClosed) {
    if (meta.probability === 1) return 'won';
    if (meta.probability === 0) return 'lost';
  }
  return 'open';
}

/** The contact a deal counts for: the lowest associated contact id (deterministic across syncs). */
export function primaryContact(ids: readonly string[]): string | undefined {
  return [...ids].sort((a, b) => a.length - b.length || (a < b ? -1 : a > b ? 1 : 0))[0];
}

export function mapDeal(raw: unknown, connector: string, cfg: HubspotConfig): ParseResult<Transaction> {
  const parsed = HubspotDealRecord.safeParse(raw);
  if (!parsed.success) {
    return { ok: false, rejected: { externalId: idOf(raw), reason: `unexpected HubSpot deal shape: ${issues(parsed.error)}`, location: 'hubspot deals', payload: boundedPayload(raw) } };
  }
  const { deal: d, contactIds, stage } = parsed.data;
  const location = `hubspot deal ${d.id}`;
  const p = d.properties;
  const reject = (reason: string): ParseResult<Transaction> => ({ ok: false, rejected: { externalId: d.id, reason, location, payload: boundedPayload(raw) } });
  const contact = primaryContact(contactIds);
  if (contact === undefined) return reject('deal has no associated contact: associate it with a contact in HubSpot to count it as a transaction');
  const amount = normalizeAmount(p.amount, 'amount');
  if (!amount.ok) return reject(amount.reason);
  if (amount.value === undefined) return reject('missing amount: the deal has no amount');
  const closed = normalizeDate(p.closedate, 'closedate');
  if (!closed.ok) return reject(closed.reason);
  const created = normalizeDate(p.createdate ?? d.createdAt, 'createdate');
  if (!created.ok) return reject(created.reason);
  const occurredAt = closed.value ?? created.value;
  if (occurredAt === undefined) return reject('missing date: the deal has neither closedate nor createdate');
  const currency = normalizeCurrency(p.deal_currency_code, cfg.defaultCurrency);
  if (!currency.ok) return reject(currency.reason);
  const pipeline = clean(p.pipeline);
  const dealstage = clean(p.dealstage);
  const properties: Record<string, PropertyValue> = { pipeline: pipeline ?? null, dealstage: dealstage ?? null };
  const name = clean(p.dealname);
  if (name) properties.dealname = name;
  const record: Transaction = {
    id: `${connector}:${d.id}`,
    connector,
    externalId: d.id,
    contactId: `${connector}:${contact}`,
    amount: amount.value,
    currency: currency.value,
    occurredAt,
    status: dealStatus(cfg.dealStages, pipeline, dealstage, stage),
    properties,
  };
  const big = transactionSizeProblem(record);
  return big ? reject(big) : { ok: true, location, record };
}
