/**
 * Turns stored change events into real-time runs. The webhook route stores
 * events and calls notify(); the first event of a burst opens a window of
 * `batchWindow`, and everything that arrived by its end is applied by one run
 * (trigger "webhook"), at most `maxBatch` events per run, the next run
 * following at once while more wait.
 *
 * Nothing is lost on the way: events are rows until their run is done.
 * - Another job holds the pipeline lease (a long sync): look again every
 *   `busyRetryMs`, recording nothing (a skipped run every second would bury
 *   the run history).
 * - A run fails (HubSpot down): retry after a backoff that doubles up to 5 min.
 * - Shutdown or a crash: what was not applied is applied by the next start.
 */
import type { AnyConnector } from '../connector/contract.js';
import type { ConnectorConfig, RealtimeConfig } from '../config/schema.js';
import type { Logger } from '../core/logger.js';
import type { JobRunner, RunEnd } from '../schedule/runner.js';
import type { Store } from '../store/index.js';
import { applyChangeBatch } from './apply.js';

export interface ProcessorOptions {
  runner: JobRunner;
  store: Store;
  logger: Logger;
  realtime: Pick<RealtimeConfig, 'batchWindow' | 'maxBatch' | 'dedupeRetention'>;
  source: ConnectorConfig;
  connector: AnyConnector;
  /** Default 1 s. */
  busyRetryMs?: number;
  /** First retry after a failed run; doubles up to maxBackoffMs. Default 5 s. */
  backoffMs?: number;
  maxBackoffMs?: number;
}

export class ChangeProcessor {
  private readonly o: ProcessorOptions;
  private readonly log: Logger;
  private timer: NodeJS.Timeout | undefined;
  private dueAt = Infinity;
  private running: Promise<RunEnd> | undefined;
  private stopped = false;
  private failures = 0;
  private lastPrune = 0;
  private readonly idle: (() => void)[] = [];

  constructor(opts: ProcessorOptions) {
    this.o = opts;
    this.log = opts.logger.child({ component: 'realtime', source: opts.source.name });
  }

  get source(): string {
    return this.o.source.name;
  }

  /** Applies events a previous process left pending. */
  start(): void {
    if (this.o.store.changes.pendingCount(this.source) > 0) this.schedule(0);
  }

  /** New events were stored: apply them when the batch window closes. */
  notify(): void {
    this.schedule(this.o.realtime.batchWindow);
  }

  /** Stops scheduling runs (the runner stops the one in progress). */
  stop(): void {
    this.stopped = true;
    clearTimeout(this.timer);
    this.timer = undefined;
    this.wakeIdle();
  }

  /** Resolves when no event waits and no run is in progress (tests, the bench). */
  whenIdle(): Promise<void> {
    if (this.isIdle()) return Promise.resolve();
    return new Promise((r) => this.idle.push(r));
  }

  private isIdle(): boolean {
    return this.stopped || (this.running === undefined && this.o.store.changes.pendingCount(this.source) === 0);
  }

  private wakeIdle(): void {
    if (!this.isIdle()) return;
    for (const r of this.idle.splice(0)) r();
  }

  /** Runs flush() in `ms`, unless a flush is due sooner already. */
  private schedule(ms: number): void {
    if (this.stopped) return;
    const at = Date.now() + ms;
    if (this.timer && this.dueAt <= at) return;
    clearTimeout(this.timer);
    this.dueAt = at;
    this.timer = setTimeout(() => {
      this.timer = undefined;
      this.dueAt = Infinity;
      this.flush().catch((e: unknown) => {
        this.log.error({ err: e }, 'real-time run could not start');
        this.retryAfterFailure();
      });
    }, ms);
  }

  private retryAfterFailure(): void {
    this.failures++;
    const wait = Math.min(this.o.maxBackoffMs ?? 300_000, (this.o.backoffMs ?? 5_000) * 2 ** (this.failures - 1));
    this.schedule(wait);
  }

  private prune(): void {
    const now = Date.now();
    if (now - this.lastPrune < 60_000) return;
    this.lastPrune = now;
    const n = this.o.store.changes.prune(now - this.o.realtime.dedupeRetention);
    if (n) this.log.debug({ pruned: n }, 'forgot applied change events past the dedupe retention');
  }

  private async flush(): Promise<void> {
    if (this.stopped || this.running) return;
    this.prune();
    const { store, runner, source, connector } = this.o;
    if (store.changes.pendingCount(this.source) === 0) return this.wakeIdle();
    const holder = runner.holder();
    if (holder) {
      this.log.debug({ heldBy: holder.runId }, `change events wait for run #${holder.runId} to finish`);
      return this.schedule(this.o.busyRetryMs ?? 1_000);
    }
    const r = await runner.startBody('realtime', 'webhook', (ctx, runId) => {
      // read under the lease: what this run applies is exactly what it marks done
      const events = store.changes.pending(this.source, this.o.realtime.maxBatch);
      return applyChangeBatch(ctx, runId, source, connector, events);
    });
    if (!r.started) {
      if (r.reason === 'locked') this.schedule(this.o.busyRetryMs ?? 1_000);
      return;
    }
    this.running = r.done;
    const end = await r.done;
    this.running = undefined;
    if (end.status === 'failed' || end.status === 'interrupted') {
      if (this.stopped) return this.wakeIdle();
      this.log.warn({ run: end.runId, error: end.error }, 'real-time run failed; its events stay queued and are retried');
      this.retryAfterFailure();
      return;
    }
    this.failures = 0;
    // more waiting: the rest of a burst bigger than maxBatch goes at once; events that arrived
    // during the run get the rest of their own window, so steady traffic still comes in batches
    const oldest = store.changes.oldestPending(this.source);
    if (oldest !== undefined) this.schedule(Math.max(0, oldest + this.o.realtime.batchWindow - Date.now()));
    else this.wakeIdle();
  }
}
