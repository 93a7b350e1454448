/**
 * The admin API and dashboard of `segsync serve` (Fastify).
 *
 *   GET  /health                        no auth: liveness
 *   GET  /                              the dashboard page (no data in it; it asks for the token)
 *   GET  /api/status                    connectors, last sync per stream, cursors, quarantine, model, running job, next fires
 *   GET  /api/runs?limit&before&kind&status
 *   GET  /api/runs/:id                  counts, error, quarantine of the run, the model comparison table
 *   GET  /api/segments
 *   GET  /api/segments/:id/members?limit&after
 *   GET  /api/push/plan                 what a push would do now: adds/removes per target and segment; held or not
 *   GET  /api/report?known=KEY          the visual report's sections (inline SVG charts) for the dashboard; {unchanged} when KEY is current
 *   POST /api/sync {connector?, full?}  \
 *   POST /api/segment {k?, algorithm?}   > 202 {runId}, 409 {heldBy: {runId, kind}} while a job runs
 *   POST /api/push {dryRun?, approve?, connector?} /
 *
 * /api needs `Authorization: Bearer <token>` (constant-time compare). More than
 * `authFailures.max` failures from one address within the window answer 429 to
 * that address, whatever token it sends, until the window ends.
 *
 * POST /webhooks/hubspot (when realtime.hubspot is configured) has its own
 * auth, HubSpot's v3 signature instead of the bearer token: see webhooks.ts.
 */
import Fastify, { type FastifyInstance, type FastifyReply, type FastifyRequest } from 'fastify';
import helmet from '@fastify/helmet';
import rateLimit from '@fastify/rate-limit';
import { z } from 'zod';
import { isUserError } from '../core/errors.js';
import type { Scheduler } from '../schedule/scheduler.js';
import type { JobRunner } from '../schedule/runner.js';
import type { JobKind, JobParams } from '../schedule/jobs.js';
import { bearerChecker } from './auth.js';
import { DASHBOARD_CSP, DASHBOARD_HTML } from './dashboard.js';
import { HttpError, parseOr400 } from './http-error.js';
import { Views, type BaseContext } from './views.js';
import { HUBSPOT_WEBHOOK_PATH, registerHubspotWebhooks, type WebhookOptions } from './webhooks.js';

export interface ServerOptions {
  ctx: BaseContext;
  runner: JobRunner;
  scheduler?: Scheduler;
  token: string;
  /** Failed authentications allowed per address and window before 429. Default 10 per minute. */
  authFailures?: { max: number; windowMs: number };
  /** Reuse a status answer for this long (ms). Default 1000. */
  statusTtlMs?: number;
  /** HubSpot webhooks, when configured. */
  webhooks?: Omit<WebhookOptions, 'store' | 'logger'>;
}

/** Routes without the bearer token: liveness, the dashboard page (which holds no data), and webhooks (signed instead). */
const PUBLIC_ROUTES = new Set(['/health', '/', HUBSPOT_WEBHOOK_PATH]);

const RUN_KINDS = ['sync', 'segment', 'push', 'run', 'realtime'] as const;
const RUN_STATUSES = ['running', 'succeeded', 'failed', 'held', 'interrupted', 'skipped'] as const;

const idParams = z.strictObject({ id: z.coerce.number({ message: 'expected a run number' }).int().positive() });
const segmentParams = z.strictObject({ id: z.string().min(1).max(200) });
const runsQuery = z.strictObject({
  limit: z.coerce.number().int().min(1).max(500).default(50),
  before: z.coerce.number().int().positive().optional(),
  kind: z.enum(RUN_KINDS).optional(),
  status: z.enum(RUN_STATUSES).optional(),
});
const membersQuery = z.strictObject({
  limit: z.coerce.number().int().min(1).max(1000).default(100),
  after: z.string().max(500).default(''),
});
const emptyQuery = z.strictObject({});
const reportQuery = z.strictObject({ known: z.string().max(100).optional() });

export async function buildServer(opts: ServerOptions): Promise<FastifyInstance> {
  const { ctx, runner, scheduler } = opts;
  const log = ctx.logger.child({ component: 'server' });
  const views = new Views({ ctx, runner, scheduler, ...(opts.statusTtlMs !== undefined ? { statusTtlMs: opts.statusTtlMs } : {}) });
  const authOk = bearerChecker(opts.token);
  const connectorNames = ctx.config.connectors.map((c) => c.name);
  const targetNames = ctx.config.push.targets.map((t) => t.connector);

  const app = Fastify({ logger: false, bodyLimit: 16 * 1024, return503OnClosing: true, forceCloseConnections: 'idle' });

  await app.register(helmet, {
    contentSecurityPolicy: {
      useDefaults: false,
      directives: {
        defaultSrc: ["'none'"],
        scriptSrc: [DASHBOARD_CSP.script],
        styleSrc: [DASHBOARD_CSP.style],
        // the report's charts and cards carry style attributes (segment colours); scripts stay hash-only,
        // so markup can never run code
        styleSrcAttr: ["'unsafe-inline'"],
        connectSrc: ["'self'"],
        imgSrc: ["'self'", 'data:'],
        baseUri: ["'none'"],
        formAction: ["'none'"],
        frameAncestors: ["'none'"],
      },
    },
    // plain HTTP on loopback; TLS (and HSTS) belong to a reverse proxy in front
    strictTransportSecurity: false,
  });

  const window = opts.authFailures ?? { max: 10, windowMs: 60_000 };
  await app.register(rateLimit, { global: false, max: window.max, timeWindow: window.windowMs, keyGenerator: (req) => req.ip });
  const failures = app.createRateLimit();

  app.addHook('onRequest', async (req: FastifyRequest, reply: FastifyReply) => {
    // deny by default: only the routes below are public (the matched route, not the raw URL,
    // so no encoding of the path can slip past)
    if (PUBLIC_ROUTES.has(req.routeOptions.url ?? '')) return;
    const seen = await failures(req, { increment: false });
    const blocked = (r: typeof seen): boolean => !r.isAllowed && r.isExceeded;
    const retry = (r: typeof seen): Record<string, string> => (r.isAllowed ? {} : { 'retry-after': String(r.ttlInSeconds) });
    if (blocked(seen)) {
      throw new HttpError(429, 'TOO_MANY_AUTH_FAILURES', 'too many failed authentications from this address; wait and retry', { headers: retry(seen) });
    }
    if (authOk(req.headers.authorization)) return;
    const now = await failures(req);
    log.warn({ ip: req.ip, url: req.url.split('?')[0] }, 'admin API authentication failed');
    if (blocked(now)) {
      throw new HttpError(429, 'TOO_MANY_AUTH_FAILURES', 'too many failed authentications from this address; wait and retry', { headers: retry(now) });
    }
    void reply.header('www-authenticate', 'Bearer realm="segsync"');
    throw new HttpError(401, 'UNAUTHORIZED', req.headers.authorization ? 'the bearer token is not valid' : 'send Authorization: Bearer <token> (server.token)');
  });

  // an empty body with Content-Type: application/json means "no options", like no body at all
  const json = app.getDefaultJsonParser('error', 'error');
  app.removeContentTypeParser('application/json');
  app.addContentTypeParser('application/json', { parseAs: 'string' }, (req, body, done) => {
    const text = typeof body === 'string' ? body : body.toString('utf8');
    if (text.trim() === '') done(null, undefined);
    else json(req, text, done);
  });

  app.setErrorHandler((err: unknown, req, reply) => {
    if (err instanceof HttpError) {
      for (const [k, v] of Object.entries(err.headers)) void reply.header(k, v);
      return reply.code(err.statusCode).send(err.body());
    }
    const fe = err as { statusCode?: unknown; code?: unknown; message?: unknown };
    if (typeof fe.statusCode === 'number' && fe.statusCode >= 400 && fe.statusCode < 500) {
      // Fastify's own: malformed JSON, body too large, unsupported media type
      return reply.code(fe.statusCode).send({ error: { code: typeof fe.code === 'string' ? fe.code : 'BAD_REQUEST', message: String(fe.message), in: 'body' } });
    }
    if (isUserError(err)) {
      log.warn({ url: req.url }, err.oneLine());
      return reply.code(503).send({ error: { code: err.code, message: err.oneLine() } });
    }
    log.error({ err, url: req.url }, 'admin API request failed');
    return reply.code(500).send({ error: { code: 'INTERNAL', message: 'internal error; the server log has the details' } });
  });

  app.setNotFoundHandler((req, reply) => reply.code(404).send({ error: { code: 'NOT_FOUND', message: `no route ${req.method} ${req.url.split('?')[0]}` } }));

  if (opts.webhooks) await registerHubspotWebhooks(app, { ...opts.webhooks, store: ctx.store, logger: ctx.logger });

  app.get('/health', async () => ({ ok: true }));

  app.get('/', async (_req, reply) => reply.type('text/html; charset=utf-8').header('cache-control', 'no-store').send(DASHBOARD_HTML));

  app.get('/api/status', async (req) => {
    parseOr400(emptyQuery, req.query, 'query');
    return views.status();
  });

  app.get('/api/runs', async (req) => {
    const q = parseOr400(runsQuery, req.query, 'query');
    const items = ctx.store.serve.runs({
      limit: q.limit,
      ...(q.before !== undefined ? { before: q.before } : {}),
      ...(q.kind !== undefined ? { kind: q.kind } : {}),
      ...(q.status !== undefined ? { status: q.status } : {}),
    });
    const last = items[items.length - 1];
    return { items, next: items.length === q.limit && last ? last.id : null };
  });

  app.get('/api/runs/:id', async (req) => {
    const p = parseOr400(idParams, req.params, 'params');
    return views.runDetail(p.id);
  });

  app.get('/api/segments', async (req) => {
    parseOr400(emptyQuery, req.query, 'query');
    return views.segments();
  });

  app.get('/api/segments/:id/members', async (req) => {
    const p = parseOr400(segmentParams, req.params, 'params');
    const q = parseOr400(membersQuery, req.query, 'query');
    return views.members(p.id, q.after, q.limit);
  });

  app.get('/api/push/plan', async (req) => {
    parseOr400(emptyQuery, req.query, 'query');
    return views.plan();
  });

  app.get('/api/report', async (req) => {
    const q = parseOr400(reportQuery, req.query, 'query');
    return views.report(q.known);
  });

  const name = (list: readonly string[], what: string) =>
    z.string().refine((v) => list.includes(v), { message: `no ${what} with that name (configured: ${list.join(', ') || 'none'})` });
  const syncBody = z.strictObject({ connector: name(connectorNames, 'connector').optional(), full: z.boolean().optional() });
  const segmentBody = z.strictObject({ k: z.number().int().min(2).max(50).optional(), algorithm: z.enum(['auto', 'kmeans']).optional() });
  const pushBody = z.strictObject({
    connector: name(targetNames, 'push target').optional(),
    dryRun: z.boolean().optional(),
    approve: z.boolean().optional(),
  });

  const startJob = async <K extends JobKind>(kind: K, params: JobParams[K], reply: FastifyReply) => {
    const r = await runner.start(kind, 'manual', params);
    views.invalidate();
    if (r.started) {
      log.info({ run: r.runId, kind, params }, `run #${r.runId} (${kind}) started through the admin API`);
      return reply.code(202).header('location', `/api/runs/${r.runId}`).send({ runId: r.runId, kind, status: 'running', url: `/api/runs/${r.runId}` });
    }
    if (r.reason === 'stopping') throw new HttpError(503, 'SHUTTING_DOWN', r.message);
    const held = r.heldBy;
    throw new HttpError(409, 'RUN_LOCKED', held ? `run #${held.runId}${held.kind ? ` (${held.kind})` : ''} is in progress; try again when it has finished` : r.message, {
      extra: { heldBy: held ? { runId: held.runId, kind: held.kind, trigger: held.trigger, startedAt: held.startedAt } : null },
    });
  };

  app.post('/api/sync', async (req, reply) => {
    const b = parseOr400(syncBody, req.body, 'body');
    return startJob('sync', b, reply);
  });
  app.post('/api/segment', async (req, reply) => {
    const b = parseOr400(segmentBody, req.body, 'body');
    return startJob('segment', b, reply);
  });
  app.post('/api/push', async (req, reply) => {
    const b = parseOr400(pushBody, req.body, 'body');
    return startJob('push', b, reply);
  });

  return app;
}
