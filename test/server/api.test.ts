/**
 * The admin API in process (Fastify inject) on a demo store synced from the
 * CSV connector: auth, rate limit on failures, validation, 202/409, and every
 * read endpoint against what the store holds.
 */
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { createHash } from 'node:crypto';
import { hostname } from 'node:os';
import type { FastifyInstance } from 'fastify';
import { openStore, type Store } from '../../src/store/index.js';
import { JobRunner, PIPELINE_LEASE } from '../../src/schedule/runner.js';
import { buildServer } from '../../src/server/app.js';
import { bearerChecker, isLoopbackHost } from '../../src/server/auth.js';
import { RFM_COLUMNS } from '../../src/features/build.js';
import { marks, parse } from '../report/fixture.js';
import { baseContext, demoProject, projectConfig, TOKEN, waitFor, type DemoProject } from './fixture.js';

type Json = Record<string, unknown> & { error?: { code: string; field?: string; message: string } };

let project: DemoProject;
let store: Store;
let runner: JobRunner;
let app: FastifyInstance;

async function call(method: 'GET' | 'POST', url: string, opts: { token?: string | null; body?: unknown; ip?: string; raw?: string; headers?: Record<string, string> } = {}) {
  const token = opts.token === undefined ? TOKEN : opts.token;
  const res = await app.inject({
    method,
    url,
    headers: {
      ...(token !== null ? { authorization: `Bearer ${token}` } : {}),
      ...(opts.body !== undefined || opts.raw !== undefined ? { 'content-type': 'application/json' } : {}),
      ...opts.headers,
    },
    ...(opts.body !== undefined ? { payload: JSON.stringify(opts.body) } : opts.raw !== undefined ? { payload: opts.raw } : {}),
    ...(opts.ip ? { remoteAddress: opts.ip } : {}),
  });
  return { status: res.statusCode, headers: res.headers, body: (String(res.headers['content-type'] ?? '').includes('json') ? res.json() : {}) as Json, text: res.body };
}
const get = (url: string, token?: string | null) => call('GET', url, { token });

/** POSTs a job, expects 202, waits for its run to finish. */
async function runJob(path: string, body: unknown = {}): Promise<Json & { id: number; status: string; counts: Record<string, unknown> }> {
  const r = await call('POST', path, { body });
  expect(r.status, JSON.stringify(r.body)).toBe(202);
  const id = r.body.runId as number;
  return waitFor(async () => {
    const d = await get(`/api/runs/${id}`);
    const run = d.body.run as { status: string };
    return run.status === 'running' ? undefined : (run as Json & { id: number; status: string; counts: Record<string, unknown> });
  }, 20_000, `run #${id}`);
}

beforeAll(async () => {
  project = await demoProject(2000, { maxChurn: 0 });
  const config = projectConfig(project.config);
  store = openStore(config.store);
  const ctx = baseContext(config, store);
  runner = new JobRunner({ base: ctx });
  app = await buildServer({ ctx, runner, token: TOKEN, authFailures: { max: 1000, windowMs: 60_000 } });
  expect((await runJob('/api/sync')).status).toBe('succeeded');
  expect((await runJob('/api/segment')).status).toBe('succeeded');
});

afterAll(async () => {
  await runner?.stop(5_000);
  await app?.close();
  store?.close();
});

describe('auth', () => {
  it('GET /health needs no token; every answer carries the security headers', async () => {
    const r = await get('/health', null);
    expect(r.status).toBe(200);
    expect(r.body).toEqual({ ok: true });
    for (const res of [r, await get('/api/status', null), await get('/api/status')]) {
      expect(res.headers['x-content-type-options']).toBe('nosniff');
      expect(res.headers['content-security-policy']).toMatch(/default-src 'none'/);
      expect(res.headers['x-frame-options']).toBe('SAMEORIGIN');
    }
  });

  it('401 without a token, with a wrong or malformed one; 200 with the right one', async () => {
    const none = await get('/api/status', null);
    expect(none.status).toBe(401);
    expect(none.headers['www-authenticate']).toMatch(/^Bearer/);
    expect(none.body.error?.code).toBe('UNAUTHORIZED');
    expect((await get('/api/status', `${TOKEN}x`)).status).toBe(401);
    expect((await get('/api/status', TOKEN.slice(0, -1))).status).toBe(401);
    expect((await call('GET', '/api/status', { token: null, headers: { authorization: TOKEN } })).status).toBe(401);
    expect((await call('GET', '/api/status', { token: null, headers: { authorization: `Basic ${TOKEN}` } })).status).toBe(401);
    expect((await call('POST', '/api/sync', { token: 'nope', body: {} })).status).toBe(401);
    expect((await get('/api/status')).status).toBe(200);
    expect((await call('GET', '/api/status', { token: null, headers: { authorization: `bearer   ${TOKEN}` } })).status).toBe(200);
  });

  it('deny by default: unknown and encoded /api paths need the token too', async () => {
    expect((await get('/api/nope', null)).status).toBe(401);
    expect((await get('/api/nope')).status).toBe(404);
    const encoded = await get('/%61pi/status', null);
    expect([401, 404]).toContain(encoded.status);
    expect(encoded.text).not.toMatch(/connectors/);
    expect((await get('/api/status/', null)).status).toBe(401);
  });

  it('repeated failures from one address get 429 whatever the token, until the window ends; other addresses are not affected', async () => {
    const ctx = baseContext(projectConfig(project.config), store);
    const app2 = await buildServer({ ctx, runner, token: TOKEN, authFailures: { max: 3, windowMs: 700 } });
    const hit = async (token: string, ip: string) => (await app2.inject({ method: 'GET', url: '/api/status', headers: { authorization: `Bearer ${token}` }, remoteAddress: ip })).statusCode;
    try {
      expect([await hit('bad1', '10.1.1.1'), await hit('bad2', '10.1.1.1'), await hit('bad3', '10.1.1.1')]).toEqual([401, 401, 401]);
      const limited = await app2.inject({ method: 'GET', url: '/api/status', headers: { authorization: 'Bearer bad4' }, remoteAddress: '10.1.1.1' });
      expect(limited.statusCode).toBe(429);
      expect(Number(limited.headers['retry-after'])).toBeGreaterThan(0);
      expect(await hit(TOKEN, '10.1.1.1')).toBe(429);
      expect(await hit(TOKEN, '10.2.2.2')).toBe(200);
      await new Promise((r) => setTimeout(r, 800));
      expect(await hit(TOKEN, '10.1.1.1')).toBe(200);
    } finally {
      await app2.close();
    }
  });

  it('bearer comparison and the loopback rule', () => {
    const ok = bearerChecker('s3cret-token-of-some-length');
    expect(ok('Bearer s3cret-token-of-some-length')).toBe(true);
    expect(ok('Bearer s3cret-token-of-some-lengtH')).toBe(false);
    expect(ok('Bearer ')).toBe(false);
    expect(ok(undefined)).toBe(false);
    expect(() => bearerChecker('')).toThrow();
    for (const h of ['127.0.0.1', '127.1.2.3', 'localhost', '::1', '[::1]', '::ffff:127.0.0.1']) expect(isLoopbackHost(h), h).toBe(true);
    for (const h of ['0.0.0.0', '::', '192.168.1.10', 'example.com', '128.0.0.1']) expect(isLoopbackHost(h), h).toBe(false);
  });
});

describe('validation: 400 naming the field', () => {
  it.each([
    ['POST', '/api/sync', { full: 'yes' }, 'full', /expected boolean/],
    ['POST', '/api/sync', { connector: 'nope' }, 'connector', /configured: files/],
    ['POST', '/api/sync', { fulll: true }, 'fulll', /unknown field \(accepted: connector, full\)/],
    ['POST', '/api/segment', { k: 1 }, 'k', /2/],
    ['POST', '/api/segment', { algorithm: 'magic' }, 'algorithm', /kmeans/],
    ['POST', '/api/push', { approve: 1 }, 'approve', /boolean/],
    ['POST', '/api/push', { connector: 'hubspot' }, 'connector', /push target/],
    ['GET', '/api/runs?limit=abc', undefined, 'limit', /number/],
    ['GET', '/api/runs?limit=100000', undefined, 'limit', /500/],
    ['GET', '/api/runs?kind=bogus', undefined, 'kind', /sync/],
    ['GET', '/api/runs/abc', undefined, 'id', /run number/],
    ['GET', '/api/segments/seg_1/members?limit=0', undefined, 'limit', /1/],
    ['GET', '/api/status?verbose=1', undefined, 'verbose', /unknown field/],
  ] as const)('%s %s %j -> field %s', async (method, url, body, field, msg) => {
    const r = await call(method, url, body === undefined ? {} : { body });
    expect(r.status, JSON.stringify(r.body)).toBe(400);
    expect(r.body.error?.code).toBe('INVALID_REQUEST');
    expect(r.body.error?.field).toBe(field);
    expect(r.body.error?.message).toContain(field);
    expect(r.body.error?.message).toMatch(msg);
  });

  it('malformed JSON and non-object bodies are 400; an empty body means no options', async () => {
    const bad = await call('POST', '/api/segment', { raw: '{"k": ' });
    expect(bad.status).toBe(400);
    expect(bad.body.error?.message).toMatch(/JSON/i);
    const arr = await call('POST', '/api/segment', { body: [1] });
    expect(arr.status).toBe(400);
    expect(arr.body.error?.message).toMatch(/JSON object/);
    const empty = await call('POST', '/api/segment', { raw: '' });
    expect(empty.status, JSON.stringify(empty.body)).toBe(202);
    await waitFor(() => runner.running().length === 0 || undefined, 20_000, 'the segment run to finish');
    expect(store.runs.get(empty.body.runId as number)?.status).toBe('succeeded');
  });
});

describe('jobs through the API', () => {
  it('POST /api/sync answers 202 with the run id at once; the run then succeeds with its counts', async () => {
    const t0 = Date.now();
    const r = await call('POST', '/api/sync', { body: { connector: 'files', full: true } });
    expect(r.status).toBe(202);
    expect(Date.now() - t0).toBeLessThan(1_000);
    expect(r.headers.location).toBe(`/api/runs/${r.body.runId as number}`);
    expect(r.body).toMatchObject({ kind: 'sync', status: 'running' });
    const run = await waitFor(async () => {
      const d = (await get(`/api/runs/${r.body.runId as number}`)).body.run as { status: string; trigger: string; counts: { read?: number } };
      return d.status === 'running' ? undefined : d;
    }, 20_000, 'the sync');
    expect(run).toMatchObject({ status: 'succeeded', trigger: 'manual' });
    expect(run.counts.read).toBe(project.demo.contacts + project.demo.transactions);
  });

  it('409 with the holder run id while a job runs in this process', async () => {
    const a = await call('POST', '/api/sync', { body: { full: true } });
    expect(a.status).toBe(202);
    const b = await call('POST', '/api/segment', { body: {} });
    expect(b.status).toBe(409);
    expect(b.body.error?.code).toBe('RUN_LOCKED');
    expect(b.body.heldBy).toMatchObject({ runId: a.body.runId, kind: 'sync', trigger: 'manual' });
    expect(b.body.error?.message).toContain(`#${a.body.runId as number}`);
    await waitFor(() => runner.running().length === 0 || undefined, 20_000, 'the sync');
  });

  it('409 with the holder run id while another process holds the lease', async () => {
    const now = new Date().toISOString();
    const other = store.runs.start('push', 'schedule', now);
    // a live process that is not us: our parent
    const holder = `${hostname()}:${process.ppid}:other-process`;
    expect(store.runs.acquireLease(PIPELINE_LEASE, other, holder, 60_000, Date.now()).ok).toBe(true);
    try {
      const r = await call('POST', '/api/sync', { body: {} });
      expect(r.status).toBe(409);
      expect(r.body.heldBy).toMatchObject({ runId: other, kind: 'push', trigger: 'schedule' });
      const st = await get('/api/status');
      expect(st.body.running).toMatchObject({ runId: other, ours: false });
    } finally {
      store.runs.releaseLease(PIPELINE_LEASE, holder);
      store.runs.finish(other, 'succeeded', {}, null, now);
    }
  });
});

describe('read endpoints', () => {
  it('GET /api/status: connectors with last sync per stream and cursor, quarantine counts, model, runs, schedule', async () => {
    const r = await get('/api/status');
    expect(r.status).toBe(200);
    const s = r.body as unknown as {
      counts: { customers: number; quarantined: number };
      connectors: { name: string; type: string; lastSyncAt: string; pushTarget: boolean; streams: { stream: string; complete: boolean; cursor: { offset: number } }[] }[];
      quarantine: { total: number; reasons: { reason: string; count: number }[]; moreReasons: number };
      model: { id: number; k: number } | null;
      lastRuns: { sync: { status: string } };
      running: unknown;
      schedule: unknown;
    };
    expect(s.counts.customers).toBe(2000);
    expect(s.connectors).toHaveLength(1);
    expect(s.connectors[0]).toMatchObject({ name: 'files', type: 'csv', pushTarget: true });
    expect(s.connectors[0]?.streams.map((x) => [x.stream, x.complete])).toEqual([
      ['contacts', true],
      ['transactions', true],
    ]);
    expect(s.connectors[0]?.streams[1]?.cursor.offset).toBeGreaterThan(0);
    expect(s.quarantine.total).toBe(s.counts.quarantined);
    expect(s.quarantine.total).toBeGreaterThan(0);
    expect(s.quarantine.reasons.length).toBeLessThanOrEqual(20);
    expect(s.quarantine.reasons[0]?.count).toBeGreaterThanOrEqual(s.quarantine.reasons.at(-1)?.count ?? 0);
    const groups = store.status.quarantineGroups();
    expect(s.quarantine.reasons).toEqual(groups.slice(0, 20));
    expect(s.quarantine.moreReasons).toBe(Math.max(0, groups.length - 20));
    expect(s.model?.k).toBeGreaterThanOrEqual(3);
    expect(s.lastRuns.sync.status).toBe('succeeded');
    expect(s.running).toBeNull();
    expect(s.schedule).toBeNull();
  });

  it('GET /api/runs pages backwards and filters; /api/runs/:id carries quarantine and the model comparison table', async () => {
    const all = (await get('/api/runs?limit=500')).body.items as { id: number; kind: string; status: string }[];
    const p1 = await get('/api/runs?limit=2');
    const items1 = p1.body.items as { id: number }[];
    expect(items1.map((x) => x.id)).toEqual(all.slice(0, 2).map((x) => x.id));
    const p2 = await get(`/api/runs?limit=2&before=${p1.body.next as number}`);
    expect((p2.body.items as { id: number }[]).map((x) => x.id)).toEqual(all.slice(2, 4).map((x) => x.id));
    const syncs = (await get('/api/runs?kind=sync&status=succeeded')).body.items as { kind: string; status: string }[];
    expect(syncs.length).toBeGreaterThan(0);
    expect(syncs.every((x) => x.kind === 'sync' && x.status === 'succeeded')).toBe(true);

    const seg = all.find((x) => x.kind === 'segment' && x.status === 'succeeded');
    const d = (await get(`/api/runs/${seg?.id}`)).body as { model: { candidates: { algorithm: string; k: number; chosen: boolean }[] } };
    expect(d.model.candidates.filter((c) => c.algorithm === 'kmeans').map((c) => c.k)).toEqual([3, 4, 5]);
    expect(new Set(d.model.candidates.map((c) => c.algorithm))).toEqual(new Set(['kmeans', 'gmm', 'hierarchical', 'dbscan']));
    expect(d.model.candidates.filter((c) => c.chosen)).toHaveLength(1);
    const firstSync = all.filter((x) => x.kind === 'sync').at(-1);
    const sd = (await get(`/api/runs/${firstSync?.id}`)).body as { quarantine: { groups: { count: number }[]; first: { reason: string }[] }; model: unknown };
    expect(sd.quarantine.groups.length).toBeGreaterThan(0);
    expect(sd.quarantine.first.length).toBeGreaterThan(0);
    expect(sd.model).toBeNull();
    const missing = await get('/api/runs/999999');
    expect(missing.status).toBe(404);
    expect(missing.body.error?.field).toBe('id');
  });

  it('GET /api/segments and every member of a segment, page by page', async () => {
    const r = (await get('/api/segments')).body as { modelId: number; total: number; items: { id: string; size: number; share: number; revenueShare: number; description: string }[] };
    expect(r.total).toBe(2000);
    expect(r.items.reduce((a, s) => a + s.size, 0)).toBe(2000);
    expect(r.items.reduce((a, s) => a + s.share, 0)).toBeCloseTo(1, 6);
    expect(r.items.reduce((a, s) => a + s.revenueShare, 0)).toBeCloseTo(1, 6);
    expect(r.items.every((s) => s.description.length > 0)).toBe(true);
    const seg = r.items[0];
    if (!seg) throw new Error('no segment');
    const seen = new Set<string>();
    let after = '';
    let pages = 0;
    for (;;) {
      const page = (await get(`/api/segments/${seg.id}/members?limit=150${after ? `&after=${encodeURIComponent(after)}` : ''}`)).body as {
        total: number;
        items: { customerId: string; contacts: string[]; email: string | null }[];
        next: string | null;
      };
      expect(page.total).toBe(seg.size);
      for (const m of page.items) {
        expect(seen.has(m.customerId)).toBe(false);
        seen.add(m.customerId);
        expect(m.contacts[0]).toMatch(/^files:/);
      }
      pages++;
      if (!page.next) break;
      after = page.next;
    }
    expect(seen.size).toBe(seg.size);
    expect(pages).toBe(Math.floor(seg.size / 150) + 1);
    expect((await get('/api/segments/seg_none/members')).status).toBe(404);
  });

  it('GET /api/push/plan: all adds before the first push, nothing after it; held after a retrain above maxChurn until approved', async () => {
    const before = (await get('/api/push/plan')).body as { held: boolean; adds: number; removes: number; churn: number | null; targets: { target: string; segments: unknown[] }[] };
    expect(before).toMatchObject({ held: false, removes: 0, churn: null });
    expect(before.adds).toBe(2000 + project.demo.dirtyByKind.duplicate_email);
    expect(before.targets[0]?.target).toBe('files');

    const dry = await runJob('/api/push', { dryRun: true });
    expect(dry.status).toBe('succeeded');
    expect(dry.counts).toMatchObject({ dryRun: true, written: 0, adds: before.adds });
    const pushed = await runJob('/api/push');
    expect(pushed.status).toBe('succeeded');
    expect(pushed.counts).toMatchObject({ written: before.adds, failed: 0 });
    expect((await get('/api/push/plan')).body).toMatchObject({ adds: 0, removes: 0, held: false });

    const k = ((await get('/api/status')).body.model as { k: number }).k;
    expect((await runJob('/api/segment', { k: k === 3 ? 4 : 3 })).status).toBe('succeeded');
    const plan = (await get('/api/push/plan')).body as { held: boolean; churn: number; adds: number; removes: number; heldRun: unknown };
    expect(plan.held).toBe(true);
    expect(plan.churn).toBeGreaterThan(0);
    expect(plan.adds).toBeGreaterThan(0);
    expect(plan.heldRun).toBeNull();
    const held = await runJob('/api/push');
    expect(held.status).toBe('held');
    expect((await get('/api/push/plan')).body).toMatchObject({ held: true, heldRun: { id: held.id, status: 'held' } });
    const approved = await runJob('/api/push', { approve: true });
    expect(approved.status).toBe('succeeded');
    expect(approved.counts).toMatchObject({ adds: plan.adds, removes: plan.removes, failed: 0 });
    expect((await get('/api/push/plan')).body).toMatchObject({ held: false, adds: 0, removes: 0, heldRun: null, lastPush: { id: approved.id } });
  });
});

describe('report charts for the dashboard', () => {
  it('GET /api/report: the report sections with their charts, one render per store version, 401 without the token', async () => {
    expect((await get('/api/report', null)).status).toBe(401);
    expect((await get('/api/report?bogus=1')).status).toBe(400);
    const r = await get('/api/report');
    expect(r.status).toBe(200);
    const body = r.body as unknown as { key: string; modelId: number; sections: { id: string; title: string; html: string }[] };
    const status = (await get('/api/status')).body as { model: { id: number } };
    expect(body.modelId).toBe(status.model.id);
    expect(body.sections.map((s) => s.id)).toEqual(['overview', 'segments', 'map', 'profiles', 'moves', 'model', 'quality']);
    const doc = parse(`<div>${body.sections.map((s) => s.html).join('')}</div>`);
    const segs = ((await get('/api/segments')).body as { items: { id: string; profile: { fixed?: boolean } }[] }).items;
    expect(marks(doc, 'sizes', 'bars')).toHaveLength(segs.length);
    expect(marks(doc, 'heatmap', 'cells')).toHaveLength(segs.filter((s) => s.profile.fixed !== true).length * RFM_COLUMNS.length);
    expect(doc.querySelectorAll('article.ss-card')).toHaveLength(segs.length);
    expect(body.sections.map((s) => s.html).join('')).not.toMatch(/<script|\son[a-z]+=/i);

    // the caller's key is current: nothing is rendered or sent again
    expect((await get(`/api/report?known=${encodeURIComponent(body.key)}`)).body).toEqual({ key: body.key, unchanged: true });
    // a finished run makes a new version
    expect((await runJob('/api/push', { dryRun: true })).status).toBe('succeeded');
    const next = (await get(`/api/report?known=${encodeURIComponent(body.key)}`)).body as { key: string; unchanged?: boolean; sections?: unknown[] };
    expect(next.key).not.toBe(body.key);
    expect(next.unchanged).toBeUndefined();
    expect(next.sections).toHaveLength(7);
  });
});

describe('dashboard page', () => {
  it('GET / is public, self-contained, and its CSP allows exactly its inline script and style', async () => {
    const r = await get('/', null);
    expect(r.status).toBe(200);
    expect(r.headers['content-type']).toMatch(/text\/html/);
    const html = r.text;
    expect(html).not.toMatch(/<script[^>]+src=|<link[^>]+stylesheet|https?:\/\//);
    const hash = (s: string) => `'sha256-${createHash('sha256').update(s).digest('base64')}'`;
    const script = /<script>([\s\S]*?)<\/script>/.exec(html)?.[1] ?? '';
    const style = /<style>([\s\S]*?)<\/style>/.exec(html)?.[1] ?? '';
    const csp = String(r.headers['content-security-policy']);
    expect(csp).toContain(`script-src ${hash(script)}`);
    expect(csp).toContain(`style-src ${hash(style)}`);
    // markup from the API (the report's charts) may carry style attributes, never a script that runs
    expect(csp).toContain(`style-src-attr 'unsafe-inline'`);
    expect(csp).not.toMatch(/script-src[^;]*unsafe/);
    expect(html).toContain('Resync now');
    expect(script).toContain('sessionStorage');
    // the one place markup goes in: the report sections; every other value goes in as text
    expect(script.match(/innerHTML/g)).toHaveLength(1);
    expect(script).toMatch(/body\.innerHTML = s\.html;/);
  });
});
