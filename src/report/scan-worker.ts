/** One thread's share of the map's transactions scan (see scan.ts): its slots of the table, read-only. */
import { parentPort, workerData } from 'node:worker_threads';
import { openStore } from '../store/index.js';
import type { ScanJob } from './scan.js';

const job = workerData as ScanJob;
const store = openStore(job.file, { readonly: true });
try {
  const rows = [...store.report.featuresFor(job.customerIds, { first: job.first, last: job.last }).wonAggregates()];
  parentPort?.postMessage({ ok: true, rows });
} catch (e) {
  parentPort?.postMessage({ ok: false, error: e instanceof Error ? e.message : String(e) });
} finally {
  store.close();
}
