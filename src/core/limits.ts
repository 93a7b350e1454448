/**
 * Size limits on what a connector hands to the store. A CRM record with a
 * megabyte in its first name is damaged or hostile: it goes to quarantine with
 * the field named, instead of bloating the store, the features and every export.
 * The limits sit well above what the CRMs themselves allow for these fields
 * (HubSpot: 65,536 characters per property value; Salesforce: 131,072 for a
 * long text area, 255 for ids and names), so no legitimate record trips them.
 */
import type { Contact, PropertyValue, Transaction } from './records.js';

export const LIMITS = {
  /** ids, names, company, stage, currency */
  text: 1_000,
  /** one property value */
  property: 131_072,
  /** properties on one record */
  properties: 1_000,
} as const;

/** A quarantine payload keeps at most this much of any one string. */
const PAYLOAD_STRING = 1_000;
const PAYLOAD_DEPTH = 6;
const PAYLOAD_ITEMS = 200;

function tooLong(name: string, v: string | undefined, max: number): string | undefined {
  return v !== undefined && v.length > max ? `field too large: ${name} has ${v.length} characters (at most ${max})` : undefined;
}

function propertiesProblem(props: Record<string, PropertyValue>): string | undefined {
  let n = 0;
  for (const k in props) {
    if (++n > LIMITS.properties) return `too many properties: more than ${LIMITS.properties}`;
    const v = props[k];
    const p = tooLong(`property ${JSON.stringify(k.slice(0, 60))}`, k, LIMITS.text) ?? (typeof v === 'string' ? tooLong(`property ${JSON.stringify(k.slice(0, 60))}`, v, LIMITS.property) : undefined);
    if (p) return p;
  }
  return undefined;
}

/** Why a contact is too large to store, or undefined. */
export function contactSizeProblem(c: Contact): string | undefined {
  return (
    tooLong('id', c.externalId, LIMITS.text) ??
    tooLong('firstName', c.firstName, LIMITS.text) ??
    tooLong('lastName', c.lastName, LIMITS.text) ??
    tooLong('company', c.company, LIMITS.text) ??
    tooLong('lifecycleStage', c.lifecycleStage, LIMITS.text) ??
    propertiesProblem(c.properties)
  );
}

/** Why a transaction is too large to store, or undefined. */
export function transactionSizeProblem(t: Transaction): string | undefined {
  return tooLong('id', t.externalId, LIMITS.text) ?? tooLong('contact id', t.contactId, LIMITS.text) ?? propertiesProblem(t.properties);
}

/**
 * A raw record as kept in quarantine: long strings cut, deep or wide structures
 * bounded, so a hostile payload costs the store a few kilobytes, not megabytes,
 * and still shows what was wrong with it.
 */
export function boundedPayload(raw: unknown, depth = 0): unknown {
  if (typeof raw === 'string') return raw.length > PAYLOAD_STRING ? `${raw.slice(0, PAYLOAD_STRING)}… [${raw.length} characters]` : raw;
  if (raw === null || typeof raw !== 'object') return typeof raw === 'bigint' ? String(raw) : raw;
  if (raw instanceof Date) return Number.isNaN(raw.getTime()) ? 'Invalid Date' : raw.toISOString();
  if (depth >= PAYLOAD_DEPTH) return '[nested too deep]';
  if (Array.isArray(raw)) {
    const out = raw.slice(0, PAYLOAD_ITEMS).map((v) => boundedPayload(v, depth + 1));
    if (raw.length > PAYLOAD_ITEMS) out.push(`[${raw.length - PAYLOAD_ITEMS} more items]`);
    return out;
  }
  // no prototype: a "__proto__" key from a JSON payload stays a plain key
  const out = Object.create(null) as Record<string, unknown>;
  let n = 0;
  for (const [k, v] of Object.entries(raw)) {
    if (n++ >= PAYLOAD_ITEMS) {
      out['…'] = `[${Object.keys(raw).length - PAYLOAD_ITEMS} more keys]`;
      break;
    }
    out[k.length > PAYLOAD_STRING ? `${k.slice(0, PAYLOAD_STRING)}…` : k] = boundedPayload(v, depth + 1);
  }
  return out;
}
