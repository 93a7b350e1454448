/**
 * Load check of the admin API: N concurrent clients (default 200) send
 * GET /api/status back to back over keep-alive connections for D seconds
 * (default 30) on loopback, then print requests, throughput, errors and
 * latency percentiles. Exit 1 on any error.
 *
 *   npm run build:bench && node dist/bench/server-load.js                 # starts its own `segsync serve` on a demo store
 *   node dist/bench/server-load.js --customers 100000 --duration 10
 *   node dist/bench/server-load.js --url http://127.0.0.1:8787 --token "$SEGSYNC_ADMIN_TOKEN"   # an existing server
 *
 * The server runs in its own process (the built CLI), so client and server do
 * not share an event loop; on a small machine they still share the CPUs.
 */
import { spawnSync } from 'node:child_process';
import { Agent, request } from 'node:http';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { randomBytes } from 'node:crypto';
import { generateDemo } from '../src/demo/generate.js';
import { startServe } from './serve-child.js';

const root = resolve(import.meta.dirname, '../..');
const cli = join(root, 'dist/src/cli.js');
const argv = process.argv.slice(2);
const opt = (name: string, dflt: string): string => {
  const i = argv.indexOf(`--${name}`);
  return i >= 0 && argv[i + 1] ? (argv[i + 1] as string) : dflt;
};
const concurrency = Number(opt('concurrency', '200'));
const durationS = Number(opt('duration', '30'));
const path = opt('path', '/api/status');
const customers = Number(opt('customers', '20000'));

interface Target {
  url: URL;
  token: string;
  stop(): Promise<void>;
}

async function ownServer(): Promise<Target> {
  const dir = mkdtempSync(join(tmpdir(), 'segsync-load-'));
  process.stderr.write(`demo store with ${customers} customers in ${dir}...\n`);
  await generateDemo({ customers, outDir: join(dir, 'data'), seed: 42 });
  writeFileSync(
    join(dir, 'segsync.yaml'),
    `store: ./store.db
log: { level: warn, file: ./segsync.log }
connectors:
  - { name: files, type: csv, contacts: ./data/contacts.csv, transactions: ./data/transactions.csv }
features: { preset: rfm, asOf: 2026-06-30 }
segmentation: { k: { min: 3, max: 6 }, nInit: 2 }
push: { targets: [ { connector: files, file: ./out/memberships.csv } ] }
server: { port: 0, token: "\${SEGSYNC_ADMIN_TOKEN}" }
`,
  );
  const token = randomBytes(24).toString('hex');
  const env = { ...process.env, CI: '1', SEGSYNC_ADMIN_TOKEN: token };
  const run = spawnSync(process.execPath, [cli, 'run'], { cwd: dir, env, encoding: 'utf8' });
  if (run.status !== 0) throw new Error(`segsync run failed:\n${run.stderr}`);
  const serve = await startServe(cli, dir, env);
  return {
    url: serve.url,
    token,
    async stop() {
      serve.child.kill('SIGTERM');
      const code = await serve.exited;
      if (code !== 0) process.stderr.write(`segsync serve exited with ${code}:\n${serve.stderr()}\n`);
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

function pct(sorted: Float64Array, p: number): number {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)] ?? NaN;
}

async function main(): Promise<void> {
  const given = opt('url', '');
  const target: Target = given
    ? { url: new URL(given), token: opt('token', process.env.SEGSYNC_ADMIN_TOKEN ?? ''), stop: async () => {} }
    : await ownServer();
  const agent = new Agent({ keepAlive: true, maxSockets: concurrency, maxFreeSockets: concurrency });
  const latencies: number[] = [];
  const statuses = new Map<number, number>();
  const errors = new Map<string, number>();
  const end = performance.now() + durationS * 1000;

  const once = (): Promise<void> =>
    new Promise((resolveReq) => {
      const t0 = performance.now();
      const req = request(
        { host: target.url.hostname, port: target.url.port, path, agent, headers: { authorization: `Bearer ${target.token}` } },
        (res) => {
          res.resume();
          res.on('end', () => {
            latencies.push(performance.now() - t0);
            const code = res.statusCode ?? 0;
            statuses.set(code, (statuses.get(code) ?? 0) + 1);
            resolveReq();
          });
          res.on('error', (e) => {
            errors.set(e.message, (errors.get(e.message) ?? 0) + 1);
            resolveReq();
          });
        },
      );
      req.setTimeout(10_000, () => req.destroy(new Error('timeout after 10 s')));
      req.on('error', (e) => {
        errors.set(e.message, (errors.get(e.message) ?? 0) + 1);
        resolveReq();
      });
      req.end();
    });

  process.stderr.write(`${concurrency} concurrent clients, GET ${path} on ${target.url.origin} for ${durationS} s...\n`);
  const t0 = performance.now();
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (performance.now() < end) await once();
    }),
  );
  const elapsed = (performance.now() - t0) / 1000;
  agent.destroy();
  await target.stop();

  const sorted = Float64Array.from(latencies).sort();
  const non2xx = [...statuses].filter(([c]) => c < 200 || c >= 300).reduce((a, [, n]) => a + n, 0);
  const errorCount = non2xx + [...errors.values()].reduce((a, b) => a + b, 0);
  const result = {
    path,
    concurrency,
    seconds: Number(elapsed.toFixed(1)),
    requests: latencies.length,
    perSecond: Math.round(latencies.length / elapsed),
    errors: errorCount,
    statuses: Object.fromEntries(statuses),
    networkErrors: Object.fromEntries(errors),
    latencyMs: {
      p50: Number(pct(sorted, 50).toFixed(1)),
      p90: Number(pct(sorted, 90).toFixed(1)),
      p99: Number(pct(sorted, 99).toFixed(1)),
      max: Number((sorted[sorted.length - 1] ?? NaN).toFixed(1)),
    },
    cpus: cpus().length,
    node: process.version,
  };
  process.stdout.write(`${JSON.stringify(result)}\n`);
  process.stderr.write(
    `${result.requests} requests in ${result.seconds} s (${result.perSecond}/s), ${errorCount} errors; ` +
      `latency p50 ${result.latencyMs.p50} ms, p90 ${result.latencyMs.p90} ms, p99 ${result.latencyMs.p99} ms, max ${result.latencyMs.max} ms\n`,
  );
  process.exitCode = errorCount > 0 ? 1 : 0;
}

main().catch((e: unknown) => {
  process.stderr.write(`${e instanceof Error ? (e.stack ?? e.message) : String(e)}\n`);
  process.exitCode = 1;
});
