/**
 * Runs jobs in the background of `segsync serve`, for the scheduler and the
 * admin API alike: each through `withRun` (a run record and the pipeline lease,
 * so at most one job runs at a time across processes), on the one shared store
 * connection, with an AbortSignal that shutdown trips so the current page or
 * batch commits and the run ends "interrupted".
 */
import { hostname } from 'node:os';
import { isUserError } from '../core/errors.js';
import { holderIsDead, withRun } from '../jobs/with-run.js';
import type { JobContext } from '../jobs/context.js';
import type { RunKind, RunStatus, RunTrigger } from '../store/runs-repo.js';
import { defaultJobBodies, type JobBodies, type JobKind, type JobOutput, type JobParams } from './jobs.js';

/** The lease `withRun` takes (src/jobs/with-run.ts): one for every kind of job. */
export const PIPELINE_LEASE = 'pipeline';

export interface LeaseHolder {
  runId: number;
  kind: RunKind | null;
  trigger: RunTrigger | null;
  startedAt: string | null;
  /** held by this process */
  ours: boolean;
}

export interface RunEnd {
  runId: number;
  kind: RunKind;
  trigger: RunTrigger;
  status: RunStatus;
  error?: string;
  result?: unknown;
}

export type StartResult =
  | { started: true; runId: number; done: Promise<RunEnd> }
  | { started: false; reason: 'locked'; heldBy: LeaseHolder | null; message: string }
  | { started: false; reason: 'stopping'; message: string };

export interface ActiveRun {
  runId: number;
  kind: RunKind;
  trigger: RunTrigger;
  startedAt: string;
}

export interface RunnerOptions {
  /** Everything a job needs but its trigger and signal. */
  base: Omit<JobContext, 'trigger' | 'signal'>;
  /** Job bodies; tests substitute their own. */
  bodies?: JobBodies;
}

export class JobRunner {
  private readonly base: Omit<JobContext, 'trigger' | 'signal'>;
  private readonly bodies: JobBodies;
  private readonly shutdown = new AbortController();
  private readonly active = new Map<number, ActiveRun & { done: Promise<RunEnd> }>();
  private readonly listeners: ((end: RunEnd) => void)[] = [];
  private readonly ownPrefix = `${hostname()}:${process.pid}:`;

  constructor(opts: RunnerOptions) {
    this.base = opts.base;
    this.bodies = opts.bodies ?? defaultJobBodies;
  }

  get stopping(): boolean {
    return this.shutdown.signal.aborted;
  }

  /** Runs of this process that have not finished. */
  running(): ActiveRun[] {
    return [...this.active.values()].map(({ runId, kind, trigger, startedAt }) => ({ runId, kind, trigger, startedAt }));
  }

  /** Called after every run this runner started has finished and released the lease. */
  onFinished(fn: (end: RunEnd) => void): void {
    this.listeners.push(fn);
  }

  /** The run holding the pipeline lease, in any process; undefined when it is free, expired or its holder died. */
  holder(): LeaseHolder | undefined {
    const { store } = this.base;
    const l = store.serve.lease(PIPELINE_LEASE);
    if (!l || l.expiresAt <= Date.now() || holderIsDead(l.holder)) return undefined;
    const run = store.runs.get(l.runId);
    return {
      runId: l.runId,
      kind: run?.kind ?? null,
      trigger: run?.trigger ?? null,
      startedAt: run?.startedAt ?? null,
      ours: l.holder.startsWith(this.ownPrefix),
    };
  }

  /**
   * Starts a job in the background. Resolves as soon as the run record exists
   * (`started`), or when the lease is taken (`locked`: withRun recorded the
   * attempt as a skipped run) or the runner is shutting down.
   */
  async start<K extends JobKind>(kind: K, trigger: RunTrigger, params: JobParams[K]): Promise<StartResult> {
    const body = this.bodies[kind] as (ctx: JobContext, runId: number, p: JobParams[K]) => Promise<JobOutput>;
    return this.startBody(kind, trigger, (ctx, id) => body(ctx, id, params));
  }

  /**
   * Like start(), for a body that is not one of the scheduled jobs (a
   * real-time run): the same run record, lease, shutdown and listeners.
   */
  async startBody(kind: RunKind, trigger: RunTrigger, body: (ctx: JobContext, runId: number) => Promise<JobOutput>): Promise<StartResult> {
    if (this.stopping) return { started: false, reason: 'stopping', message: 'segsync serve is shutting down' };
    const ctx: JobContext = { ...this.base, trigger, signal: this.shutdown.signal };
    let runId: number | undefined;
    // withRun creates the run and takes the lease synchronously, then calls us: runId is known
    // right after the call returns, or the lease was refused and the promise rejects.
    const outcome = withRun(ctx, kind, async (id) => {
      runId = id;
      // answer the caller (an HTTP request, a cron tick) before CPU-bound work starts
      await new Promise<void>((r) => setImmediate(r));
      return body(ctx, id);
    });
    if (runId === undefined) {
      try {
        await outcome;
      } catch (e) {
        if (isUserError(e) && e.code === 'RUN_LOCKED') {
          const holder = this.holder() ?? null;
          const n = /#(\d+)/.exec(e.message)?.[1];
          const heldBy = holder ?? (n ? { runId: Number(n), kind: null, trigger: null, startedAt: null, ours: false } : null);
          return { started: false, reason: 'locked', heldBy, message: e.message };
        }
        throw e;
      }
      throw new Error('withRun finished without starting its job');
    }
    const id: number = runId;
    const startedAt = this.base.now().toISOString();
    const log = this.base.logger.child({ run: id, kind, trigger });
    log.info(`run #${id} (${kind}, ${trigger}) started`);
    const done: Promise<RunEnd> = outcome
      .then(
        (out): RunEnd => ({ runId: id, kind, trigger, status: out.status, result: out.result }),
        (e: unknown): RunEnd => {
          const msg = isUserError(e) ? e.oneLine() : e instanceof Error ? `${e.name}: ${e.message}` : String(e);
          if (isUserError(e)) log.warn(`run #${id} failed: ${msg}`);
          else log.error({ err: e }, `run #${id} failed with a bug`);
          let status: RunStatus = 'failed';
          try {
            status = this.base.store.runs.get(id)?.status ?? 'failed';
          } catch {
            // the store is what failed
          }
          return { runId: id, kind, trigger, status, error: msg };
        },
      )
      .then((end) => {
        this.active.delete(id);
        log.info(`run #${id} (${kind}) ${end.status}`);
        for (const fn of this.listeners) {
          try {
            fn(end);
          } catch (e) {
            log.error({ err: e }, 'a run listener failed');
          }
        }
        return end;
      });
    this.active.set(id, { runId: id, kind, trigger, startedAt, done });
    return { started: true, runId: id, done };
  }

  /**
   * Stops taking runs and aborts the current ones: they commit their page or
   * batch and end "interrupted". Resolves true when they finished in time;
   * otherwise marks them interrupted itself (the lease of a gone process is
   * taken over on the next start) and resolves false.
   */
  async stop(timeoutMs: number): Promise<boolean> {
    if (!this.stopping) this.shutdown.abort(new Error('segsync serve is stopping'));
    const pending = [...this.active.values()];
    if (pending.length === 0) return true;
    let timer: NodeJS.Timeout | undefined;
    const inTime = await Promise.race([
      Promise.all(pending.map((a) => a.done)).then(() => true),
      new Promise<boolean>((r) => {
        timer = setTimeout(() => r(false), timeoutMs);
      }),
    ]);
    clearTimeout(timer);
    if (!inTime) {
      const now = this.base.now().toISOString();
      for (const a of this.active.values()) {
        try {
          this.base.store.runs.markInterrupted(a.runId, now);
        } catch {
          // nothing more to do on the way out
        }
        this.base.logger.warn({ run: a.runId }, `run #${a.runId} did not stop within ${timeoutMs} ms; marked interrupted`);
      }
    }
    return inTime;
  }
}
