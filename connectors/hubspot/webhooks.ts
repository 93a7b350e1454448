/**
 * HubSpot webhooks: the v3 request signature and the event payload.
 *
 * v3 signature (HubSpot's "Validating requests"): X-HubSpot-Signature-v3 is
 * base64(HMAC-SHA256(app client secret, method + URI + raw body + timestamp)),
 * where the timestamp is X-HubSpot-Request-Timestamp (epoch ms) exactly as
 * sent, and the URI is the full URL HubSpot called with these percent-escapes
 * decoded: %3A : %2F / %3F ? %40 @ %21 ! %24 $ %27 ' %28 ( %29 ) %2A * %2C , %3B ;
 * (and no others). A request older than 5 minutes is refused, so a captured
 * delivery cannot be replayed later; within that window the event ids dedupe.
 *
 * Payload: a JSON array of up to 100 events. Contact and deal events become
 * ChangeEvents (a deal is a transaction: a purchase moves its contact's
 * features); events about other objects are counted as ignored.
 */
import { createHash, createHmac, timingSafeEqual } from 'node:crypto';
import { z } from 'zod';
import type { ChangeEvent, ParsedChanges, WebhookRequest, WebhookVerdict } from '../../src/connector/contract.js';
import { recordId } from './shapes.js';

/** HubSpot's own limit: a request whose timestamp is older than this is refused. */
export const MAX_SIGNATURE_AGE_MS = 5 * 60_000;

const DECODED: Record<string, string> = {
  '%3A': ':',
  '%2F': '/',
  '%3F': '?',
  '%40': '@',
  '%21': '!',
  '%24': '$',
  '%27': "'",
  '%28': '(',
  '%29': ')',
  '%2A': '*',
  '%2C': ',',
  '%3B': ';',
};

/** The URI as HubSpot signs it: only the escapes of its table decoded (hex case-insensitive). */
export function signedUri(url: string): string {
  return url.replace(/%(3A|2F|3F|40|21|24|27|28|29|2A|2C|3B)/gi, (m) => DECODED[m.toUpperCase()] ?? m);
}

/** base64 HMAC-SHA256 of method + URI + body + timestamp: what X-HubSpot-Signature-v3 must be. */
export function signatureV3(secret: string, method: string, url: string, rawBody: Buffer | string, timestamp: string): string {
  return createHmac('sha256', secret)
    .update(`${method.toUpperCase()}${signedUri(url)}`, 'utf8')
    .update(rawBody)
    .update(timestamp, 'utf8')
    .digest('base64');
}

const one = (v: string | string[] | undefined): string | undefined => (Array.isArray(v) ? v[0] : v);

/** Checks a delivery's v3 signature and age. */
export function verifyV3(req: WebhookRequest, secret: string): WebhookVerdict {
  const signature = one(req.headers['x-hubspot-signature-v3'])?.trim();
  const timestamp = one(req.headers['x-hubspot-request-timestamp'])?.trim();
  if (!signature || !timestamp) {
    return { ok: false, code: 'SIGNATURE_MISSING', message: 'X-HubSpot-Signature-v3 and X-HubSpot-Request-Timestamp are required (HubSpot app webhooks send both)' };
  }
  if (!/^\d{1,16}$/.test(timestamp)) return { ok: false, code: 'SIGNATURE_INVALID', message: 'X-HubSpot-Request-Timestamp is not a time in epoch milliseconds' };
  const age = req.nowMs - Number(timestamp);
  // both directions: a timestamp far in the future would otherwise stay "fresh" for as long as it likes
  if (Math.abs(age) > MAX_SIGNATURE_AGE_MS) {
    return {
      ok: false,
      code: 'TIMESTAMP_STALE',
      message: `the request timestamp is ${Math.round(Math.abs(age) / 1000)} s ${age > 0 ? 'old' : 'in the future'}; requests more than 5 minutes off are refused (check this machine's clock if HubSpot's deliveries fail this way)`,
    };
  }
  const want = signatureV3(secret, req.method, req.url, req.rawBody, timestamp);
  // hash both sides: equal lengths for timingSafeEqual whatever was sent, and no early exit
  const a = createHash('sha256').update(want).digest();
  const b = createHash('sha256').update(signature).digest();
  if (!timingSafeEqual(a, b)) {
    return { ok: false, code: 'SIGNATURE_INVALID', message: 'the X-HubSpot-Signature-v3 signature does not match (check the app client secret and the public URL HubSpot calls)' };
  }
  return { ok: true };
}

const eventId = z.union([z.number().int().nonnegative(), z.string().regex(/^[\w-]{1,100}$/)]).transform(String);

/** One webhook event, as HubSpot sends it (legacy "contact.*" and generic "object.*" subscriptions). */
const HubspotWebhookEvent = z.looseObject({
  eventId,
  subscriptionType: z.string().min(1),
  occurredAt: z.number().int().nonnegative(),
  objectId: recordId.optional(),
  /** generic subscriptions: "0-1" is contacts */
  objectTypeId: z.string().optional(),
  portalId: z.number().optional(),
  attemptNumber: z.number().optional(),
  propertyName: z.string().optional(),
  /** merges */
  primaryObjectId: recordId.optional(),
  mergedObjectIds: z.array(recordId).optional(),
  newObjectId: recordId.optional(),
  /** association changes */
  associationType: z.string().optional(),
  fromObjectId: recordId.optional(),
  toObjectId: recordId.optional(),
});
type HubspotWebhookEvent = z.infer<typeof HubspotWebhookEvent>;

/** HubSpot sends at most 100 events per request; more is not HubSpot. */
export const HubspotWebhookBody = z.array(HubspotWebhookEvent).min(1, 'expected at least one event').max(1_000);

/** Generic "object.*" subscriptions name the object type by id. */
const TYPE_IDS: Record<string, 'contact' | 'deal'> = { '0-1': 'contact', '0-3': 'deal' };

/** The object and verb of an event ("contact", "merge"), or undefined for objects segments do not use. */
function objectVerb(e: HubspotWebhookEvent): { object: 'contact' | 'deal'; verb: string } | undefined {
  const [object, verb] = e.subscriptionType.split('.', 2);
  if (verb === undefined) return undefined;
  if (object === 'contact' || object === 'deal') return { object, verb };
  const typed = object === 'object' && e.objectTypeId !== undefined ? TYPE_IDS[e.objectTypeId] : undefined;
  return typed ? { object: typed, verb } : undefined;
}

function toChange(e: HubspotWebhookEvent, i: number): ChangeEvent | undefined | { error: string; field: string } {
  const ov = objectVerb(e);
  if (ov === undefined) return undefined;
  const { verb } = ov;
  // a deal is a transaction: the same verbs, on the other stream
  const act = (a: 'upsert' | 'delete' | 'merge'): ChangeEvent['action'] => (ov.object === 'deal' ? `transaction.${a}` : a);
  if (ov.object === 'deal' && verb === 'privacyDeletion') return undefined;
  const base = { eventId: e.eventId, occurredAt: e.occurredAt, mergedIds: [] as string[] };
  const need = (id: string | undefined, field: string): string | { error: string; field: string } =>
    id ?? { error: `a ${e.subscriptionType} event needs ${field}`, field: `${i}.${field}` };
  switch (verb) {
    case 'creation':
    case 'propertyChange':
    case 'restore': {
      const id = need(e.objectId, 'objectId');
      return typeof id === 'string' ? { ...base, action: act('upsert'), objectId: id } : id;
    }
    case 'deletion':
    case 'privacyDeletion': {
      const id = need(e.objectId, 'objectId');
      return typeof id === 'string' ? { ...base, action: act('delete'), objectId: id } : id;
    }
    case 'merge': {
      // the survivor is a new record when HubSpot says so, else the primary
      const live = e.newObjectId ?? e.primaryObjectId ?? e.objectId;
      if (live === undefined) return { error: 'a merge event needs primaryObjectId or newObjectId', field: `${i}.primaryObjectId` };
      const absorbed = new Set([...(e.mergedObjectIds ?? []), ...(e.primaryObjectId !== undefined ? [e.primaryObjectId] : []), ...(e.objectId !== undefined ? [e.objectId] : [])]);
      absorbed.delete(live);
      return { ...base, action: act('merge'), objectId: live, mergedIds: [...absorbed].sort() };
    }
    case 'associationChange': {
      // a deal (or company) attached to or detached from a contact, seen from either side: re-read the contact
      const t = e.associationType ?? '';
      const id = /^CONTACT_TO_/.test(t) ? e.fromObjectId : /_TO_CONTACT$/.test(t) ? e.toObjectId : undefined;
      return id === undefined ? undefined : { ...base, action: 'upsert', objectId: id };
    }
    default:
      return undefined;
  }
}

/**
 * Parses an authenticated body into change events. With `account` (the HubSpot
 * portal id), events from other portals are ignored: a public app installed in
 * several portals delivers all of them to one URL, and their ids mean other
 * records than this connector's.
 */
export function parseWebhookBody(body: unknown, opts: { account?: string } = {}): ParsedChanges {
  const r = HubspotWebhookBody.safeParse(body);
  if (!r.success) {
    const issue = r.error.issues[0];
    const field = issue?.path.map(String).join('.') ?? '';
    return { ok: false, message: `not a HubSpot webhook payload: ${field ? `${field}: ` : ''}${issue?.message ?? 'invalid'}`, ...(field ? { field } : {}) };
  }
  const events: ChangeEvent[] = [];
  let ignored = 0;
  for (const [i, e] of r.data.entries()) {
    if (opts.account !== undefined && e.portalId !== undefined && String(e.portalId) !== opts.account) {
      ignored++;
      continue;
    }
    const c = toChange(e, i);
    if (c === undefined) ignored++;
    else if ('error' in c) return { ok: false, message: `not a HubSpot webhook payload: ${c.field}: ${c.error}`, field: c.field };
    else events.push(c);
  }
  return { ok: true, events, ignored };
}
