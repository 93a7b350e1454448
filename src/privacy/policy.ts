/**
 * What the store keeps about a person. Contacts pass through the policy between
 * a connector's parse() and the store: personal fields outside the allowlist
 * and properties nothing uses are dropped, and with `privacy.hashEmails` the
 * email becomes a keyed HMAC-SHA256 digest. The digest is deterministic, so
 * contacts with the same normalized email still become one customer; without
 * the key, a digest cannot be tested against a list of guessed addresses.
 */
import { createHmac } from 'node:crypto';
import type { AnyConnector } from '../connector/contract.js';
import type { Config, PersonalField } from '../config/schema.js';
import { UserError, ExitCode } from '../core/errors.js';
import type { Contact, PropertyValue, Rejected } from '../core/records.js';
import type { Store } from '../store/index.js';

/** Prefix of a stored email digest: versioned, so the scheme can change without ambiguity. */
export const DIGEST_PREFIX = 'h1:';

export interface PrivacyPolicy {
  /** personal fields kept besides the email */
  fields: ReadonlySet<PersonalField>;
  /** contact properties kept */
  properties: ReadonlySet<string>;
  /** the keyed digest of a normalized email, when hashing is on */
  hash: ((email: string) => string) | undefined;
  /** how emails are stored: "address" or "hmac-sha256:<key id>" (the key id reveals nothing of the key) */
  emailMode: string;
}

/** Categorical features read from a contact field rather than a property (src/store/features-repo.ts). */
const FIELD_OF_FEATURE: Readonly<Record<string, PersonalField[]>> = { lifecycle_stage: ['lifecycleStage'], country: ['country'] };

export function privacyPolicy(config: Pick<Config, 'privacy' | 'features' | 'emailHashKey'>): PrivacyPolicy {
  const p = config.privacy;
  const key = p.hashEmails ? config.emailHashKey : undefined;
  if (p.hashEmails && key === undefined) throw new Error('privacy.hashEmails is on but the config carries no key');
  const hash = key === undefined ? undefined : (email: string): string => `${DIGEST_PREFIX}${createHmac('sha256', key).update(email, 'utf8').digest('hex')}`;
  return {
    // by default only what the features read: categorical features on the contact's own fields
    fields: new Set(p.fields ?? config.features.categorical.flatMap((c) => FIELD_OF_FEATURE[c.property] ?? [])),
    properties: new Set(
      p.properties ?? [...config.features.extra.map((e) => e.property), ...config.features.categorical.filter((c) => !(c.property in FIELD_OF_FEATURE)).map((c) => c.property)],
    ),
    hash,
    emailMode: key === undefined ? 'address' : `hmac-sha256:${createHmac('sha256', key).update('segsync key id').digest('hex').slice(0, 12)}`,
  };
}

/** The form an address takes in the store (the address itself, or its digest). */
export function storedEmail(policy: PrivacyPolicy, email: string): string {
  return policy.hash ? policy.hash(email) : email;
}

/** Applies the policy to a contact fresh from parse() (in place: the record is nobody else's). */
export function applyToContact(c: Contact, policy: PrivacyPolicy): Contact {
  if (c.email !== undefined && policy.hash) c.email = policy.hash(c.email);
  if (!policy.fields.has('firstName')) c.firstName = undefined;
  if (!policy.fields.has('lastName')) c.lastName = undefined;
  if (!policy.fields.has('company')) c.company = undefined;
  if (!policy.fields.has('country')) c.country = undefined;
  if (!policy.fields.has('lifecycleStage')) c.lifecycleStage = undefined;
  let kept: Record<string, PropertyValue> | undefined;
  for (const k in c.properties) {
    if (!policy.properties.has(k)) continue;
    // no prototype: a property named "__proto__" stays a plain key
    kept ??= Object.create(null) as Record<string, PropertyValue>;
    kept[k] = c.properties[k] ?? null;
  }
  c.properties = kept ?? {};
  return c;
}

const EMAIL_LIKE = /[^\s@"'<>(),;:\\[\]{}]+@[^\s@"'<>(),;:\\[\]{}]+/g;

/** With hashing on, addresses inside a rejected record (its raw payload, its reason) are replaced by their digests. */
export function applyToRejected(r: Rejected, policy: PrivacyPolicy): Rejected {
  const hash = policy.hash;
  if (!hash) return r;
  const scrub = (s: string): string => s.replace(EMAIL_LIKE, (m) => `[email ${hash(m.toLowerCase())}]`);
  const walk = (v: unknown): unknown => {
    if (typeof v === 'string') return scrub(v);
    if (Array.isArray(v)) return v.map(walk);
    if (v !== null && typeof v === 'object') {
      const out = Object.create(null) as Record<string, unknown>;
      for (const [k, x] of Object.entries(v)) out[scrub(k)] = walk(x);
      return out;
    }
    return v;
  };
  return { ...r, reason: scrub(r.reason), payload: walk(r.payload), ...(r.location !== undefined ? { location: scrub(r.location) } : {}) };
}

/** The connector with the policy applied to what its streams parse. */
export function withPrivacy(connector: AnyConnector, policy: PrivacyPolicy): AnyConnector {
  const { contacts, transactions } = connector.streams;
  return {
    ...connector,
    streams: {
      contacts: {
        ...contacts,
        parse(raw, ctx) {
          const r = contacts.parse(raw, ctx);
          if (!r.ok) return { ok: false, rejected: applyToRejected(r.rejected, policy) };
          applyToContact(r.record, policy);
          return r;
        },
      },
      transactions: {
        ...transactions,
        parse(raw, ctx) {
          const r = transactions.parse(raw, ctx);
          return r.ok ? r : { ok: false, rejected: applyToRejected(r.rejected, policy) };
        },
      },
    },
  };
}

/** The meta key recording how the store holds emails. */
export const EMAIL_MODE_KEY = 'email_mode';

/**
 * A store holds emails one way only: addresses, or digests under one key. A
 * different mode or key would split every customer in two (and forget would
 * miss people), so it is refused with what to do.
 */
export function checkEmailMode(stored: string | undefined, policy: PrivacyPolicy, opts: { hasContacts: boolean }): 'ok' | 'record' {
  const current = stored ?? (opts.hasContacts ? 'address' : undefined);
  if (current === undefined) return 'record';
  if (current === policy.emailMode) return stored === undefined ? 'record' : 'ok';
  const what = (m: string): string => (m === 'address' ? 'email addresses' : `email digests (${m})`);
  throw new UserError('CONFIG_INVALID', `the store holds ${what(current)}, but the config asks for ${what(policy.emailMode)}`, {
    exitCode: ExitCode.usage,
    where: { field: 'privacy.hashEmails' },
    hint:
      current.startsWith('hmac') && policy.emailMode.startsWith('hmac')
        ? `the key in the environment is not the one the store was built with: restore it, or point \`store:\` at a new file and sync again`
        : 'set privacy.hashEmails back, or point `store:` at a new file and sync again (a store never mixes the two)',
  });
}

/** Checks the store's email mode against the policy, recording it on first use. */
export function ensureEmailMode(store: Store, policy: PrivacyPolicy): void {
  const stored = store.models.getMeta(EMAIL_MODE_KEY);
  if (checkEmailMode(stored, policy, { hasContacts: store.status.hasContacts() }) === 'record') store.models.setMeta(EMAIL_MODE_KEY, policy.emailMode);
}
