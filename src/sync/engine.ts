/**
 * The sync engine: pull pages from each stream, parse every record (quarantining
 * the bad ones), and commit records, rejections and the checkpoint in ONE
 * transaction per page. Contacts sync before transactions so links resolve.
 */
import { DEFAULT_PAGE_SIZE, type AnyConnector, type Checkpoint, type ConnectorContext } from '../connector/contract.js';
import type { Contact, Rejected, Transaction } from '../core/records.js';
import type { ConnectorConfig } from '../config/schema.js';
import type { Logger } from '../core/logger.js';
import type { Progress } from '../core/progress.js';
import type { RetryPolicy } from '../connector/retry.js';
import type { Store } from '../store/index.js';

export interface StreamCounts {
  connector: string;
  stream: 'contacts' | 'transactions';
  read: number;
  upserted: number;
  deleted: number;
  quarantined: number;
  pages: number;
}

export interface SyncDeps {
  store: Store;
  logger: Logger;
  progress: Progress;
  retry: RetryPolicy;
  baseDir: string;
  /** from the config; unset, each stream's default */
  pageSize: number | undefined;
  now: () => Date;
}

export interface SyncOptions {
  runId: number;
  full: boolean;
  signal: AbortSignal;
  /** When given, collects the customers whose records the sync changed (for assignment without retraining). */
  touched?: Set<string>;
}

const STREAMS = ['contacts', 'transactions'] as const;

export async function syncConnector(
  deps: SyncDeps,
  connector: AnyConnector,
  conn: ConnectorConfig,
  opts: SyncOptions,
): Promise<StreamCounts[]> {
  const out: StreamCounts[] = [];
  for (const name of STREAMS) {
    if (opts.signal.aborted) break;
    const stream = connector.streams[name];
    const counts: StreamCounts = { connector: conn.name, stream: name, read: 0, upserted: 0, deleted: 0, quarantined: 0, pages: 0 };
    const log = deps.logger.child({ connector: conn.name, stream: name });
    const task = deps.progress.start(`sync ${conn.name}/${name}`, undefined, 'bytes');

    let from: Checkpoint | undefined;
    if (!opts.full) {
      const saved = deps.store.sync.getCheckpoint(conn.name, name);
      if (saved !== undefined) {
        const parsed = stream.checkpointSchema.safeParse(saved);
        if (parsed.success) from = parsed.data;
        else log.warn({ issues: parsed.error.issues.length }, 'saved checkpoint is not valid for this connector; reading from the start');
      }
    }
    const ctx: ConnectorContext<unknown> = {
      name: conn.name,
      config: conn.settings,
      logger: log,
      signal: opts.signal,
      retry: deps.retry,
      baseDir: deps.baseDir,
      progress: (done, total) => task.update(done, total),
    };
    if (name === 'contacts') deps.store.sync.beginContacts();
    let failed = false;
    let failure: unknown;
    try {
      for await (const page of stream.read(ctx, from, { full: opts.full, pageSize: deps.pageSize ?? stream.defaultPageSize ?? DEFAULT_PAGE_SIZE })) {
        const accepted: (Contact | Transaction)[] = [];
        const locations: (string | undefined)[] = [];
        const rejected: Rejected[] = [];
        for (const raw of page.records) {
          const r = stream.parse(raw, { connector: conn.name, config: conn.settings });
          if (r.ok) {
            accepted.push(r.record);
            locations.push(r.location);
          } else rejected.push(r.rejected);
        }
        const c = deps.store.sync.commitPage({
          runId: opts.runId,
          connector: conn.name,
          stream: name,
          ...(name === 'contacts' ? { contacts: accepted as Contact[] } : { transactions: accepted as Transaction[] }),
          ...(page.deleted ? { deleted: page.deleted } : {}),
          locations,
          rejected,
          checkpoint: page.checkpoint,
          now: deps.now().toISOString(),
          ...(opts.touched ? { touched: opts.touched } : {}),
        });
        counts.read += page.records.length;
        counts.upserted += c.upserted;
        counts.deleted += c.deleted;
        counts.quarantined += c.quarantined;
        counts.pages++;
        for (const r of rejected.slice(0, 3)) log.debug({ location: r.location, reason: r.reason }, 'quarantined');
      }
    } catch (e) {
      failed = true;
      failure = e;
    } finally {
      task.stop();
    }
    if (name === 'contacts') {
      try {
        deps.store.sync.finishContacts();
      } catch (e) {
        // the stream's own error is the one to report; the next sync makes the index
        if (!failed) throw e;
        log.warn({ err: e }, 'could not rebuild the contacts index after a failed sync');
      }
    }
    if (failed) throw failure;
    log.info({ read: counts.read, upserted: counts.upserted, deleted: counts.deleted, quarantined: counts.quarantined, pages: counts.pages }, `synced ${conn.name}/${name}`);
    out.push(counts);
  }
  return out;
}
