/**
 * Parsing a CSV file costs as much CPU as storing it, so it runs on a worker
 * thread: the worker reads, parses and maps rows to canonical records (pure
 * functions) while the main thread commits the previous page. Two pages are in
 * flight at most, so memory stays flat. Where no compiled worker script exists
 * (running from TypeScript sources in tests) the same code runs inline.
 */
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import type { Page } from '../../src/connector/contract.js';
import { UserError, type ErrorCode, type Where } from '../../src/core/errors.js';
import type { ParseResult } from '../../src/core/records.js';
import type { CsvConfig } from './config.js';
import { mapContact, mapTransaction } from './map.js';
import { readCsvPages, type CsvCheckpoint } from './read.js';

export type CsvStreamName = 'contacts' | 'transactions';

export interface ParsedPagesOptions {
  stream: CsvStreamName;
  file: string;
  label: string;
  pageSize: number;
  from: CsvCheckpoint | undefined;
  full: boolean;
  connector: string;
  config: CsvConfig;
}

/** What crosses the thread boundary: no functions, no signals. */
export type WorkerMessage =
  | { kind: 'page'; page: Page; done: number; total: number }
  | { kind: 'end' }
  | { kind: 'error'; user: boolean; code?: ErrorCode; message: string; where?: Where; hint?: string; stack?: string };

const IN_FLIGHT = 2;

/** Pages whose records are already-mapped ParseResults. */
export async function* mapPagesInline(
  o: ParsedPagesOptions,
  signal: AbortSignal,
  progress?: (done: number, total?: number) => void,
): AsyncGenerator<Page> {
  const map = o.stream === 'contacts' ? mapContact : mapTransaction;
  for await (const page of readCsvPages({ ...o, delimiter: o.config.delimiter, signal, progress })) {
    const records: ParseResult<unknown>[] = page.records.map((r) => map(r as Parameters<typeof map>[0], o.connector, o.config));
    yield { ...page, records };
  }
}

function workerScript(): string | undefined {
  const url = new URL('./parse-worker.js', import.meta.url);
  const path = fileURLToPath(url);
  return import.meta.url.endsWith('.js') && existsSync(path) ? path : undefined;
}

export async function* parsedPages(
  o: ParsedPagesOptions,
  signal: AbortSignal,
  progress?: (done: number, total?: number) => void,
): AsyncGenerator<Page> {
  const script = workerScript();
  if (!script) {
    yield* mapPagesInline(o, signal, progress);
    return;
  }
  const worker = new Worker(script, { workerData: o });
  const queue: WorkerMessage[] = [];
  let wake: (() => void) | undefined;
  let exitError: Error | undefined;
  worker.on('message', (m: WorkerMessage) => {
    queue.push(m);
    wake?.();
  });
  worker.on('error', (e) => {
    exitError = e;
    wake?.();
  });
  worker.on('exit', (code) => {
    if (code !== 0 && !exitError) exitError = new Error(`CSV parser thread exited with code ${code}`);
    wake?.();
  });
  const onAbort = (): void => {
    void worker.terminate();
  };
  signal.addEventListener('abort', onAbort, { once: true });
  try {
    for (;;) {
      while (queue.length === 0) {
        if (exitError) throw exitError;
        if (signal.aborted) return;
        await new Promise<void>((r) => {
          wake = r;
        });
        wake = undefined;
      }
      const m = queue.shift() as WorkerMessage;
      if (m.kind === 'end') return;
      if (m.kind === 'error') {
        if (m.user && m.code) {
          throw new UserError(m.code, m.message, { ...(m.where ? { where: m.where } : {}), ...(m.hint ? { hint: m.hint } : {}) });
        }
        const e = new Error(m.message);
        if (m.stack) e.stack = m.stack;
        throw e;
      }
      progress?.(m.done, m.total);
      yield m.page;
      // the page is committed once the consumer asks for the next one
      worker.postMessage('more');
    }
  } finally {
    signal.removeEventListener('abort', onAbort);
    await worker.terminate();
  }
}

export { IN_FLIGHT };
