/**
 * POST /webhooks/hubspot: HubSpot's webhook deliveries. Authenticated by the v3
 * signature over the raw body (not the admin token), so this route reads its
 * body as bytes in its own Fastify scope.
 *
 *   401 SIGNATURE_MISSING / SIGNATURE_INVALID / TIMESTAMP_STALE
 *   400 INVALID_REQUEST     the body is not a HubSpot event array (field named)
 *   200 { accepted, duplicates, ignored }
 *
 * A delivery is answered as soon as its events are stored (HubSpot wants an
 * answer within seconds and retries otherwise); the processor applies them
 * after the batch window. An event id seen before (a redelivery, or a captured
 * request replayed within the 5 minutes the signature allows) is counted as a
 * duplicate and not applied again; the delivery still gets 200 so HubSpot
 * stops retrying it.
 */
import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { ChangeFeed } from '../connector/contract.js';
import type { Logger } from '../core/logger.js';
import type { Store } from '../store/index.js';
import { HttpError } from './http-error.js';

export const HUBSPOT_WEBHOOK_PATH = '/webhooks/hubspot';

/** HubSpot sends up to 100 events per request, a few hundred bytes each. */
const WEBHOOK_BODY_LIMIT = 1024 * 1024;

export interface WebhookOptions {
  store: Store;
  logger: Logger;
  /** the connector the events are about */
  source: string;
  feed: ChangeFeed<unknown>;
  secret: string;
  /** the URL HubSpot calls, when a proxy changes it; else rebuilt from the request */
  publicUrl?: string;
  /** only events from this account (HubSpot portal id) are applied */
  account?: string;
  /** new events were stored */
  notify: () => void;
  now?: () => number;
}

/** The URL the caller used, as HubSpot signed it. */
function requestUrl(req: FastifyRequest, publicUrl: string | undefined): string {
  const q = req.url.indexOf('?');
  const query = q >= 0 ? req.url.slice(q) : '';
  if (publicUrl !== undefined) return publicUrl.includes('?') ? publicUrl : `${publicUrl}${query}`;
  // behind no proxy: the Host header and the scheme this server speaks (a proxy's X-Forwarded-Proto if one set it)
  const fwd = req.headers['x-forwarded-proto'];
  const proto = (Array.isArray(fwd) ? fwd[0] : fwd)?.split(',')[0]?.trim() || req.protocol;
  return `${proto}://${req.headers.host ?? req.hostname}${req.url}`;
}

export async function registerHubspotWebhooks(app: FastifyInstance, o: WebhookOptions): Promise<void> {
  const log = o.logger.child({ component: 'webhooks', source: o.source });
  const now = o.now ?? Date.now;
  await app.register(async (scope) => {
    // the signature covers the exact bytes: keep them, parse after verifying
    scope.removeAllContentTypeParsers();
    scope.addContentTypeParser('*', { parseAs: 'buffer', bodyLimit: WEBHOOK_BODY_LIMIT }, (_req, body, done) => done(null, body));

    scope.post(HUBSPOT_WEBHOOK_PATH, { bodyLimit: WEBHOOK_BODY_LIMIT }, async (req, reply) => {
      const rawBody = Buffer.isBuffer(req.body) ? req.body : Buffer.alloc(0);
      const verdict = o.feed.verify({ method: req.method, url: requestUrl(req, o.publicUrl), rawBody, headers: req.headers, nowMs: now() }, o.secret);
      if (!verdict.ok) {
        log.warn({ ip: req.ip, code: verdict.code }, `webhook refused: ${verdict.message}`);
        throw new HttpError(401, verdict.code, verdict.message);
      }
      let body: unknown;
      try {
        body = JSON.parse(rawBody.toString('utf8'));
      } catch {
        throw new HttpError(400, 'INVALID_REQUEST', 'body: not JSON', { in: 'body' });
      }
      const parsed = o.feed.parse(body, o.account !== undefined ? { account: o.account } : {});
      if (!parsed.ok) throw new HttpError(400, 'INVALID_REQUEST', `body: ${parsed.message}`, { in: 'body', ...(parsed.field ? { field: parsed.field } : {}) });
      const r = parsed.events.length ? o.store.changes.enqueue(o.source, parsed.events, now()) : { accepted: 0, duplicates: 0 };
      if (r.accepted > 0) o.notify();
      if (r.duplicates > 0) log.info({ duplicates: r.duplicates }, `${r.duplicates} webhook event(s) seen before: not applied again`);
      return reply.code(200).send({ accepted: r.accepted, duplicates: r.duplicates, ignored: parsed.ignored });
    });
  });
}
