/**
 * `npm run bench`: CSV sync throughput into the store and features + k-means at
 * 1,000,000 customers / ~10,000,000 transactions, each phase in its own process
 * (peak RSS per phase), with plain better-sqlite3 inserts and ml-kmeans as
 * references measured in the same run.
 *
 * Then the ML kernels against scikit-learn (bench/ml-vs-sklearn.ts, its own
 * process).
 *
 *   npm run bench                        # 1,000,000 customers
 *   npm run bench -- --customers 100000  # a quicker look
 *   npm run bench -- --only sync         # plain inserts + CSV sync only
 *   npm run bench -- --only ml           # ML kernels vs scikit-learn only
 *   npm run bench -- --only webhooks     # webhook ingestion only (bench/webhooks.ts)
 *
 * Then webhook ingestion: 10,000 HubSpot events in a minute into `segsync serve`
 * (bench/webhooks.ts, its own processes), checked for loss.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { generateDemo } from '../src/demo/generate.js';

const root = resolve(import.meta.dirname, '../..');
const argv = process.argv.slice(2);
const opt = (name: string, dflt: string): string => {
  const i = argv.indexOf(`--${name}`);
  return i >= 0 && argv[i + 1] ? (argv[i + 1] as string) : dflt;
};
const customers = Number(opt('customers', '1000000'));
const out = resolve(root, 'bench/out');
const dataDir = join(out, `data-${customers}`);
mkdirSync(out, { recursive: true });

function phase(...args: string[]): Record<string, number> {
  const line = execFileSync(process.execPath, [join(root, 'dist/bench/phase.js'), ...args], {
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'inherit'],
    maxBuffer: 64 * 1024 * 1024,
  })
    .trim()
    .split('\n')
    .filter((l) => l.startsWith('{"phase"'))
    .pop();
  if (!line) throw new Error(`phase ${args[0]} printed no result`);
  return JSON.parse(line) as Record<string, number>;
}

/** ML kernels vs scikit-learn on 1,000,000 x 12 blobs; prints its own table. */
/** 10,000 webhook events in 60 s into `segsync serve` on a 20,000-customer store; its JSON line. */
function webhooks(): Record<string, unknown> {
  process.stderr.write('webhook ingestion (bench/webhooks.ts)...\n');
  const line = execFileSync(process.execPath, [join(root, 'dist/bench/webhooks.js'), '--customers', '20000', '--events', '10000', '--seconds', '60'], {
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'inherit'],
  })
    .trim()
    .split('\n')
    .pop();
  if (!line) throw new Error('bench/webhooks.ts printed no result');
  return JSON.parse(line) as Record<string, unknown>;
}

function mlVsSklearn(): void {
  process.stderr.write('ML kernels against scikit-learn (bench/ml-vs-sklearn.ts)...\n');
  execFileSync(process.execPath, [join(root, 'dist/bench/ml-vs-sklearn.js')], { stdio: ['ignore', 'inherit', 'inherit'] });
}

async function main(): Promise<void> {
  if (opt('only', '') === 'ml') {
    mlVsSklearn();
    return;
  }
  if (opt('only', '') === 'webhooks') {
    webhooks();
    return;
  }
  let generated = { contacts: 0, transactions: 0 };
  if (!existsSync(join(dataDir, 'transactions.csv'))) {
    process.stderr.write(`generating ${customers} customers into ${dataDir}...\n`);
    const t0 = performance.now();
    generated = await generateDemo({ customers, outDir: dataDir, seed: 42 });
    process.stderr.write(`  ${((performance.now() - t0) / 1000).toFixed(1)} s\n`);
  }
  const store = join(out, `bench-${customers}.db`);
  for (const f of [store, `${store}-wal`, `${store}-shm`]) rmSync(f, { force: true });
  const config = join(out, `bench-${customers}.yaml`);
  writeFileSync(
    config,
    `store: ${store}
log: { level: warn, file: ${join(out, 'bench.log')} }
connectors:
  - { name: files, type: csv, contacts: ${join(dataDir, 'contacts.csv')}, transactions: ${join(dataDir, 'transactions.csv')} }
features: { preset: rfm, asOf: 2026-06-30 }
segmentation: { k: { min: 3, max: 8 }, nInit: 2 }
`,
  );

  process.stderr.write('reference: plain better-sqlite3 inserts...\n');
  const ref = phase('insert-reference', join(out, 'reference.db'), String(Math.min(2_000_000, customers * 2)));
  process.stderr.write('segsync sync (full)...\n');
  const sync = phase('sync', config, store);
  const counts = JSON.parse(
    execFileSync(process.execPath, [join(root, 'dist/src/cli.js'), '--config', config, '--json', 'status'], { encoding: 'utf8' }),
  ) as { counts: { contacts: number; transactions: number; quarantined: number } };
  const rows = counts.counts.contacts + counts.counts.transactions + counts.counts.quarantined;
  const txPerSec = Math.round(counts.counts.transactions / ((sync.ms as number) / 1000));
  const txStreamPerSec = Math.round(counts.counts.transactions / ((sync.transactionsMs as number) / 1000));
  const vsRandom = Number((txPerSec / (ref.randomRowsPerSec as number)).toFixed(2));
  const vsSequential = Number((txPerSec / (ref.sequentialRowsPerSec as number)).toFixed(2));
  const syncLines = [
    `customers                     ${customers}`,
    `sync: transactions/s          ${txPerSec} over the whole sync (${((sync.ms as number) / 1000).toFixed(1)} s, CPU ${((sync.cpuMs as number) / 1000).toFixed(1)} s on both threads; peak RSS ${sync.maxRssMb} MB)`,
    `  by stream                   contacts ${((sync.contactsMs as number) / 1000).toFixed(1)} s, transactions ${((sync.transactionsMs as number) / 1000).toFixed(1)} s (${txStreamPerSec} tx/s); all rows/s ${Math.round(rows / ((sync.ms as number) / 1000))}`,
    `  plain better-sqlite3        random keys ${ref.randomRowsPerSec} rows/s, sequential ${ref.sequentialRowsPerSec} rows/s, same run`,
    `  ratio sync tx/s : reference ${vsRandom} of random, ${vsSequential} of sequential (target 100,000 tx/s is ${(100_000 / (ref.randomRowsPerSec as number)).toFixed(2)} of random here)`,
    `  load average                ${sync.loadBefore} before, ${sync.loadAfter} after (the machine is shared; wall time counts the wait)`,
    `  targets                     >= 100,000 tx/s -> ${txPerSec >= 100_000 ? 'met' : 'NOT met'}; peak RSS < 1,536 MB -> ${(sync.maxRssMb as number) < 1536 ? 'met' : 'NOT met'}`,
  ];
  if (opt('only', '') === 'sync') {
    writeFileSync(join(out, `results-sync-${customers}.json`), `${JSON.stringify({ customers, sync, txPerSec, txStreamPerSec, insertReference: ref, vsRandom, vsSequential }, null, 2)}\n`);
    process.stdout.write(`${syncLines.join('\n')}\n`);
    return;
  }
  process.stderr.write('features + k-means (k=6), with ml-kmeans as reference...\n');
  const fk = phase('features-kmeans', store, '6', 'ref');
  process.stderr.write('segsync segment (k 3..8, silhouette on a 10,000 sample)...\n');
  const seg = phase('segment', config);

  process.stderr.write('CRM API calls against the minimum (nock / loopback fakes)...\n');
  const { hubspotCallCounts } = await import('./hubspot-calls.js');
  const { salesforceCallCounts } = await import('./salesforce-calls.js');
  const hubspot = await hubspotCallCounts({ contacts: 10_000, deals: 20_000, changes: 10_000 });
  const salesforce = await salesforceCallCounts({ contacts: 10_000, opportunities: 5_000, changes: 10_000 });

  const hooks = webhooks();

  const results = {
    apiCalls: { hubspot, salesforce },
    webhooks: hooks,
    customers,
    generated,
    sync: { ...sync, rowsStored: rows, transactions: counts.counts.transactions, txPerSec, txStreamPerSec, rowsPerSec: Math.round(rows / ((sync.ms as number) / 1000)) },
    insertReference: { randomRowsPerSec: ref.randomRowsPerSec, sequentialRowsPerSec: ref.sequentialRowsPerSec },
    syncVsReference: vsRandom,
    syncVsSequentialReference: vsSequential,
    featuresKmeans: fk,
    kmeansSpeedupVsMlKmeans: fk.mlKmeansMs ? Number(((fk.mlKmeansMs as number) / (fk.kmeansMs as number)).toFixed(1)) : null,
    segment: seg,
  };
  writeFileSync(join(out, `results-${customers}.json`), `${JSON.stringify(results, null, 2)}\n`);
  const lines = [
    ...syncLines,
    `features (SQL + matrix)       ${fk.featuresMs} ms for ${fk.rows} x ${fk.d}`,
    `k-means k=6 nInit=1           ${fk.kmeansMs} ms (${fk.iterations} iterations); ml-kmeans ${fk.mlKmeansMs ?? '-'} ms -> ${results.kmeansSpeedupVsMlKmeans}x; peak RSS ${fk.maxRssMb} MB (includes ml-kmeans' arrays)`,
    `segment (auto, k 3..8, nInit 2) ${seg.ms} ms; peak RSS ${seg.maxRssMb} MB (targets < 60,000 ms, < 1,536 MB -> ${(seg.ms as number) < 60_000 && (seg.maxRssMb as number) < 1536 ? 'met' : 'NOT met'})`,
    `HubSpot calls (10k contacts, 20k deals / 10k changes): pull ${hubspot.pullCalls}/${hubspot.pullMinimum}, push ${hubspot.pushCalls}/${hubspot.pushMinimum}`,
    `Salesforce calls (10k contacts, 5k opps / 10k changes): pull ${salesforce.pullCalls}/${salesforce.pullMinimum}, push ${salesforce.pushCalls}/${salesforce.pushMinimum}`,
    `webhooks (10k events/min, 20k customers): ${String(hooks.accepted)} accepted + ${String(hooks.duplicates)} duplicates, ${String(hooks.processed)} applied, ${String(hooks.lost)} lost; answer p99 ${String((hooks.answerMs as { p99: number }).p99)} ms; rate ${String(hooks.rateVsTarget)}x target -> ${hooks.lost === 0 && hooks.non200 === 0 ? 'met' : 'NOT met'}`,
    `targets: >= 100,000 tx/s -> ${txPerSec >= 100_000 ? 'met' : 'NOT met'}; peak RSS < 1,536 MB -> ${Math.max(sync.maxRssMb as number, seg.maxRssMb as number) < 1536 ? 'met' : 'NOT met'}`,
  ];
  process.stdout.write(`${lines.join('\n')}\n`);
  mlVsSklearn();
}

await main();
