/**
 * The map's one scan of the transactions table (its cost grows with the
 * store; everything else the map does is bounded by the 5,000-point sample),
 * split between worker threads by slots of the table when it is big: each
 * worker opens the store read-only and reads its share through the same repo
 * function. Running from TypeScript sources (tests), or for a small table, it
 * stays on this thread.
 */
import { existsSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import type { Store } from '../store/index.js';
import type { TxAggregate } from '../store/features-repo.js';

export interface ScanOptions {
  /** threads to split the scan over (default: the cores, at most 4); 1 keeps it on this thread */
  threads?: number;
  /** the compiled worker script (default: scan-worker.js next to this module, when it is compiled) */
  workerScript?: string | null;
  /** no thread gets fewer rows than this (default 2,000,000: below, starting a worker costs more than it saves) */
  minRowsPerThread?: number;
}

export interface ScanJob {
  file: string;
  customerIds: string[];
  first: number;
  last: number;
}

function defaultScript(): string | null {
  const path = fileURLToPath(new URL('./scan-worker.js', import.meta.url));
  return import.meta.url.endsWith('.js') && existsSync(path) ? path : null;
}

export async function sampleAggregates(store: Store, customerIds: string[], opts: ScanOptions = {}): Promise<{ rows: TxAggregate[]; threads: number }> {
  const slots = store.report.transactionSlots();
  const script = opts.workerScript === undefined ? defaultScript() : opts.workerScript;
  const span = slots ? slots.last - slots.first + 1 : 0;
  const threads = Math.max(1, Math.min(opts.threads ?? Math.min(availableParallelism(), 4), Math.floor(span / (opts.minRowsPerThread ?? 2_000_000))));
  if (!slots || !script || threads <= 1 || store.file === ':memory:' || customerIds.length === 0) {
    return { rows: [...store.report.featuresFor(customerIds).wonAggregates()], threads: 1 };
  }
  const jobs: ScanJob[] = [];
  for (let t = 0; t < threads; t++) {
    const first = slots.first + Math.floor((span * t) / threads);
    const last = slots.first + Math.floor((span * (t + 1)) / threads) - 1;
    jobs.push({ file: store.file, customerIds, first, last });
  }
  const parts = await Promise.all(jobs.map((j) => runWorker(script, j)));
  return { rows: parts.flat(), threads };
}

function runWorker(script: string, job: ScanJob): Promise<TxAggregate[]> {
  return new Promise((resolve, reject) => {
    const w = new Worker(script, { workerData: job });
    let done = false;
    w.once('message', (m: { ok: true; rows: TxAggregate[] } | { ok: false; error: string }) => {
      done = true;
      if (m.ok) resolve(m.rows);
      else reject(new Error(`report scan worker: ${m.error}`));
    });
    w.once('error', (e) => {
      done = true;
      reject(e);
    });
    w.once('exit', (code) => {
      if (!done) reject(new Error(`report scan worker exited with code ${code} before answering`));
    });
  });
}
