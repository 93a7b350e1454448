/**
 * One benchmark phase in its own process, so its peak RSS is its own. Prints one
 * JSON line: { phase, ms, maxRssMb, ...figures }.
 */
import { rmSync } from 'node:fs';
import { loadavg } from 'node:os';
import Database from 'better-sqlite3';
import { kmeans as mlKmeans } from 'ml-kmeans';
import { main } from '../src/cli/main.js';
import { openStore } from '../src/store/index.js';
import { buildFeatures, featureSpec } from '../src/features/build.js';
import { applyPrep, fitPrep, prepColumns } from '../src/features/prep.js';
import { kmeans } from '../src/ml/kmeans.js';
import { createRng } from '../src/ml/random.js';
import { featuresSchema } from '../src/config/schema.js';

const [phase, ...args] = process.argv.slice(2);

function report(figures: Record<string, unknown>): void {
  const maxRssMb = Math.round(process.resourceUsage().maxRSS / 1024);
  process.stdout.write(`${JSON.stringify({ phase, maxRssMb, ...figures })}\n`);
}

async function run(): Promise<void> {
  switch (phase) {
    case 'insert-reference': {
      // plain better-sqlite3: the same row shape, random then sequential keys, 5,000 per transaction
      const [file, nArg] = args as [string, string];
      const n = Number(nArg);
      const out: Record<string, number> = {};
      for (const order of ['random', 'sequential'] as const) {
        rmSync(file, { force: true });
        rmSync(`${file}-wal`, { force: true });
        const db = new Database(file);
        db.pragma('journal_mode = WAL');
        db.pragma('synchronous = NORMAL');
        db.exec('CREATE TABLE t (id TEXT PRIMARY KEY, contact_id TEXT, amount REAL, currency TEXT, occurred_at TEXT, status TEXT, properties TEXT)');
        const ins = db.prepare('INSERT INTO t VALUES (?, ?, ?, ?, ?, ?, ?)');
        const rng = createRng(1);
        const tx = db.transaction((from: number, to: number) => {
          for (let i = from; i < to; i++) {
            const key = order === 'random' ? Math.floor(rng.next() * 1e12).toString(36) + i : String(i).padStart(9, '0');
            ins.run(`files:t${key}`, `files:c${i % 100000}`, i * 0.5, 'USD', '2025-01-01T00:00:00.000Z', 'won', '{}');
          }
        });
        const t0 = performance.now();
        for (let i = 0; i < n; i += 5000) tx(i, Math.min(n, i + 5000));
        out[`${order}RowsPerSec`] = Math.round(n / ((performance.now() - t0) / 1000));
        db.close();
      }
      rmSync(file, { force: true });
      rmSync(`${file}-wal`, { force: true });
      report(out);
      return;
    }
    case 'sync': {
      const [config, storeFile] = args as [string, string];
      const start = Date.now();
      const cpu0 = process.cpuUsage();
      const load = loadavg()[0];
      const t0 = performance.now();
      const code = await main(['--config', config, '--json', 'sync', '--full']);
      const ms = Math.round(performance.now() - t0);
      const cpu = process.cpuUsage(cpu0);
      // each page commit stamps its stream's cursor: the last stamp is when the stream ended
      const db = new Database(storeFile, { readonly: true });
      const ended = new Map(
        db
          .prepare<[], { stream: string; updated_at: string }>('SELECT stream, updated_at FROM sync_state')
          .all()
          .map((r) => [r.stream, Date.parse(r.updated_at)]),
      );
      db.close();
      const contactsEnd = ended.get('contacts') ?? start;
      report({
        ms,
        exitCode: code,
        // both threads (parser worker and store writer), so a busy machine shows as wall time above CPU time
        cpuMs: Math.round((cpu.user + cpu.system) / 1000),
        contactsMs: contactsEnd - start,
        transactionsMs: (ended.get('transactions') ?? contactsEnd) - contactsEnd,
        loadBefore: Number(load?.toFixed(1)),
        loadAfter: Number(loadavg()[0]?.toFixed(1)),
      });
      return;
    }
    case 'features-kmeans': {
      const [storeFile, kArg, withReference] = args as [string, string, string | undefined];
      const k = Number(kArg);
      const store = openStore(storeFile, { readonly: true });
      const t0 = performance.now();
      const spec = featureSpec(featuresSchema.parse({ preset: 'rfm', asOf: '2026-06-30' }), new Date());
      const fm = buildFeatures(store.features, spec);
      if (!spec.prep) throw new Error('featureSpec gave no prep options');
      const prep = fitPrep(fm, spec.prep);
      const X = applyPrep(prep, fm);
      const d = prepColumns(prep).length;
      const tFeatures = performance.now();
      const m = kmeans(X, fm.n, d, k, { seed: 42, nInit: 1 });
      const tKmeans = performance.now();
      const figures: Record<string, unknown> = {
        rows: fm.n,
        d,
        featuresMs: Math.round(tFeatures - t0),
        kmeansMs: Math.round(tKmeans - tFeatures),
        inertia: m.inertia,
        iterations: m.iterations,
      };
      if (withReference === 'ref') {
        const rows: number[][] = new Array<number[]>(fm.n);
        for (let i = 0; i < fm.n; i++) rows[i] = Array.from(X.subarray(i * d, (i + 1) * d));
        const r0 = performance.now();
        const ref = mlKmeans(rows, k, { seed: 42, initialization: 'kmeans++', maxIterations: 300 });
        figures.mlKmeansMs = Math.round(performance.now() - r0);
        figures.mlKmeansIterations = ref.iterations;
      }
      store.close();
      report(figures);
      return;
    }
    case 'segment': {
      const [config] = args as [string];
      const t0 = performance.now();
      const code = await main(['--config', config, '--json', 'segment']);
      report({ ms: Math.round(performance.now() - t0), exitCode: code });
      return;
    }
    default:
      throw new Error(`unknown phase ${phase}`);
  }
}

await run();
