/**
 * Pure mapping of Salesforce rows to canonical records. Each row is checked
 * against its zod shape first; a row that does not fit, or whose values do not
 * normalize, becomes a rejection naming the record and the reason.
 */
import type { z } from 'zod';
import type { Contact, ParseResult, PropertyValue, Transaction } from '../../src/core/records.js';
import {
  clean,
  normalizeAmount,
  normalizeCountry,
  normalizeCurrency,
  normalizeDate,
  normalizeEmail,
  propertyValue,
} from '../../src/core/normalize.js';
import { boundedPayload, contactSizeProblem, transactionSizeProblem } from '../../src/core/limits.js';
import type { Norm } from '../../src/core/normalize.js';
import type { SalesforceConfig } from './config.js';
import {
  SalesforceContact,
  SalesforceLead,
  SalesforceOpportunityContactRole,
  SalesforceOrder,
  SalesforcePageRecord,
  sfId,
} from './shapes.js';
import { valueAt } from './soql.js';

const EPOCH = '1970-01-01T00:00:00.000Z';

/** Text of a field value; numbers and booleans as text; null as undefined; anything else is the wrong type. */
function textOf(v: unknown, field: string | null): Norm<string | undefined> {
  if (typeof v === 'string') return { ok: true, value: clean(v) };
  if (typeof v === 'number' || typeof v === 'boolean') return { ok: true, value: String(v) };
  if (v === null || v === undefined) return { ok: true, value: undefined };
  return { ok: false, reason: `wrong type: ${field ?? 'a field'} is ${Array.isArray(v) ? 'a list' : typeof v}, expected text` };
}

/** A field value as a contact property: numbers stay numbers (also from bulk text), empty is null. */
export function propertyOf(v: unknown): PropertyValue {
  if (typeof v === 'number') return Number.isFinite(v) ? v : null;
  if (typeof v === 'boolean') return String(v);
  if (typeof v === 'string') return propertyValue(v);
  return null;
}

function rejectOf<T>(object: string, id: string | undefined, reason: string, payload: unknown): ParseResult<T> {
  return { ok: false, rejected: { externalId: id, reason, location: `${object} ${id ?? '(no Id)'}`, payload: boundedPayload(payload) } };
}

function shapeError(e: z.ZodError): string {
  const i = e.issues[0];
  return `unexpected record shape: ${i && i.path.length ? `${i.path.join('.')}: ` : ''}${i?.message ?? 'invalid'}`;
}

function idOf(rec: Record<string, unknown>, field = 'Id'): string | undefined {
  const v = rec[field];
  return typeof v === 'string' ? v : undefined;
}

/** A Contact or Lead row as a canonical contact. */
export function mapPerson(env: SalesforcePageRecord, connector: string, cfg: SalesforceConfig): ParseResult<Contact> {
  const isLead = env.object === 'Lead';
  const object = isLead ? 'Lead' : 'Contact';
  const shape = isLead ? SalesforceLead : SalesforceContact;
  const parsed = shape.safeParse(env.record);
  if (!parsed.success) return rejectOf(object, idOf(env.record), shapeError(parsed.error), env.record);
  const r = parsed.data;
  const f = (isLead ? cfg.leads : cfg.contacts).fields;
  const props = (isLead ? cfg.leads : cfg.contacts).properties;
  const at = (path: string | null): unknown => (path === null ? null : valueAt(r, path));

  // every mapped field is text (or empty): a list or an object there is quarantined, not dropped
  const text: Partial<Record<keyof typeof f, string>> = {};
  for (const [k, path] of Object.entries(f) as [keyof typeof f, string | null][]) {
    const t = textOf(at(path), path);
    if (!t.ok) return rejectOf(object, r.Id, t.reason, env.record);
    if (t.value !== undefined) text[k] = t.value;
  }
  const email = normalizeEmail(text.email);
  if (!email.ok) return rejectOf(object, r.Id, `${email.reason} (${f.email})`, env.record);
  const country = normalizeCountry(text.country);
  if (!country.ok) return rejectOf(object, r.Id, `${country.reason} (${f.country})`, env.record);
  const updated = normalizeDate(r.SystemModstamp, 'SystemModstamp');
  if (!updated.ok) return rejectOf(object, r.Id, updated.reason, env.record);
  const created = normalizeDate(r.CreatedDate ?? null, 'CreatedDate');
  if (!created.ok) return rejectOf(object, r.Id, created.reason, env.record);

  const updatedAt = updated.value ?? EPOCH;
  const properties: Record<string, PropertyValue> = {};
  for (const p of props) properties[p] = propertyOf(at(p));
  const c: Contact = {
    id: `${connector}:${r.Id}`,
    connector,
    externalId: r.Id,
    createdAt: created.value ?? updatedAt,
    updatedAt,
    properties,
  };
  if (email.value) c.email = email.value;
  if (text.firstName) c.firstName = text.firstName;
  if (text.lastName) c.lastName = text.lastName;
  if (text.company) c.company = text.company;
  if (country.value) c.country = country.value;
  if (text.lifecycleStage) c.lifecycleStage = text.lifecycleStage.toLowerCase();
  const big = contactSizeProblem(c);
  if (big) return rejectOf(object, r.Id, big, env.record);
  return { ok: true, record: c, location: `${object} ${r.Id}` };
}

/** The first role row of an Opportunity (primary first) as a won transaction of that role's contact. */
export function mapOpportunity(env: SalesforcePageRecord, connector: string, cfg: SalesforceConfig): ParseResult<Transaction> {
  const parsed = SalesforceOpportunityContactRole.safeParse(env.record);
  const oppId = idOf(env.record, 'OpportunityId');
  if (!parsed.success) return rejectOf('Opportunity', oppId, shapeError(parsed.error), env.record);
  const r = parsed.data;
  const o = r.Opportunity;
  if (!r.ContactId) return rejectOf('Opportunity', r.OpportunityId, 'no contact: the contact role names no contact', env.record);
  if (o.Amount === null) return rejectOf('Opportunity', r.OpportunityId, 'missing amount: Amount is empty', env.record);
  const amount = normalizeAmount(o.Amount, 'Amount');
  if (!amount.ok || amount.value === undefined) return rejectOf('Opportunity', r.OpportunityId, amount.ok ? 'missing amount' : amount.reason, env.record);
  const when = normalizeDate(o.CloseDate, 'CloseDate');
  if (!when.ok) return rejectOf('Opportunity', r.OpportunityId, when.reason, env.record);
  if (when.value === undefined) return rejectOf('Opportunity', r.OpportunityId, 'missing date: CloseDate is empty', env.record);
  const currency = normalizeCurrency(o.CurrencyIsoCode ?? null, env.orgCurrency ?? cfg.transactions.currency ?? 'USD');
  if (!currency.ok) return rejectOf('Opportunity', r.OpportunityId, currency.reason, env.record);
  const record: Transaction = {
    id: `${connector}:${r.OpportunityId}`,
    connector,
    externalId: r.OpportunityId,
    contactId: `${connector}:${r.ContactId}`,
    amount: amount.value,
    currency: currency.value,
    occurredAt: when.value,
    status: 'won',
    properties: { stage: o.StageName ?? null, contactRole: r.IsPrimary ? 'primary' : 'other' },
  };
  const big = transactionSizeProblem(record);
  return big ? rejectOf('Opportunity', r.OpportunityId, big, env.record) : { ok: true, location: `Opportunity ${r.OpportunityId}`, record };
}

/** An activated Order as a won transaction of the contact in `transactions.orderContactField`. */
export function mapOrder(env: SalesforcePageRecord, connector: string, cfg: SalesforceConfig): ParseResult<Transaction> {
  const parsed = SalesforceOrder.safeParse(env.record);
  if (!parsed.success) return rejectOf('Order', idOf(env.record), shapeError(parsed.error), env.record);
  const r = parsed.data;
  const field = cfg.transactions.orderContactField;
  const contact = sfId.safeParse(valueAt(r, field));
  if (!contact.success) return rejectOf('Order', r.Id, `no contact: ${field} is empty`, env.record);
  if (r.TotalAmount === null) return rejectOf('Order', r.Id, 'missing amount: TotalAmount is empty', env.record);
  const amount = normalizeAmount(r.TotalAmount, 'TotalAmount');
  if (!amount.ok || amount.value === undefined) return rejectOf('Order', r.Id, amount.ok ? 'missing amount' : amount.reason, env.record);
  const when = normalizeDate(r.EffectiveDate, 'EffectiveDate');
  if (!when.ok) return rejectOf('Order', r.Id, when.reason, env.record);
  if (when.value === undefined) return rejectOf('Order', r.Id, 'missing date: EffectiveDate is empty', env.record);
  const currency = normalizeCurrency(r.CurrencyIsoCode ?? null, env.orgCurrency ?? cfg.transactions.currency ?? 'USD');
  if (!currency.ok) return rejectOf('Order', r.Id, currency.reason, env.record);
  const record: Transaction = {
    id: `${connector}:${r.Id}`,
    connector,
    externalId: r.Id,
    contactId: `${connector}:${contact.data}`,
    amount: amount.value,
    currency: currency.value,
    occurredAt: when.value,
    status: 'won',
    properties: { status: r.Status ?? null },
  };
  const big = transactionSizeProblem(record);
  return big ? rejectOf('Order', r.Id, big, env.record) : { ok: true, location: `Order ${r.Id}`, record };
}

function envelope(raw: unknown): SalesforcePageRecord | undefined {
  const e = SalesforcePageRecord.safeParse(raw);
  return e.success ? e.data : undefined;
}

export function parseContact(raw: unknown, connector: string, cfg: SalesforceConfig): ParseResult<Contact> {
  const env = envelope(raw);
  if (!env || (env.object !== 'Contact' && env.object !== 'Lead')) return rejectOf('Contact', undefined, 'not a Salesforce contact or lead row', raw);
  return mapPerson(env, connector, cfg);
}

export function parseTransaction(raw: unknown, connector: string, cfg: SalesforceConfig): ParseResult<Transaction> {
  const env = envelope(raw);
  if (env?.object === 'OpportunityContactRole') return mapOpportunity(env, connector, cfg);
  if (env?.object === 'Order') return mapOrder(env, connector, cfg);
  return rejectOf('Opportunity', undefined, 'not a Salesforce opportunity or order row', raw);
}
