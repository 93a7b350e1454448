/**
 * The bodies of the jobs `segsync serve` runs (scheduled or asked for through
 * the admin API): the same job functions the CLI commands call, with the same
 * counts in the run record.
 */
import { syncJob, type SyncJobResult } from '../jobs/sync.js';
import { assignTouched, type AssignTouchedOutcome } from '../jobs/assign-touched.js';
import { runSegmentation, type SegmentResult } from '../segment/run.js';
import { runPush, type PushResult } from '../push/engine.js';
import type { JobContext } from '../jobs/context.js';
import type { RunStatus } from '../store/runs-repo.js';

export type JobKind = 'sync' | 'segment' | 'push';
export const JOB_KINDS: readonly JobKind[] = ['sync', 'segment', 'push'];

export interface JobParams {
  sync: { connector?: string; full?: boolean };
  segment: { algorithm?: string; k?: number };
  push: { connector?: string; dryRun?: boolean; approve?: boolean };
}

export interface JobOutput {
  result: unknown;
  counts: Record<string, unknown>;
  status?: RunStatus;
}

/** What runs inside the run record and the lease; tests substitute their own. */
export type JobBodies = { [K in JobKind]: (ctx: JobContext, runId: number, params: JobParams[K]) => Promise<JobOutput> };

export function syncCounts(r: SyncJobResult): Record<string, unknown> {
  return { ...r.totals, streams: r.streams };
}

export function pushCounts(r: PushResult): Record<string, unknown> {
  const sum = (k: 'adds' | 'removes' | 'written' | 'failed' | 'rejected'): number => r.targets.reduce((a, t) => a + t[k], 0);
  return {
    modelId: r.modelId,
    held: r.held,
    churn: r.churn,
    dryRun: r.dryRun,
    adds: sum('adds'),
    removes: sum('removes'),
    written: sum('written'),
    failed: sum('failed'),
    rejected: sum('rejected'),
    targets: r.targets,
  };
}

/** Records the CRM rejected for themselves (deleted there) do not fail the run: they are a warning. */
export function pushStatus(r: PushResult): RunStatus {
  if (r.held) return 'held';
  return r.targets.some((t) => t.failed > 0) ? 'failed' : 'succeeded';
}

/**
 * A sync, then the customers it touched placed with the active model (no
 * retrain: that is the segment job). Interrupted, it leaves them marked for
 * the next one.
 */
export async function syncAndAssign(
  ctx: JobContext,
  runId: number,
  p: JobParams['sync'],
): Promise<{ result: { sync: SyncJobResult; assign?: AssignTouchedOutcome }; counts: Record<string, unknown> }> {
  const sync = await syncJob(ctx, runId, { full: p.full === true, ...(p.connector !== undefined ? { connector: p.connector } : {}) });
  if (ctx.signal.aborted) return { result: { sync }, counts: syncCounts(sync) };
  const assign = assignTouched(ctx);
  return { result: { sync, assign }, counts: { ...syncCounts(sync), ...(assign.status === 'no-model' ? {} : { assign }) } };
}

export const defaultJobBodies: JobBodies = {
  sync: syncAndAssign,
  async segment(ctx, runId, p) {
    const r: SegmentResult = runSegmentation(ctx, {
      runId,
      ...(p.algorithm !== undefined ? { algorithm: p.algorithm } : {}),
      ...(p.k !== undefined ? { k: p.k } : {}),
    });
    return { result: r, counts: { ...r } };
  },
  async push(ctx, runId, p) {
    const r = await runPush(ctx, {
      runId,
      dryRun: p.dryRun === true,
      approve: p.approve === true,
      signal: ctx.signal,
      ...(p.connector !== undefined ? { connector: p.connector } : {}),
    });
    return { result: r, counts: pushCounts(r), status: pushStatus(r) };
  },
};
