/**
 * The scheduler of `segsync serve`: node-cron tasks from the config's
 * `schedule`, each fire a run with trigger "schedule" through the JobRunner.
 *
 * One run at a time (DESIGN invariant 6): all jobs share the pipeline lease.
 * - A fire that finds the SAME job running (here or in another process, or a
 *   `segsync run`, which contains every job) is skipped and recorded as a
 *   skipped run; it is not queued.
 * - A fire that finds ANOTHER job running (the 03:00 segment while the
 *   half-hourly sync still runs) waits for it, at most one waiting fire per job
 *   and at most `maxWaitMs`; a second fire meanwhile, or the timeout, is
 *   recorded as skipped. So nothing queues without bound.
 * - `push: after-segment` fires a push when a scheduled segment run succeeds.
 * - On start, a job whose latest run was interrupted (SIGTERM, a crash, a
 *   killed process) runs again at once: sync resumes from its checkpoints and
 *   push re-plans from what the targets acknowledged.
 *
 * Later triggers slot in beside the cron tasks: the Salesforce near-real-time
 * poll is another timer calling `fire('sync', { connector })`, and HubSpot
 * webhooks call the runner with trigger "webhook".
 */
import { createTask, type ScheduledTask, type Logger as CronLogger } from 'node-cron';
import type { ScheduleConfig } from '../config/schema.js';
import type { Logger } from '../core/logger.js';
import type { Store } from '../store/index.js';
import type { RunKind } from '../store/runs-repo.js';
import { holderIsDead } from '../jobs/with-run.js';
import { JOB_KINDS, type JobKind, type JobParams } from './jobs.js';
import { PIPELINE_LEASE, type JobRunner, type RunEnd } from './runner.js';

export type FireOutcome =
  | { outcome: 'started'; runId: number; done: Promise<RunEnd> }
  | { outcome: 'skipped'; reason: string }
  | { outcome: 'stopped' };

export interface ScheduledJob {
  job: JobKind;
  /** cron expression, or "after-segment" */
  cron: string;
  /** next fire (ISO), null for after-segment */
  next: string | null;
}

export interface SchedulerOptions {
  runner: JobRunner;
  store: Store;
  logger: Logger;
  schedule: ScheduleConfig | undefined;
  now?: () => Date;
  /** How long a fire waits for another job to finish before it is skipped. Default 1 hour. */
  maxWaitMs?: number;
  /** How often a waiting fire looks at the lease. Default 1 s. */
  pollMs?: number;
}

/** A holder of this kind is "the same job" for a fire of `kind`. */
function sameJob(holder: RunKind | null, kind: JobKind): boolean {
  return holder === null || holder === kind || holder === 'run';
}

export class Scheduler {
  private readonly runner: JobRunner;
  private readonly store: Store;
  private readonly logger: Logger;
  private readonly schedule: ScheduleConfig | undefined;
  private readonly now: () => Date;
  private readonly maxWaitMs: number;
  private readonly pollMs: number;
  private readonly tasks = new Map<JobKind, ScheduledTask>();
  private readonly waiting = new Set<JobKind>();
  private readonly sleepers = new Set<() => void>();
  private stopped = false;
  private started = false;

  constructor(opts: SchedulerOptions) {
    this.runner = opts.runner;
    this.store = opts.store;
    this.logger = opts.logger.child({ component: 'scheduler' });
    this.schedule = opts.schedule;
    this.now = opts.now ?? (() => new Date());
    this.maxWaitMs = opts.maxWaitMs ?? 3_600_000;
    this.pollMs = opts.pollMs ?? 1_000;
    this.runner.onFinished((end) => this.afterRun(end));
  }

  /** Starts the cron tasks. Call `resumeInterrupted()` too (it runs in the background). */
  start(): void {
    if (this.started || this.stopped) return;
    this.started = true;
    const s = this.schedule;
    if (!s) return;
    const cronLogger: CronLogger = {
      info: (m) => this.logger.debug(m),
      warn: (m) => this.logger.warn(m),
      error: (m, e) => this.logger.error({ err: e ?? m }, typeof m === 'string' ? m : m.message),
      debug: (m) => this.logger.debug(typeof m === 'string' ? m : m.message),
    };
    for (const kind of JOB_KINDS) {
      const expr = s[kind];
      if (expr === undefined || expr === 'after-segment') continue;
      const task = createTask(
        expr,
        () => {
          this.fire(kind).catch((e: unknown) => this.logger.error({ err: e, job: kind }, `scheduled ${kind} could not start`));
        },
        { timezone: s.timezone, name: `segsync-${kind}`, logger: cronLogger },
      );
      void task.start();
      this.tasks.set(kind, task);
    }
    this.logger.info({ jobs: this.jobs() }, 'scheduler started');
  }

  /** The configured jobs and their next fire. */
  jobs(): ScheduledJob[] {
    const s = this.schedule;
    if (!s) return [];
    const out: ScheduledJob[] = [];
    for (const kind of JOB_KINDS) {
      const expr = s[kind];
      if (expr === undefined) continue;
      const next = this.tasks.get(kind)?.getNextRun() ?? null;
      out.push({ job: kind, cron: expr, next: next ? next.toISOString() : null });
    }
    return out;
  }

  get timezone(): string | undefined {
    return this.schedule?.timezone;
  }

  /**
   * What a cron tick does: start the job with trigger "schedule", wait for a
   * different job to finish first, or record the fire as skipped.
   */
  async fire<K extends JobKind>(kind: K, params: JobParams[K] = {} as JobParams[K]): Promise<FireOutcome> {
    if (this.stopped) return { outcome: 'stopped' };
    if (this.waiting.has(kind)) {
      return this.skip(kind, `an earlier fire of ${kind} is still waiting for the running job to finish`);
    }
    let holder = this.runner.holder();
    if (holder && !sameJob(holder.kind, kind)) {
      this.waiting.add(kind);
      const deadline = Date.now() + this.maxWaitMs;
      const firstHolder = holder;
      this.logger.info({ job: kind, heldBy: holder.runId }, `scheduled ${kind} waits for run #${holder.runId} (${holder.kind}) to finish`);
      try {
        while (holder && !sameJob(holder.kind, kind)) {
          if (Date.now() >= deadline) {
            return this.skip(kind, `waited ${Math.round(this.maxWaitMs / 60_000)} min for run #${firstHolder.runId} (${firstHolder.kind}) to finish`);
          }
          await this.sleep(Math.min(this.pollMs, Math.max(1, deadline - Date.now())));
          if (this.stopped) return { outcome: 'stopped' };
          holder = this.runner.holder();
        }
      } finally {
        this.waiting.delete(kind);
      }
    }
    const r = await this.runner.start(kind, 'schedule', params);
    if (r.started) return { outcome: 'started', runId: r.runId, done: r.done };
    if (r.reason === 'stopping') return { outcome: 'stopped' };
    this.logger.info({ job: kind, heldBy: r.heldBy?.runId }, `scheduled ${kind} skipped: ${r.message}`);
    return { outcome: 'skipped', reason: r.message };
  }

  /**
   * Runs again, in pipeline order, each job whose latest run was interrupted
   * (a run left "running" by a process that is gone counts as interrupted).
   */
  async resumeInterrupted(): Promise<RunEnd[]> {
    const now = this.now().toISOString();
    const lease = this.store.serve.lease(PIPELINE_LEASE);
    if (lease && holderIsDead(lease.holder)) this.store.runs.markInterrupted(lease.runId, now);
    this.store.runs.markStaleInterrupted(now, Date.now());
    const ends: RunEnd[] = [];
    for (const kind of JOB_KINDS) {
      if (this.stopped) break;
      const last = this.store.serve.lastRun(kind);
      if (last?.status !== 'interrupted') continue;
      this.logger.info({ job: kind, run: last.id }, `run #${last.id} (${kind}) was interrupted: running ${kind} again`);
      const r = await this.fire(kind);
      if (r.outcome === 'started') ends.push(await r.done);
    }
    return ends;
  }

  /** Stops the cron tasks and any waiting fire; the runner stops the running job. */
  stop(): void {
    this.stopped = true;
    for (const t of this.tasks.values()) {
      try {
        void t.stop();
        void t.destroy();
      } catch {
        // stopping anyway
      }
    }
    this.tasks.clear();
    for (const wake of this.sleepers) wake();
  }

  private afterRun(end: RunEnd): void {
    if (this.stopped || this.schedule?.push !== 'after-segment') return;
    if (end.kind !== 'segment' || end.trigger !== 'schedule' || end.status !== 'succeeded') return;
    this.fire('push').catch((e: unknown) => this.logger.error({ err: e }, 'push after segment could not start'));
  }

  /** Records a fire that will not run as a skipped run (trigger "schedule"). */
  private skip(kind: JobKind, reason: string): FireOutcome {
    const now = this.now().toISOString();
    const id = this.store.runs.start(kind, 'schedule', now);
    this.store.runs.finish(id, 'skipped', {}, reason, now);
    this.logger.info({ job: kind, run: id }, `scheduled ${kind} skipped: ${reason}`);
    return { outcome: 'skipped', reason };
  }

  private sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const done = (): void => {
        clearTimeout(t);
        this.sleepers.delete(done);
        resolve();
      };
      const t = setTimeout(done, ms);
      this.sleepers.add(done);
    });
  }
}
