/**
 * Bulk API 2.0 query jobs, in our own code: jsforce's bulk2.query() breaks when
 * the results span more than one page, so pages are read here, one GET per
 * page, each naming the next by its Sforce-Locator header.
 *
 * Waiting for the job uses the retry policy's waits (connectors never sleep on
 * their own): a poll that finds the job still running throws a retryable
 * "pending" error carrying the wait it wants.
 */
import { parse } from 'csv-parse/sync';
import { RemoteError } from '../../src/core/errors.js';
import type { SalesforceClient } from './client.js';
import { SalesforceBulkJob, expectShape } from './shapes.js';
import { nestRow } from './soql.js';

/** A job still running: retryable, with the wait before the next poll. */
class JobPending extends RemoteError {
  constructor(state: string, waitMs: number) {
    super('server', `bulk query job is ${state}`, { retryAfterMs: waitMs });
    this.name = 'JobPending';
  }
}

/** Give up waiting for a job after this long. */
const MAX_WAIT_MS = 60 * 60_000;

export async function createQueryJob(client: SalesforceClient, soql: string, scanAll: boolean): Promise<string> {
  const r = await client.send(
    'create bulk query job',
    'POST',
    '/jobs/query',
    { operation: scanAll ? 'queryAll' : 'query', query: soql, contentType: 'CSV', columnDelimiter: 'COMMA', lineEnding: 'LF' },
    // a second job for the same query changes no data: safe to send again
    { idempotent: true },
  );
  return expectShape(SalesforceBulkJob, r.body, 'bulk job').id;
}

export async function waitForJob(client: SalesforceClient, jobId: string, now: () => number = Date.now): Promise<void> {
  const start = now();
  for (let round = 0; ; round++) {
    try {
      await client.retry.run(`bulk query job ${jobId}`, async (attempt) => {
        // after a round of polls ran out of attempts, wait once before polling again
        if (round > 0 && attempt === 1) throw new JobPending('still running', 15_000);
        const r = await client.get(`bulk query job ${jobId}`, `/jobs/query/${jobId}`);
        const job = expectShape(SalesforceBulkJob, r.body, 'bulk job');
        if (job.state === 'JobComplete') return;
        if (job.state === 'Failed' || job.state === 'Aborted') {
          throw new RemoteError('client', `Salesforce bulk query job ${jobId} ${job.state.toLowerCase()}: ${job.errorMessage ?? 'no reason given'}`);
        }
        throw new JobPending(job.state, Math.min(1000 * 2 ** (attempt - 1), 15_000));
      });
      return;
    } catch (e) {
      if (e instanceof JobPending && now() - start < MAX_WAIT_MS) continue;
      if (e instanceof JobPending) throw new RemoteError('server', `Salesforce bulk query job ${jobId} did not finish within ${MAX_WAIT_MS / 60_000} minutes`);
      throw e;
    }
  }
}

export interface ResultPage {
  rows: Record<string, unknown>[];
  /** Locator of the next page; undefined after the last one. */
  next: string | undefined;
}

/** One page of a finished job's results. `locator` undefined = the first page. */
export async function resultPage(client: SalesforceClient, jobId: string, locator: string | undefined, maxRecords: number): Promise<ResultPage> {
  const qs = new URLSearchParams({ maxRecords: String(maxRecords), ...(locator ? { locator } : {}) });
  const r = await client.get<string>(`bulk query results ${jobId}`, `/jobs/query/${jobId}/results?${qs.toString()}`, { text: true });
  const body = typeof r.body === 'string' ? r.body : '';
  const rows = body.trim() === '' ? [] : (parse(body, { columns: true, bom: true, skip_empty_lines: true }) as Record<string, string>[]);
  const loc = r.headers['sforce-locator'];
  return { rows: rows.map(nestRow), next: loc && loc !== 'null' ? loc : undefined };
}

/** True when the job's results are gone (expired or deleted job): start over. */
export function jobGone(e: unknown): boolean {
  return e instanceof RemoteError && e.kind === 'client' && (e.status === 404 || /NOT_FOUND|INVALIDJOB|INVALID_JOB/i.test(e.message));
}
