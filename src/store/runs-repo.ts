/** Run records and the per-job lease that keeps one run per job at a time, across processes. */
import type { Db } from './open.js';

/** realtime: a webhook batch or a short poll, assigned with the active model and pushed for the contacts it touched */
export type RunKind = 'sync' | 'segment' | 'push' | 'run' | 'forget' | 'realtime';
export type RunTrigger = 'manual' | 'schedule' | 'webhook';
export type RunStatus = 'running' | 'succeeded' | 'failed' | 'held' | 'interrupted' | 'skipped';

export interface RunRecord {
  id: number;
  kind: RunKind;
  trigger: RunTrigger;
  startedAt: string;
  finishedAt: string | null;
  status: RunStatus;
  counts: Record<string, unknown>;
  error: string | null;
}

export interface RunRow {
  id: number;
  kind: RunKind;
  trigger: RunTrigger;
  started_at: string;
  finished_at: string | null;
  status: RunStatus;
  counts: string;
  error: string | null;
}

export const toRun = (r: RunRow): RunRecord => ({
  id: r.id,
  kind: r.kind,
  trigger: r.trigger,
  startedAt: r.started_at,
  finishedAt: r.finished_at,
  status: r.status,
  counts: JSON.parse(r.counts) as Record<string, unknown>,
  error: r.error,
});

export function createRunsRepo(db: Db) {
  const ins = db.prepare("INSERT INTO runs (kind, trigger, started_at, status) VALUES (?, ?, ?, 'running')");
  const fin = db.prepare('UPDATE runs SET finished_at = ?, status = ?, counts = ?, error = ? WHERE id = ?');
  const upd = db.prepare('UPDATE runs SET counts = ? WHERE id = ?');
  const get = db.prepare<[number], RunRow>('SELECT * FROM runs WHERE id = ?');
  const list = db.prepare<[number], RunRow>('SELECT * FROM runs ORDER BY id DESC LIMIT ?');
  const lastDrift = db.prepare<[], RunRow>("SELECT * FROM runs WHERE json_extract(counts, '$.drift') IS NOT NULL ORDER BY id DESC LIMIT 1");
  const lastOk = db.prepare<[string], RunRow>("SELECT * FROM runs WHERE kind = ? AND status = 'succeeded' ORDER BY id DESC LIMIT 1");
  const lockGet = db.prepare<[string], { run_id: number; holder: string; expires_at: number }>('SELECT run_id, holder, expires_at FROM locks WHERE job = ?');
  const lockPut = db.prepare(
    `INSERT INTO locks (job, run_id, holder, expires_at) VALUES (?, ?, ?, ?)
     ON CONFLICT (job) DO UPDATE SET run_id = excluded.run_id, holder = excluded.holder, expires_at = excluded.expires_at`,
  );
  const lockRenew = db.prepare('UPDATE locks SET expires_at = ? WHERE job = ? AND holder = ?');
  const lockDel = db.prepare('DELETE FROM locks WHERE job = ? AND holder = ?');
  const staleRunning = db.prepare(
    "UPDATE runs SET status = 'interrupted', finished_at = ? WHERE status = 'running' AND id NOT IN (SELECT run_id FROM locks WHERE expires_at > ?)",
  );

  const acquire = db.transaction(
    (
      job: string,
      runId: number,
      holder: string,
      ttlMs: number,
      nowMs: number,
      isDead: (holder: string) => boolean,
    ): { ok: true; tookOverFrom?: number } | { ok: false; heldBy: number } => {
      const cur = lockGet.get(job);
      if (cur && cur.expires_at > nowMs && cur.holder !== holder) {
        if (!isDead(cur.holder)) return { ok: false, heldBy: cur.run_id };
        lockPut.run(job, runId, holder, nowMs + ttlMs);
        return { ok: true, tookOverFrom: cur.run_id };
      }
      lockPut.run(job, runId, holder, nowMs + ttlMs);
      return { ok: true };
    },
  );

  return {
    start(kind: RunKind, trigger: RunTrigger, now: string): number {
      return Number(ins.run(kind, trigger, now).lastInsertRowid);
    },
    progress(id: number, counts: Record<string, unknown>): void {
      upd.run(JSON.stringify(counts), id);
    },
    finish(id: number, status: RunStatus, counts: Record<string, unknown>, error: string | null, now: string): void {
      fin.run(now, status, JSON.stringify(counts), error, id);
    },
    get(id: number): RunRecord | undefined {
      const r = get.get(id);
      return r ? toRun(r) : undefined;
    },
    list(limit = 20): RunRecord[] {
      return list.all(limit).map(toRun);
    },
    lastSucceeded(kind: RunKind): RunRecord | undefined {
      const r = lastOk.get(kind);
      return r ? toRun(r) : undefined;
    },
    /** The latest run that measured drift (counts.drift). */
    lastWithDrift(): RunRecord | undefined {
      const r = lastDrift.get();
      return r ? toRun(r) : undefined;
    },
    /** Marks runs left "running" by a crashed process (no live lease) as interrupted. */
    markStaleInterrupted(now: string, nowMs: number): number {
      return staleRunning.run(now, nowMs).changes;
    },
    /** Takes the job's lease unless a live holder has it; `isDead` lets a crashed holder's lease be taken over. */
    acquireLease: (job: string, runId: number, holder: string, ttlMs: number, nowMs: number, isDead: (holder: string) => boolean = () => false) =>
      acquire.immediate(job, runId, holder, ttlMs, nowMs, isDead),
    /** Deletes a finished run that left nothing behind (a short poll that found no change), so such runs do not flood the history. */
    discard(id: number): boolean {
      return (
        db
          .prepare("DELETE FROM runs WHERE id = ? AND status = 'succeeded' AND NOT EXISTS (SELECT 1 FROM quarantine WHERE run_id = ?) AND NOT EXISTS (SELECT 1 FROM outbox WHERE run_id = ?) AND NOT EXISTS (SELECT 1 FROM models WHERE run_id = ?)")
          .run(id, id, id, id).changes > 0
      );
    },
    markInterrupted(id: number, now: string): void {
      db.prepare("UPDATE runs SET status = 'interrupted', finished_at = ? WHERE id = ? AND status = 'running'").run(now, id);
    },
    renewLease(job: string, holder: string, ttlMs: number, nowMs: number): void {
      lockRenew.run(nowMs + ttlMs, job, holder);
    },
    releaseLease(job: string, holder: string): void {
      lockDel.run(job, holder);
    },
  };
}

export type RunsRepo = ReturnType<typeof createRunsRepo>;
