/**
 * Wraps a job in a run record and the pipeline lease: one run at a time across
 * processes; a lease left by a crashed process expires instead of blocking.
 */
import { randomUUID } from 'node:crypto';
import { hostname } from 'node:os';
import { ExitCode, UserError, isUserError } from '../core/errors.js';
import type { RunKind, RunStatus } from '../store/runs-repo.js';
import type { JobContext } from './context.js';

const LEASE_JOB = 'pipeline';
const LEASE_TTL_MS = 60_000;

/** A holder on this machine whose process no longer exists cannot be running (a crash or a kill). */
export function holderIsDead(holder: string): boolean {
  const [host, pid] = holder.split(':');
  if (host !== hostname() || !pid || !/^\d+$/.test(pid)) return false;
  try {
    process.kill(Number(pid), 0);
    return false;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'ESRCH';
  }
}

export interface RunOutcome<T> {
  runId: number;
  status: RunStatus;
  result: T;
  counts: Record<string, unknown>;
}

export async function withRun<T>(
  ctx: JobContext,
  kind: RunKind,
  fn: (runId: number) => Promise<{ result: T; counts: Record<string, unknown>; status?: RunStatus }>,
): Promise<RunOutcome<T>> {
  const { store } = ctx;
  const nowIso = (): string => ctx.now().toISOString();
  store.runs.markStaleInterrupted(nowIso(), Date.now());
  const runId = store.runs.start(kind, ctx.trigger, nowIso());
  const holder = `${hostname()}:${process.pid}:${randomUUID()}`;
  const lease = store.runs.acquireLease(LEASE_JOB, runId, holder, LEASE_TTL_MS, Date.now(), holderIsDead);
  if (lease.ok && lease.tookOverFrom !== undefined) {
    store.runs.markInterrupted(lease.tookOverFrom, nowIso());
    ctx.logger.warn({ run: lease.tookOverFrom }, 'took over the lock of a run whose process is gone');
  }
  if (!lease.ok) {
    store.runs.finish(runId, 'skipped', {}, `run ${lease.heldBy} holds the lock`, nowIso());
    throw new UserError('RUN_LOCKED', `another run (#${lease.heldBy}) is in progress`, {
      exitCode: ExitCode.locked,
      hint: 'wait for it to finish; `segsync runs` shows it',
    });
  }
  const renew = setInterval(() => {
    try {
      store.runs.renewLease(LEASE_JOB, holder, LEASE_TTL_MS, Date.now());
    } catch (e) {
      ctx.logger.warn({ err: e }, 'could not renew the run lease');
    }
  }, LEASE_TTL_MS / 3);
  renew.unref();
  try {
    const out = await fn(runId);
    const status: RunStatus = ctx.signal.aborted ? 'interrupted' : (out.status ?? 'succeeded');
    store.runs.finish(runId, status, out.counts, null, nowIso());
    return { runId, status, result: out.result, counts: out.counts };
  } catch (e) {
    const msg = isUserError(e) ? e.oneLine() : e instanceof Error ? `${e.name}: ${e.message}` : String(e);
    try {
      store.runs.finish(runId, ctx.signal.aborted ? 'interrupted' : 'failed', {}, msg, nowIso());
    } catch {
      // the store itself may be what failed; the original error matters more
    }
    throw e;
  } finally {
    clearInterval(renew);
    try {
      store.runs.releaseLease(LEASE_JOB, holder);
    } catch {
      // an expired lease frees itself
    }
  }
}
