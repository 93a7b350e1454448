/**
 * Webhook ingestion: `segsync serve` takes HubSpot webhook deliveries at a
 * steady rate (default 10,000 events in 60 s, one event per delivery, 5 % of
 * them redelivered) while it applies them, then the bench waits for the queue
 * to drain and checks nothing was lost:
 *
 *   accepted + duplicates = events sent, every delivery answered 200,
 *   processed (events the realtime runs applied) = accepted.
 *
 * It prints the delivery answer latency (p50/p99), the achieved rate against
 * the target (a ratio: 1.0 means the server kept up), the realtime runs and
 * how long an event waited from receipt to applied (per run: its oldest event).
 *
 *   npm run build:bench && node dist/bench/webhooks.js [--customers 20000] [--events 10000] [--seconds 60]
 *
 * The server runs in its own process (the built CLI) on a demo store trained
 * with the CSV connector; a loopback fake HubSpot answers its batch reads with
 * contacts carrying the demo customers' emails, so each event re-reads a
 * contact, assigns its customer with the active model and pushes it (to the
 * memberships file).
 */
import { spawnSync } from 'node:child_process';
import { createServer, request, Agent, type Server } from 'node:http';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir, cpus } from 'node:os';
import { join, resolve } from 'node:path';
import { randomBytes } from 'node:crypto';
import { generateDemo } from '../src/demo/generate.js';
import { signatureV3 } from '../connectors/hubspot/webhooks.js';
import { startServe } from './serve-child.js';

const root = resolve(import.meta.dirname, '../..');
const cli = join(root, 'dist/src/cli.js');
const argv = process.argv.slice(2);
const opt = (name: string, dflt: string): string => {
  const i = argv.indexOf(`--${name}`);
  return i >= 0 && argv[i + 1] ? (argv[i + 1] as string) : dflt;
};
const customers = Number(opt('customers', '20000'));
const events = Number(opt('events', '10000'));
const seconds = Number(opt('seconds', '60'));
const duplicateShare = Number(opt('duplicates', '0.05'));
const SECRET = randomBytes(16).toString('hex');

/** The demo contacts' emails, by row: HubSpot contact id i+1 is demo row i. */
function demoEmails(file: string): string[] {
  const out: string[] = [];
  for (const line of readFileSync(file, 'utf8').split('\n').slice(1)) {
    const [, email] = line.split(',', 3);
    if (email && /^[^@\s",]+@[^@\s",]+\.[a-z]+$/i.test(email)) out.push(email);
  }
  return out;
}

/** Just the HubSpot endpoints a webhook run calls: contacts batch read, and contact -> deal associations (none). */
function fakeHubspot(emails: readonly string[]): Promise<{ server: Server; url: string; reads: () => number }> {
  let reads = 0;
  const server = createServer((req, res) => {
    let body = '';
    req.on('data', (d: Buffer) => (body += d.toString()));
    req.on('end', () => {
      const now = new Date().toISOString();
      const send = (status: number, json: unknown): void => {
        res.writeHead(status, { 'content-type': 'application/json' });
        res.end(JSON.stringify(json));
      };
      if (req.method === 'POST' && req.url?.startsWith('/crm/v3/objects/contacts/batch/read')) {
        reads++;
        const inputs = (JSON.parse(body) as { inputs: { id: string }[] }).inputs;
        const results = inputs.map(({ id }) => ({
          id,
          properties: { hs_object_id: id, email: emails[(Number(id) - 1) % emails.length] ?? null, createdate: '2024-01-01T00:00:00.000Z', lastmodifieddate: now },
          createdAt: '2024-01-01T00:00:00.000Z',
          updatedAt: now,
          archived: false,
        }));
        return send(200, { status: 'COMPLETE', results, startedAt: now, completedAt: now });
      }
      if (req.method === 'POST' && req.url?.startsWith('/crm/v4/associations/contacts/deals/batch/read')) {
        return send(200, { status: 'COMPLETE', results: [], startedAt: now, completedAt: now });
      }
      send(404, { status: 'error', message: `fake HubSpot: no route ${req.method} ${req.url}`, category: 'OBJECT_NOT_FOUND' });
    });
  });
  return new Promise((r) => server.listen(0, '127.0.0.1', () => {
    const a = server.address();
    r({ server, url: `http://127.0.0.1:${typeof a === 'object' && a ? a.port : 0}`, reads: () => reads });
  }));
}

function pct(sorted: Float64Array, p: number): number {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)] ?? NaN;
}

const cliRun = (dir: string, env: NodeJS.ProcessEnv, ...args: string[]): void => {
  const r = spawnSync(process.execPath, [cli, ...args], { cwd: dir, env, encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`segsync ${args.join(' ')} failed:\n${r.stderr}`);
};

async function main(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'segsync-webhooks-'));
  process.stderr.write(`demo store with ${customers} customers in ${dir}...\n`);
  await generateDemo({ customers, outDir: join(dir, 'data'), seed: 42 });
  const emails = demoEmails(join(dir, 'data/contacts.csv'));
  const hub = await fakeHubspot(emails);
  const token = randomBytes(24).toString('hex');
  writeFileSync(
    join(dir, 'segsync.yaml'),
    `store: ./store.db
log: { level: warn, file: ./segsync.log }
connectors:
  - { name: files, type: csv, contacts: ./data/contacts.csv, transactions: ./data/transactions.csv }
  - { name: hs, type: hubspot, accessToken: pat-bench-0000, baseUrl: ${hub.url}, rateLimit: { requestsPer10s: 10000 } }
features: { preset: rfm, asOf: 2026-06-30 }
segmentation: { algorithm: kmeans, k: 5, nInit: 2 }
push: { maxChurn: 1, targets: [ { connector: files, file: ./out/memberships.csv } ] }
server: { port: 0, token: "\${SEGSYNC_ADMIN_TOKEN}" }
realtime:
  hubspot: { clientSecret: "\${HUBSPOT_CLIENT_SECRET}" }
  batchWindow: 1s
  maxBatch: 2000
`,
  );
  const env = { ...process.env, CI: '1', SEGSYNC_ADMIN_TOKEN: token, HUBSPOT_CLIENT_SECRET: SECRET };
  process.stderr.write('training the model (sync files, segment, push)...\n');
  cliRun(dir, env, 'sync', '--connector', 'files');
  cliRun(dir, env, 'segment');
  cliRun(dir, env, 'push');

  const serve = await startServe(cli, dir, env);
  const base = serve.url.origin;
  const url = serve.url;
  const agent = new Agent({ keepAlive: true, maxSockets: 32 });

  const post = (body: string): Promise<{ status: number; json: Record<string, number>; ms: number }> =>
    new Promise((resolveReq) => {
      const ts = String(Date.now());
      const t0 = performance.now();
      const req = request(
        {
          host: url.hostname,
          port: url.port,
          path: '/webhooks/hubspot',
          method: 'POST',
          agent,
          headers: {
            'content-type': 'application/json',
            'x-hubspot-request-timestamp': ts,
            'x-hubspot-signature-v3': signatureV3(SECRET, 'POST', `${base}/webhooks/hubspot`, body, ts),
          },
        },
        (res) => {
          let text = '';
          res.on('data', (d: Buffer) => (text += d.toString()));
          res.on('end', () => {
            let json: Record<string, number> = {};
            try {
              json = JSON.parse(text) as Record<string, number>;
            } catch {
              // counted as an error below
            }
            resolveReq({ status: res.statusCode ?? 0, json, ms: performance.now() - t0 });
          });
        },
      );
      req.on('error', () => resolveReq({ status: 0, json: {}, ms: performance.now() - t0 }));
      req.end(body);
    });

  const api = async (path: string): Promise<Record<string, unknown>> => {
    const res = await fetch(`${base}${path}`, { headers: { authorization: `Bearer ${token}` } });
    return (await res.json()) as Record<string, unknown>;
  };

  // events: random contacts; a share of deliveries repeats an earlier event (HubSpot retrying)
  let seed = 7;
  const rnd = (): number => ((seed = (seed * 1103515245 + 12345) % 2147483648) / 2147483648);
  const bodies: string[] = [];
  let fresh = 0;
  for (let i = 0; i < events; i++) {
    if (i > 10 && rnd() < duplicateShare) {
      bodies.push(bodies[Math.floor(rnd() * bodies.length)] as string);
      continue;
    }
    const contact = 1 + Math.floor(rnd() * emails.length);
    fresh++;
    bodies.push(
      JSON.stringify([
        { eventId: 1_000_000 + i, subscriptionId: 1, portalId: 1, appId: 1, occurredAt: Date.now(), subscriptionType: 'contact.propertyChange', attemptNumber: 0, objectId: contact, propertyName: 'lifecyclestage', propertyValue: 'customer', changeSource: 'CRM' },
      ]),
    );
  }

  process.stderr.write(`sending ${events} events in ${seconds} s (${duplicateShare * 100}% redelivered) to ${base}/webhooks/hubspot...\n`);
  const interval = (seconds * 1000) / events;
  const latencies: number[] = [];
  const statuses = new Map<number, number>();
  let accepted = 0;
  let duplicates = 0;
  const inflight = new Set<Promise<void>>();
  const t0 = performance.now();
  for (let i = 0; i < bodies.length; i++) {
    const due = t0 + i * interval;
    const wait = due - performance.now();
    if (wait > 1) await new Promise((r) => setTimeout(r, wait));
    const p = post(bodies[i] as string).then((r) => {
      latencies.push(r.ms);
      statuses.set(r.status, (statuses.get(r.status) ?? 0) + 1);
      accepted += r.json.accepted ?? 0;
      duplicates += r.json.duplicates ?? 0;
      inflight.delete(p);
    });
    inflight.add(p);
    if (inflight.size >= 256) await Promise.race(inflight);
  }
  await Promise.all(inflight);
  const sendSeconds = (performance.now() - t0) / 1000;
  const lastSent = performance.now();

  // drain: every accepted event applied by a realtime run
  process.stderr.write('waiting for the realtime runs to apply everything...\n');
  let processed = 0;
  let runs: { counts: Record<string, unknown>; status: string }[] = [];
  for (const deadline = Date.now() + 300_000; Date.now() < deadline; ) {
    const page = (await api('/api/runs?kind=realtime&limit=500')) as { items: { counts: Record<string, unknown>; status: string }[] };
    runs = page.items;
    processed = runs.reduce((n, r) => n + (typeof r.counts.events === 'number' ? r.counts.events : 0), 0);
    const running = runs.some((r) => r.status === 'running');
    if (processed >= accepted && !running) break;
    await new Promise((r) => setTimeout(r, 500));
  }
  const drainSeconds = (performance.now() - lastSent) / 1000;
  agent.destroy();
  serve.child.kill('SIGTERM');
  const code = await serve.exited;
  hub.server.close();

  const sorted = Float64Array.from(latencies).sort();
  const waits = Float64Array.from(runs.map((r) => Number(r.counts.latencyMs ?? NaN)).filter(Number.isFinite)).sort();
  const non200 = [...statuses].filter(([c]) => c !== 200).reduce((a, [, n]) => a + n, 0);
  const lost = accepted - processed;
  const result = {
    customers,
    events,
    distinctEventIds: fresh,
    seconds: Number(sendSeconds.toFixed(1)),
    ratePerMinute: Math.round((events / sendSeconds) * 60),
    rateVsTarget: Number((events / sendSeconds / (events / seconds)).toFixed(2)),
    accepted,
    duplicates,
    processed,
    lost,
    non200,
    statuses: Object.fromEntries(statuses),
    answerMs: { p50: Number(pct(sorted, 50).toFixed(1)), p99: Number(pct(sorted, 99).toFixed(1)), max: Number((sorted[sorted.length - 1] ?? NaN).toFixed(1)) },
    runs: runs.length,
    runStatuses: runs.reduce<Record<string, number>>((m, r) => ({ ...m, [r.status]: (m[r.status] ?? 0) + 1 }), {}),
    appliedWithinMs: { p50: Number(pct(waits, 50).toFixed(0)), max: Number((waits[waits.length - 1] ?? NaN).toFixed(0)) },
    drainSeconds: Number(drainSeconds.toFixed(1)),
    /** median time of a run's steps (store the fetched contacts, assign, push) */
    runStepMsMedian: Object.fromEntries(
      (['store', 'assign', 'push'] as const).map((k) => {
        const v = Float64Array.from(runs.map((r) => Number((r.counts.ms as Record<string, number> | undefined)?.[k] ?? NaN)).filter(Number.isFinite)).sort();
        return [k, Number(pct(v, 50).toFixed(0))];
      }),
    ),
    hubspotBatchReads: hub.reads(),
    serveExit: code,
    cpus: cpus().length,
  };
  rmSync(dir, { recursive: true, force: true });
  process.stdout.write(`${JSON.stringify(result)}\n`);
  process.stderr.write(
    `${events} events in ${result.seconds} s (${result.ratePerMinute}/min, ${result.rateVsTarget}x the target rate): ` +
      `${accepted} accepted + ${duplicates} duplicates, ${processed} applied by ${runs.length} realtime runs, ${lost} lost, ${non200} non-200; ` +
      `answer p50 ${result.answerMs.p50} ms, p99 ${result.answerMs.p99} ms; applied within p50 ${result.appliedWithinMs.p50} ms, max ${result.appliedWithinMs.max} ms of receipt\n`,
  );
  process.exitCode = lost !== 0 || non200 > 0 || accepted + duplicates !== events ? 1 : 0;
}

main().catch((e: unknown) => {
  process.stderr.write(`${e instanceof Error ? (e.stack ?? e.message) : String(e)}\n`);
  process.exitCode = 1;
});
